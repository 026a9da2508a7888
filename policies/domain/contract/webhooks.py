"""The rules of a project's notifications (docs/api.md, "Webhooks"): endpoints, recipients, retries.

Pure: the API and the dashboard read a webhook body or an e-mail recipient through here and
show its problems; the address a URL's host resolves to is judged by ``domain.destinations``,
the limits that need the database are applied by the services.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from policies.domain import destinations
from policies.domain.contract import codes
from policies.domain.contract.volumes import unknown_fields
from policies.domain.event_words import EVENT_WORDS

PING = "ping"
# The events an endpoint or a recipient may subscribe to: every type but ``ping``, which goes
# only to the endpoint that is being tested.
EVENT_TYPES = tuple(event for event in EVENT_WORDS if event != PING)
# What a new endpoint or recipient hears when it names no events: every failure.
DEFAULT_EVENTS = ("backup.failed", "run.missed", "backup.verify_failed", "restore.failed")
# Enough for a chat, an incident tool and a few scripts; each one is tried on every event.
MAX_ENDPOINTS = 10
MAX_RECIPIENTS = 10
URL_MAX = 2000
DESCRIPTION_MAX = 255
ADDRESS_MAX = 254
WEBHOOK_FIELDS = ("url", "events", "description")

# Seconds to wait after each failed try: 8 tries over 27 h 35 min (the Standard Webhooks
# specification's suggested schedule), then the delivery is given up.
RETRY_DELAYS = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1

_EMAIL = re.compile(r"[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;.]+")


@dataclass(frozen=True)
class Target:
    """A URL split into what a delivery connects to."""

    scheme: str
    host: str  # lower case; an IPv6 address without brackets
    port: int
    path: str  # path and query, at least "/"

    @property
    def host_header(self) -> str:
        shown = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return shown if self.port == default else f"{shown}:{self.port}"


@dataclass(frozen=True)
class WebhookBody:
    url: str
    target: Target
    events: tuple[str, ...]
    description: str


def retry_delay(attempts: int) -> int | None:
    """Seconds until the next try after ``attempts`` failed ones; None: give up."""
    return RETRY_DELAYS[attempts - 1] if 1 <= attempts <= len(RETRY_DELAYS) else None


def _problem(field: str, code: str, detail: str, kind: str = codes.PREDICATE) -> codes.Problem:
    return codes.Problem(field, code, detail, kind)


def parse_url(value: object, *, allow_http: bool, field: str = "webhook.url") -> tuple[Target | None, list]:
    """The target of an endpoint's URL, or the problem with it (shape only, no address)."""
    target = _read_url(value, allow_http)
    if isinstance(target, str):
        return None, [_problem(field, codes.WEBHOOK_URL, target)]
    return target, []


def _read_url(value: object, allow_http: bool) -> Target | str:
    """The target of a URL, or what is wrong with it in the words of a problem's detail."""
    parts = _split_url(value, allow_http)
    if isinstance(parts, str):
        return parts
    if parts.username is not None or parts.password is not None:
        return "must not carry a user name or password; check the signature instead (webhook-signature)"
    host = _ascii_host(parts.hostname or "")
    if host is None:
        return "has a host name that is not valid"
    path = parts.path or "/"
    if parts.query:
        path += f"?{parts.query}"
    default = 443 if parts.scheme == "https" else 80
    return Target(parts.scheme, host, parts.port or default, path)


def _split_url(value: object, allow_http: bool) -> SplitResult | str:
    """A URL split into its parts, with a scheme this server sends to and a host."""
    if not isinstance(value, str) or not value:
        return f"is required; give an absolute {_scheme_words(allow_http)} URL"
    if len(value) > URL_MAX or any(_blank_or_control(ch) for ch in value):
        return f"must be a URL of at most {URL_MAX} characters without spaces"
    try:
        parts = urlsplit(value)
        # Reading them is what refuses a port that is not a number or a bad bracketed host.
        host, _port = parts.hostname, parts.port
    except ValueError:
        return "is not a valid URL; give e.g. https://example.com/hook"
    if wrong_scheme := _scheme_problem(parts.scheme, allow_http):
        return wrong_scheme
    if not host:
        return "names no host; give e.g. https://example.com/hook"
    return parts


def _blank_or_control(ch: str) -> bool:
    return ch.isspace() or ord(ch) < 32 or ord(ch) == 127


def _scheme_words(allow_http: bool) -> str:
    return "http or https" if allow_http else "https"


def _scheme_problem(scheme: str, allow_http: bool) -> str | None:
    if scheme == "https" or (allow_http and scheme == "http"):
        return None
    if scheme == "http":
        return "must use https: this server sends webhooks over https only (WEBHOOK_ALLOW_HTTP)"
    return "must start with http:// or https://" if allow_http else "must start with https://"


def _ascii_host(host: str) -> str | None:
    """A host name as it goes on the wire (IDNA); an address as it is; None: not a valid name."""
    if destinations.parse_address(host) is not None:
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return None


