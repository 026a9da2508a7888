"""What every dashboard page's header needs: the user's projects and the scheduler's state, read only when drawn."""

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from policies import selectors
from policies.runs import heartbeat


def navigation(request: HttpRequest) -> dict:
    # Lazy: pages that draw no header (htmx partials, the admin) never run the query.
    user = getattr(request, "user", None)
    return {
        "nav_projects": SimpleLazyObject(
            lambda: list(selectors.tenants_for_user(user=user)) if user is not None else []
        )
    }


def scheduler(request: HttpRequest) -> dict:
    # Lazy too: read once per full page, for the banner shown while no worker runs.
    return {"scheduler_state": SimpleLazyObject(heartbeat.scheduler_state)}
