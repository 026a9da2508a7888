"""A stand-in of Keystone v3's token endpoint for the real VBS clients (tests/clients/).

Both the OTC SDK and the ``openstack`` commands find the VBS endpoint in an identity catalog: this
answers a token (the raw API token this server issued) and a catalog whose ``vbs`` service is the
live server's ``/v2/{project_id}`` (and, when asked, its block-storage endpoints). Nothing else is faked.
"""

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from policies.models import BackupPolicy

REGION = "eu-de"


USER = {"id": "alice-id", "name": "alice", "domain": {"id": "default", "name": "Default"}}


class IdentityStandIn:
    """Keystone v3's token endpoint, and only it: one token, one catalog naming the server."""

    def __init__(self, *, token: str, project_id: str, vbs_url: str, server_url: str | None = None) -> None:
        self.token = token
        self.project_id = project_id
        self.vbs_url = vbs_url
        # With the server's root: its block-storage endpoints too (volumev2, volumev3, block-storage).
        self.server_url = server_url
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
                "catalog": self.catalog(),
            }
        }

    def catalog(self) -> list[dict]:
        services = [("vbs", self.vbs_url)]
        if self.server_url is not None:
            # python-openstackclient's backup list asks for an identity client, even unused.
            services.append(("identity", self.auth_url))
            block_storage = f"{self.server_url}/volume/v3/{self.project_id}"
            services += [
                ("volumev2", f"{self.server_url}/v2/{self.project_id}"),
                ("volumev3", block_storage),
                ("block-storage", block_storage),
            ]
        return [
            {
                "id": f"{kind}-service",
                "type": kind,
                "name": kind,
                "endpoints": [
                    {
                        "id": f"{kind}-public",
                        "interface": "public",
                        "region": REGION,
                        "region_id": REGION,
                        "url": url,
                    }
                ],
            }
            for kind, url in services
        ]

    def _handler(self):
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (the name http.server calls)
                # Keystone's version document, for a client that discovers the identity API.
                if self.path.rstrip("/") not in ("", "/v3"):
                    self.send_error(404)
                    return
                version = {
                    "id": "v3.14",
                    "status": "stable",
                    "updated": "2020-04-07T00:00:00Z",
                    "links": [{"rel": "self", "href": f"{stand_in.auth_url}/"}],
                    "media-types": [
                        {"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}
                    ],
                }
                answer = json.dumps({"version": version}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

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


def stored(policy_id) -> dict:
    """The stored policy as a create body: what the server really holds."""
    return BackupPolicy.objects.get(pk=policy_id).to_spec().to_payload()
