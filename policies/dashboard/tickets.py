"""One-use tickets: a form whose answer shows a secret once may be acted on once.

Reloading the answer to a POST sends it again; a form that makes a secret (an API token, a
webhook's signing secret) would make a second one, and show it, each time. Each such form carries
a ticket kept in the session when the form is drawn; the POST that acts spends it, and a POST
whose ticket is spent (or unknown: expired, another session) acts on nothing. The last few
tickets of each kind are kept, so several tabs each drawn with its own form all work.
"""

import secrets

from django.http import HttpRequest

KEPT = 20


def issue(request: HttpRequest, kind: str) -> str:
    """Return a new ticket of ``kind`` (a session key), kept with the last few."""
    ticket = secrets.token_urlsafe(16)
    request.session[kind] = [*request.session.get(kind, [])[-(KEPT - 1) :], ticket]
    return ticket


def is_open(request: HttpRequest, kind: str, ticket: str | None) -> bool:
    """Whether ``ticket`` was issued in this session and not spent yet."""
    return bool(ticket) and ticket in request.session.get(kind, [])


def spend(request: HttpRequest, kind: str, ticket: str | None) -> bool:
    """Spend ``ticket``: True when it was open (the POST may act), False when it was not."""
    if not is_open(request, kind, ticket):
        return False
    request.session[kind] = [t for t in request.session.get(kind, []) if t != ticket]
    return True
