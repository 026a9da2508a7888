"""A stand-in of the few Cinder v3 calls the openstack provider makes (and Keystone's token).

Written from the published API references (Identity v3 "Password authentication with scoped
authorization", Block Storage v3 "Volumes", "Backups"), for openstacksdk to talk to in tests:
real HTTP on a local port, nothing else. Backups become ``available`` after ``polls_to_finish``
reads, or ``error`` when the volume's name starts with ``broken``; a volume restored from a
backup likewise becomes ``available``, or ``error_restoring`` when its name starts with ``broken``.
"""

import json
import re
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PROJECT = "a1b2c3d4e5f60718293a4b5c6d7e8f90"


class Cinder:
    def __init__(self) -> None:
        self.volumes: dict[str, dict] = {}
        self.backups: dict[str, dict] = {}
        self.reads: dict[str, int] = {}
        self.polls_to_finish = 1
        self.fail_next_create: int | None = None  # an HTTP status to answer once
        self.lock = threading.Lock()

    def add_volume(self, name: str, size: int = 1, status: str = "available") -> str:
        volume_id = str(uuid.uuid4())
        self.volumes[volume_id] = {
            "id": volume_id,
            "name": name,
            "size": size,
            "status": status,
            "availability_zone": "nova",
            "os-vol-host-attr:host": "cinder-1@lvm#pool",
            "links": [],
        }
        return volume_id


def make_handler(cinder: Cinder, base: list[str]):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet
            pass

        def _send(self, status: int, body=None, headers=None) -> None:
            raw = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(raw)

        def _body(self):
            length = int(self.headers.get("Content-Length") or 0)
            return json.loads(self.rfile.read(length) or b"{}")

        def _versions(self, prefix: str) -> dict:
            return {
                "versions": [
                    {
                        "id": "v3.0",
                        "status": "CURRENT",
                        "version": "3.60",
                        "min_version": "3.0",
                        "links": [{"rel": "self", "href": f"{base[0]}/{prefix}/v3/"}],
                    }
                ]
            }

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            path = self.path.split("?")[0].rstrip("/")
            query = self.path.partition("?")[2]
            if path in ("/identity", "/identity/v3"):
                return self._send(
                    200,
                    {
                        "version": {
                            "id": "v3.14",
                            "status": "stable",
                            "links": [{"rel": "self", "href": f"{base[0]}/identity/v3/"}],
                        }
                    },
                )
            if path in ("/volume", "/volume/v3"):
                return self._send(200, self._versions("volume"))
            match = re.fullmatch(rf"/volume/v3/{PROJECT}/(volumes|backups)(?:/detail)?", path)
            if match and match.group(1) == "volumes":
                return self._send(200, {"volumes": list(cinder.volumes.values())})
            if match:
                name = re.search(r"name=([^&]+)", query)
                found = [b for b in cinder.backups.values() if not name or b["name"] == name.group(1)]
                return self._send(200, {"backups": found})
            match = re.fullmatch(rf"/volume/v3/{PROJECT}/volumes/([0-9a-f-]+)", path)
            if match and match.group(1) in cinder.volumes:
                with cinder.lock:
                    volume = cinder.volumes[match.group(1)]
                    cinder.reads[volume["id"]] = cinder.reads.get(volume["id"], 0) + 1
                    if (
                        volume["status"] == "restoring-backup"
                        and cinder.reads[volume["id"]] >= cinder.polls_to_finish
                    ):
                        volume["status"] = (
                            "error_restoring" if volume["name"].startswith("broken") else "available"
                        )
                return self._send(200, {"volume": volume})
            match = re.fullmatch(rf"/volume/v3/{PROJECT}/backups/([0-9a-f-]+)", path)
            if match and match.group(1) in cinder.backups:
                with cinder.lock:
                    backup = cinder.backups[match.group(1)]
                    cinder.reads[backup["id"]] = cinder.reads.get(backup["id"], 0) + 1
                    if (
                        backup["status"] == "creating"
                        and cinder.reads[backup["id"]] >= cinder.polls_to_finish
                    ):
                        volume = cinder.volumes[backup["volume_id"]]
                        if volume["name"].startswith("broken"):
                            backup["status"], backup["fail_reason"] = "error", "the backup driver failed"
                        else:
                            backup["status"] = "available"
                return self._send(200, {"backup": backup})
            return self._send(404, {"itemNotFound": {"code": 404, "message": "not found"}})

        def do_POST(self) -> None:  # noqa: N802
            path = self.path.rstrip("/")
            if path == "/identity/v3/auth/tokens":
                self._body()
                token = {
                    "token": {
                        "expires_at": "2099-01-01T00:00:00.000000Z",
                        "issued_at": "2026-01-01T00:00:00.000000Z",
                        "methods": ["password"],
                        "user": {"id": "u1", "name": "demo", "domain": {"id": "default", "name": "Default"}},
                        "project": {
                            "id": PROJECT,
                            "name": "demo",
                            "domain": {"id": "default", "name": "Default"},
                        },
                        "catalog": [
                            {
                                "type": "block-storage",
                                "name": "cinder",
                                "id": "c1",
                                "endpoints": [
                                    {
                                        "id": "e1",
                                        "interface": "public",
                                        "region": "RegionOne",
                                        "region_id": "RegionOne",
                                        "url": f"{base[0]}/volume/v3/{PROJECT}",
                                    }
                                ],
                            }
                        ],
                    }
                }
                return self._send(201, token, {"X-Subject-Token": "standin-token"})
            match = re.fullmatch(rf"/volume/v3/{PROJECT}/backups/([0-9a-f-]+)/restore", path)
            if match and match.group(1) in cinder.backups:
                request = self._body()["restore"]
                backup = cinder.backups[match.group(1)]
                volume_id = cinder.add_volume(request["name"], size=backup["size"], status="restoring-backup")
                restored = {"backup_id": backup["id"], "volume_id": volume_id, "volume_name": request["name"]}
                return self._send(202, {"restore": restored})
            if path == f"/volume/v3/{PROJECT}/backups":
                if cinder.fail_next_create is not None:
                    status, cinder.fail_next_create = cinder.fail_next_create, None
                    return self._send(status, {"overLimit": {"code": status, "message": "busy, try later"}})
                request = self._body()["backup"]
                if request["volume_id"] not in cinder.volumes:
                    return self._send(404, {"itemNotFound": {"code": 404, "message": "volume not found"}})
                backup_id = str(uuid.uuid4())
                volume = cinder.volumes[request["volume_id"]]
                cinder.backups[backup_id] = {
                    "id": backup_id,
                    "name": request.get("name"),
                    "volume_id": request["volume_id"],
                    "status": "creating",
                    "size": volume["size"],
                    "fail_reason": None,
                    "links": [],
                }
                return self._send(
                    202, {"backup": {"id": backup_id, "name": request.get("name"), "links": []}}
                )
            return self._send(404, {"itemNotFound": {"code": 404, "message": "not found"}})

        def do_DELETE(self) -> None:  # noqa: N802
            match = re.fullmatch(rf"/volume/v3/{PROJECT}/backups/([0-9a-f-]+)", self.path.rstrip("/"))
            if match and cinder.backups.pop(match.group(1), None) is not None:
                return self._send(202)
            return self._send(404, {"itemNotFound": {"code": 404, "message": "not found"}})

    return Handler


def serve(cinder: Cinder) -> tuple[ThreadingHTTPServer, str]:
    base: list[str] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(cinder, base))
    base.append(f"http://127.0.0.1:{server.server_address[1]}")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, base[0]
