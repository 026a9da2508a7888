"""The preview's rendering: the HTML of the policy form's preview, for the dashboard and the admin.

``form_preview`` computes the core's answer for a form's state; this module turns it into the
partials of ``policy_form.html`` and is the only place that does. The dashboard's views answer
each change of the form with :func:`live_answer`, the no-JavaScript page renders the same partial
inside the whole page, and the admin's policy form shows :func:`preview_html` beside its fields.

An answer that replaces a forecast already on the page (the request names its key,
``forecast_shown``) and that holds a new one leaves out its two largest parts, the retention
calendar and the day-by-day table: the page asks for them (:func:`forecast_part_answer`), the
calendar as soon as the answer is in and the table when its ``<details>`` is opened. A change of
one field then answers a few KB instead of about 20; whole pages (no JavaScript, the edit page)
and the admin's preview always carry every part.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.gzip import GZipMiddleware
from django.template.loader import render_to_string

from policies.domain.contract import codes, specs
from policies.domain.contract.changes import audit_changes, ordered_changes

from . import services
from .form_mapping import form_data_from_payload
from .forms import PolicyForm

if TYPE_CHECKING:
    from .form_preview import Preview
    from .models import BackupPolicy, Tenant

FORM_TEMPLATE = "policies/policy_form.html"
FORECAST_TEMPLATE = "policies/includes/forecast_preview.html"
# The parts of the forecast sent on request: the name in the URL, and the partial it renders.
FORECAST_PARTS = {"calendar": "retention-calendar", "days": "retention-days"}

# The audit trail's JSON paths, in the form's words (the paths stay in the admin's audit trail).
CHANGE_LABELS = {
    "backup_policy_name": "Name",
    "scheduled_policy.start_time": "Start times in UTC",
    "scheduled_policy.frequency": "Every N days",
    "scheduled_policy.week_frequency": "Days of the week",
    "scheduled_policy.rentention_num": "Backups to keep",
    "scheduled_policy.rentention_day": "Days to keep backups",
    "scheduled_policy.remain_first_backup_of_curMonth": "Keep the first backup of each month",
    "scheduled_policy.status": "Status",
    "time_zone": "Time zone",
    "tags": "Tags",
}


def check_against_project(form: PolicyForm, tenant: Tenant, policy: BackupPolicy | None) -> None:
    """Say before saving what only saving would find: a full project, else a name taken (ignoring case).

    The admin's policy form asks the same read-only question (:func:`services.policy_save_problems`),
    so every entrance reports the one problem the service would refuse for (a full project, even
    when the name is taken too). The services ask again under the tenant's lock, so a policy
    created meanwhile is still refused at save.
    """
    if not form.is_bound or not form.is_valid() or form.spec is None:
        return
    if any(problem.code in (codes.NAME_TAKEN, codes.QUOTA) for problem in form.problems):
        return  # the service already said it (a refused save)
    for problem in services.policy_save_problems(tenant=tenant, spec=form.spec, policy=policy):
        form.add_problem(problem)


def changes(form: PolicyForm, preview: Preview | None) -> list[tuple[str, str, str]]:
    """What saving would change, field by field, in the form's words (empty while refused)."""
    if preview is None or not preview.accepted or form.current is None:
        return []
    return [
        (CHANGE_LABELS.get(path, path), _shown(before), _shown(after))
        for path, before, after in ordered_changes(audit_changes(form.current, preview.spec))
    ]


def _shown(value: object) -> str:
    """Write a stored value the way the API's JSON reads it, shortly: ["MON", "WED"] -> MON,WED."""
    if value is None or value == []:
        return "(none)"
    if isinstance(value, list):
        return ", ".join(
            f"{item['key']}={item['value']}" if isinstance(item, dict) else str(item) for item in value
        )
    return str(value)


def form_for_payload(payload: dict, *, now: datetime, current: specs.PolicySpec | None = None) -> PolicyForm:
    """Return the dashboard's form filled with an API payload (the admin's preview shows it).

    ``now`` is the time of the request, the one the admin's form read its payload at.
    Raises ValueError for a payload no form state makes (both members of a pair, no full hours).
    """
    return PolicyForm(form_data_from_payload(payload, now=now), now=now, current=current)


def preview_html(
    request: HttpRequest, form: PolicyForm, *, tenant: Tenant | None, policy: BackupPolicy | None = None
) -> str:
    """Render the preview of ``form`` whole (every part of the forecast): the admin's policy form shows it."""
    if tenant is not None:
        check_against_project(form, tenant, policy)
    preview = form.preview()
    context = {"form": form, "preview": preview, "policy": policy, "changes": changes(form, preview)}
    return render_to_string(f"{FORM_TEMPLATE}#utc-preview", context, request=request)


def live_answer(request: HttpRequest, context: dict, *, parts_urls: dict[str, str]) -> HttpResponse:
    """Answer a change of the form (htmx): the preview, the phone's bar and, if it moved, the hour grid.

    ``context`` is the form page's (``form``, ``preview``, ...); ``parts_urls`` names where the
    page asks for the parts of the forecast left out (see the module's docstring).
    """
    form = context["form"]
    # The key of the forecast the page shows: an unchanged forecast is not sent again, and a
    # changed one replacing it comes without the parts the page then asks for.
    shown = request.POST.get("forecast_shown", "")
    context = {**context, "forecast_shown": shown}
    if shown:
        context["forecast_parts"] = parts_urls
    html = render_to_string(f"{FORM_TEMPLATE}#utc-preview", context, request=request)
    # The phone's summary bar sits outside the preview; it follows it out of band.
    html += render_to_string(f"{FORM_TEMPLATE}#preview-bar", {**context, "bar_oob": True}, request=request)
    if form.grid_moved:
        # The zone's offset changed: the hour labels change too (ticks keep their local time).
        html += render_to_string(f"{FORM_TEMPLATE}#hour-grid", {**context, "grid_oob": True}, request=request)
    return compressed(request, html)


def forecast_part_answer(request: HttpRequest, form: PolicyForm, part: str) -> HttpResponse:
    """Answer one part of the forecast of the form's state: the calendar, or the table of days.

    Nothing (an empty answer) when the state has no retention picture any more: the preview
    answering that state says why.
    """
    partial = FORECAST_PARTS.get(part)
    if partial is None:
        raise Http404("No such part of the forecast.")
    preview = form.preview()
    forecast = preview.forecast if preview is not None else None
    if forecast is None or not forecast.retention.enabled:
        return HttpResponse("")
    context = {"forecast": forecast, "result": forecast.retention}
    return compressed(request, render_to_string(f"{FORECAST_TEMPLATE}#{partial}", context, request=request))


def compressed(request: HttpRequest, html: str) -> HttpResponse:
    """Answer ``html`` compressed when the browser accepts gzip: only for partials without a secret.

    The preview's partials hold no CSRF token and no session value, only the person's own form
    read back (BREACH needs a secret beside the reflected input). The whole pages carry the CSRF
    token: never compressed.
    """
    return _GZIP.process_response(request, HttpResponse(html))


# Used for its process_response only (Django's, with its random padding against BREACH).
_GZIP = GZipMiddleware(lambda request: HttpResponse())
