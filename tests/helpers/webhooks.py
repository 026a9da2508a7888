"""A real webhook receiver on 127.0.0.1 that checks each signature, and a stub resolver for the URL rule."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    verified: object = None  # the payload the signature check returned, or None
    error: str = ""
    answered: int = 0  # the status it was answered (0 while held)


@dataclass
class Receiver:
    """Answers ``status`` (200 by default) to each POST and keeps what it got, verified with ``secret``.

    ``status`` may be changed while it runs (503: down); ``hold`` makes it wait before answering
    until the event is set (a worker killed mid-delivery).
    """

    status: int = 200
    answer: bytes = b'{"ok": true}'
    secret: str = ""
    hold: threading.Event | None = None
    got: list[Received] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)
    server: ThreadingHTTPServer | None = None
    port: int = 0  # 0: any free port; a port given: the one a stopped receiver had
    location: str = ""  # sent as Location (a redirect a delivery must not follow)
    _held: threading.Event | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hooks/bpc"

    def accepted_ids(self) -> list[str]:
        """The webhook-id of each request answered 2xx whose signature checked out, in order."""
        return [
            r.headers["webhook-id"] for r in self.got if r.verified is not None and r.answered // 100 == 2
        ]

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the stdlib's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                received = Received(headers, body)
                try:
                    received.verified = Webhook(receiver.secret).verify(body, headers)
                except (WebhookVerificationError, ValueError) as exc:
                    received.error = str(exc)
                receiver.got.append(received)
                receiver.arrived.set()
                hold = receiver.hold
                if hold is not None:
                    receiver._held = hold
                    hold.wait(60)
                received.answered = receiver.status
                self.send_response(receiver.status)
                self.send_header("Content-Type", "application/json")
                if receiver.location:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", str(len(receiver.answer)))
                self.end_headers()
                self.wfile.write(receiver.answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_address[1]
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def hold_release(self) -> None:
        """Let the requests held so far be answered."""
        if self._held is not None:
            self._held.set()

    def stop(self) -> None:
        for hold in (self.hold, self._held):
            if hold is not None:
                hold.set()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def payloads(self) -> list[dict]:
        return [json.loads(r.body) for r in self.got]


def stub_resolver(table: dict[str, list[str]]):
    """A resolver that answers from ``table`` and sends nothing anywhere; an unknown name fails."""
    asked: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        if host not in table:
            raise OSError(f"[Errno -2] Name or service not known: {host}")
        return table[host]

    resolve.asked = asked
    return resolve
