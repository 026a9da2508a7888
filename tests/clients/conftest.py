"""Real VBS clients against the live server: the OTC SDK (``otcextensions`` on ``openstacksdk``)
and the ``openstack vbs policy`` commands.

Both find the VBS endpoint in an OpenStack identity catalog, so the tests serve a minimal
stand-in of the Keystone v3 token endpoint (``POST /v3/auth/tokens``): it answers a token (the
raw API token this server issued) and a catalog whose ``vbs`` service is the live server's
``/v2/{project_id}``. Nothing else is faked: every VBS request goes over HTTP to the real API.
"""

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from policies.models import BackupPolicy

REGION = "eu-de"
USER = {"id": "alice-id", "name": "alice", "domain": {"id": "default", "name": "Default"}}


class IdentityStandIn:
    """Keystone v3's token endpoint, and only it: one token, one catalog naming the server."""

    def __init__(self, *, token: str, project_id: str, vbs_url: str) -> None:
        self.token = token
        self.project_id = project_id
        self.vbs_url = vbs_url
        self.requests: list[dict] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def auth_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/v3"

    def token_body(self) -> dict:
        now = datetime.now(UTC)
        stamp = "%Y-%m-%dT%H:%M:%S.000000Z"
        return {
            "token": {
                "methods": ["password"],
                "issued_at": now.strftime(stamp),
                "expires_at": (now + timedelta(hours=1)).strftime(stamp),
                "user": USER,
                "project": {"id": self.project_id, "name": self.project_id, "domain": USER["domain"]},
                "roles": [{"id": "member-id", "name": "member"}],
                "catalog": [
                    {
                        "id": "vbs-service",
                        "type": "vbs",
                        "name": "vbs",
                        "endpoints": [
                            {
                                "id": "vbs-public",
                                "interface": "public",
                                "region": REGION,
                                "region_id": REGION,
                                "url": self.vbs_url,
                            }
                        ],
                    }
                ],
            }
        }

    def _handler(self):
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (the name http.server calls)
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"null")
                stand_in.requests.append({"path": self.path, "body": body})
                if self.path.rstrip("/") != "/v3/auth/tokens":
                    self.send_error(404)
                    return
                answer = json.dumps(stand_in.token_body()).encode()
                self.send_response(201)
                self.send_header("X-Subject-Token", stand_in.token)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format, *args):  # noqa: A002 (http.server's signature)
                pass

        return Handler

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def identity(live_server, tenant, token):
    with IdentityStandIn(
        token=token, project_id=tenant.project_id, vbs_url=f"{live_server.url}/v2/{tenant.project_id}"
    ) as stand_in:
        yield stand_in


@pytest.fixture
def clean_environment(monkeypatch, tmp_path):
    """No OS_* variable or clouds.yaml of the machine may point the clients elsewhere."""
    import os

    for name in list(os.environ):
        if name.startswith("OS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / ".config"))


def stored(policy_id) -> dict:
    """The stored policy as a create body: what the server really holds."""
    return BackupPolicy.objects.get(pk=policy_id).to_spec().to_payload()


@pytest.fixture
def vbs(identity, tenant, clean_environment):
    """The OTC SDK's VBS proxy (``conn.volume_backup``), signed in through the identity stand-in."""
    import openstack
    from otcextensions import sdk

    conn = openstack.connect(
        auth_type="v3password",
        auth={
            "auth_url": identity.auth_url,
            "username": USER["name"],
            "password": "not-checked-by-the-stand-in",
            "project_id": tenant.project_id,
            "user_domain_name": USER["domain"]["name"],
        },
        region_name=REGION,
        load_yaml_config=False,
        load_envvars=False,
    )
    sdk.register_otc_extensions(conn)
    yield conn.volume_backup
    conn.close()
