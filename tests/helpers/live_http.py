"""Send requests over a real socket to pytest-django's ``live_server``, as a remote client does, or
the same request through Django's test client where no socket changes the answer."""

import http.client
import json
from dataclasses import dataclass
from urllib.parse import urlsplit

from tests.helpers.api import assert_envelope


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    raw: bytes

    @property
    def body(self):
        return json.loads(self.raw)

    def error(self, status: int, code: str) -> dict:
        assert self.status == status, (self.status, self.raw)
        assert self.headers["Content-Type"].startswith("application/json")
        return assert_envelope(status, self.body, code)


def _prepared(body, token, headers) -> tuple[bytes | None, dict[str, str]]:
    """The body as bytes, and the headers: JSON both ways, the token, then the caller's own."""
    raw = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    sent = {"Content-Type": "application/json", "Accept": "application/json"}
    if token is not None:
        sent["X-Auth-Token"] = token
    sent.update(headers or {})
    return raw, sent


def send(live_server, method: str, path: str, body=None, *, token=None, headers=None) -> Answer:
    """Send one request on a new connection; never follow a redirect."""
    address = urlsplit(live_server.url)
    raw, sent = _prepared(body, token, headers)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
    try:
        connection.request(method, path, body=raw, headers=sent)
        response = connection.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        connection.close()


def send_in_process(client, method: str, path: str, body=None, *, token=None, headers=None) -> Answer:
    """The same request through Django's test client: for an answer that no socket changes."""
    raw, sent = _prepared(body, token, headers)
    content_type = sent.pop("Content-Type")
    response = client.generic(method, path, data=raw or b"", content_type=content_type, headers=sent)
    return Answer(response.status_code, response.headers, response.content)
