"""One webhook POST: to the address just checked, never redirected, with a short timeout and a capped read.

The host is resolved here and every address it gives is judged by the core's rule
(``domain.destinations``); the connection then goes to one of those very addresses, with the
URL's host in the Host header and, over https, in the TLS server name and certificate check. A
name that resolves to a public address when checked and to a private one a moment later (DNS
rebinding) therefore never reaches the private one.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass

import urllib3
from django.conf import settings

from policies.domain import destinations
from policies.domain.contract.webhooks import Target

# What is kept of an answer: enough to show a person why it was refused.
EXCERPT_BYTES = 500
USER_AGENT = "BackupPolicyConsole-Webhooks/1"


def system_resolve(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to, by the system's resolver."""
    return [info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


@dataclass(frozen=True)
class Answer:
    status: int | None = None  # None: no HTTP answer (refused, timed out, not allowed)
    excerpt: str = ""
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def destination_of(target: Target, resolve=None) -> destinations.Destination:
    """The target's addresses, checked under the settings (WEBHOOK_ALLOW_PRIVATE)."""
    return destinations.check_destination(
        target.host,
        target.port,
        resolve or system_resolve,
        allow_private=settings.WEBHOOK_ALLOW_PRIVATE,
    )


def post(target: Target, body: bytes, headers: dict[str, str], *, resolve=None) -> Answer:
    """POST ``body`` to ``target``; the answer's status and start, or why there was none."""
    destination = destination_of(target, resolve)
    if destination.unresolved:
        return Answer(error=f"host {target.host} does not resolve: {destination.unresolved}")
    if destination.refused is not None:
        address, kind = destination.refused
        return Answer(error=f"not sent: {target.host} resolves to {address}, a {kind} address")
    address = str(destination.addresses[0])
    timeout = urllib3.Timeout(connect=settings.WEBHOOK_TIMEOUT_SECONDS, read=settings.WEBHOOK_TIMEOUT_SECONDS)
    options: dict = {"timeout": timeout, "retries": False, "maxsize": 1}
    if target.scheme == "https":
        pool: urllib3.HTTPConnectionPool = urllib3.HTTPSConnectionPool(
            address,
            target.port,
            server_hostname=target.host,
            assert_hostname=target.host,
            cert_reqs="CERT_REQUIRED",
            **options,
        )
    else:
        pool = urllib3.HTTPConnectionPool(address, target.port, **options)
    sent = {
        **headers,
        "Host": target.host_header,
        "User-Agent": USER_AGENT,
        "Content-Type": "application/json",
    }
    try:
        with pool:
            response = pool.urlopen(
                "POST",
                target.path,
                body=body,
                headers=sent,
                redirect=False,
                retries=False,
                preload_content=False,
                assert_same_host=False,
            )
            try:
                excerpt = response.read(EXCERPT_BYTES, decode_content=False) or b""
            finally:
                response.release_conn()
                response.close()
    except urllib3.exceptions.TimeoutError:
        return Answer(error=f"no answer within {settings.WEBHOOK_TIMEOUT_SECONDS} s")
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        return Answer(error=_short(exc))
    return Answer(status=response.status, excerpt=excerpt.decode("utf-8", "replace"))


def _short(exc: Exception) -> str:
    reason = getattr(exc, "reason", None) or exc
    return str(reason)[:300] or exc.__class__.__name__