def parse_events(value: object, field: str) -> tuple[tuple[str, ...], list]:
    """The event types of a subscription: a non-empty list of known types, each once."""
    known = ", ".join(EVENT_TYPES)
    if not isinstance(value, list) or not value:
        return (), [
            _problem(field, codes.WEBHOOK_EVENTS, f"must be a non-empty list of event types: {known}")
        ]
    problems: list = []
    for index, item in enumerate(value):
        if not isinstance(item, str) or item not in EVENT_TYPES:
            shown = repr(item) if isinstance(item, str) else "a non-string"
            problems.append(
                _problem(
                    f"{field}[{index}]",
                    codes.WEBHOOK_EVENTS,
                    f"{shown[:80]} is not an event type; use one of {known}",
                    codes.QUOTE if isinstance(item, str) else codes.STATEMENT,
                )
            )
        elif value.index(item) != index:
            problems.append(
                _problem(f"{field}[{index}]", codes.WEBHOOK_EVENTS, f"repeats {item!r}; name each event once")
            )
    return (() if problems else tuple(value)), problems


def parse_webhook_body(body: object, *, allow_http: bool) -> tuple[WebhookBody | None, list]:
    """Read ``{"webhook": {"url", "events", "description"?}}``: the endpoint, or every problem."""
    if not isinstance(body, Mapping):
        return None, [
            _problem(
                "body", codes.BAD_FIELD, "the body must be a JSON object {'webhook': {...}}", codes.REQUEST
            )
        ]
    problems = list(unknown_fields(body, ("webhook",)))
    inner = body.get("webhook")
    if not isinstance(inner, Mapping):
        return None, [
            *problems,
            _problem("webhook", codes.BAD_FIELD, "is required and must be a JSON object"),
        ]
    problems.extend(
        codes.Problem(
            f"webhook.{p.field}", p.code, p.detail.replace(f"'{p.field}'", f"'webhook.{p.field}'"), p.kind
        )
        for p in unknown_fields(inner, WEBHOOK_FIELDS)
    )
    target, url_problems = parse_url(inner.get("url"), allow_http=allow_http)
    problems.extend(url_problems)
    events, event_problems = parse_events(inner.get("events"), "webhook.events")
    problems.extend(event_problems)
    description = inner.get("description")
    if description is None:
        description = ""
    elif not isinstance(description, str) or len(description) > DESCRIPTION_MAX:
        problems.append(
            _problem(
                "webhook.description",
                codes.WEBHOOK_DESCRIPTION,
                f"must be a string of at most {DESCRIPTION_MAX} characters",
            )
        )
    if problems or target is None:
        return None, problems
    return WebhookBody(inner["url"], target, events, description), []


def address_problem(
    destination: destinations.Destination, target: Target, field: str = "webhook.url"
) -> codes.Problem:
    """The refusal of a URL whose host did not resolve, or resolves to an address not allowed."""
    if destination.unresolved:
        detail = (
            f"host {target.host!r} does not resolve ({destination.unresolved}); give a host name that does"
        )
    else:
        address, kind = destination.refused or (None, "")
        detail = (
            f"host {target.host!r} resolves to {address}, a {kind} address, which webhooks may not reach; "
            "give a public address (WEBHOOK_ALLOW_PRIVATE allows private ones on closed networks)"
        )
    return _problem(field, codes.WEBHOOK_ADDRESS, detail, codes.STATEMENT)


def webhook_not_found_problem(webhook_id: object) -> codes.Problem:
    shown = str(webhook_id)
    shown = shown if len(shown) <= 64 else shown[:63] + "…"
    return _problem(
        "webhook_id",
        codes.WEBHOOK_NOT_FOUND,
        f"the project has no webhook {shown!r}; list the project's webhooks for their IDs",
        codes.STATEMENT,
    )


def limit_problem(what: str, limit: int) -> codes.Problem:
    """The refusal of one endpoint (or recipient) too many: ``what`` is "webhook" or "recipient"."""
    return _problem(
        "body",
        codes.WEBHOOK_LIMIT,
        f"the project already has {limit} {what}s, the most it may have; remove one first",
        codes.REQUEST,
    )


def parse_recipient(address: object, events: object) -> tuple[tuple[str, tuple[str, ...]] | None, list]:
    """An e-mail recipient: its address (lower case) and events, or every problem."""
    problems: list = []
    text = address.strip() if isinstance(address, str) else ""
    if not text or len(text) > ADDRESS_MAX or not _EMAIL.fullmatch(text):
        problems.append(
            _problem("address", codes.RECIPIENT_ADDRESS, "must be an e-mail address such as ops@example.com")
        )
    chosen, event_problems = parse_events(events, "events")
    problems.extend(event_problems)
    return (None, problems) if problems else ((text.lower(), chosen), [])


def recipient_taken_problem(address: str) -> codes.Problem:
    return _problem(
        "address", codes.RECIPIENT_ADDRESS, f"{address!r} already receives this project's e-mail", codes.QUOTE
    )
