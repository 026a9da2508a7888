"""The live preview of a policy: the core's answer for a payload, and its HTML, for the dashboard and the admin.

The same partial (``policy_form.html#utc-preview``) shows it on the dashboard and beside the admin's
policy form. It computes nothing itself: the runs, the stored fields and the forecast are the
core's (``policies.domain``), for the payload the form built. This module is the only place that
renders the partials of ``policy_form.html``: the dashboard's views answer each change of the
form with :func:`live_answer`, the no-JavaScript page renders the same partial inside the whole
page, and the admin's policy form shows :func:`payload_preview_html` beside its fields.

An answer that replaces a forecast already on the page (the request names its key,
``forecast_shown``) and that holds a new one leaves out its two largest parts, the retention
calendar and the day-by-day table: the page asks for them (:func:`forecast_part_answer`), the
calendar as soon as the answer is in and the table when its ``<details>`` is opened. A change of
one field then answers a few KB instead of about 20; whole pages (no JavaScript, the edit page)
and the admin's preview always carry every part.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.gzip import GZipMiddleware
from django.template.loader import render_to_string

from policies import services
from policies.dashboard.forms.mapping import form_data_from_payload
from policies.dashboard.forms.policy import PolicyForm
from policies.domain import words
from policies.domain.contract import codes, parse, specs
from policies.domain.contract.changes import audit_changes, ordered_changes
from policies.domain.forecast import PolicyForecast, policy_forecast
from policies.domain.schedule import week, zones

if TYPE_CHECKING:
    from policies.dashboard.forms.reading import Zone
    from policies.models import BackupPolicy, Tenant


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


@dataclass
class Preview:
    payload: dict[str, Any]
    result: specs.ParseResult
    schedule_spec: specs.PolicySpec | None
    zone: Zone
    problems: list[tuple[str, str, str]]  # (label of the form field, message, code)
    dst_notes: list[zones.LocalTimeChange]
    now: datetime
    pristine: bool = False
    editing: bool = False

    @property
    def accepted(self) -> bool:
        """True only when nothing at all is wrong: the core's problems and a service's alike."""
        return self.spec is not None and not self.problems

    @property
    def verdict_kind(self) -> str:
        if self.accepted:
            return "ok"
        return "pending" if self.pristine else "refused"

    @property
    def verdict(self) -> str:
        count = len(self.problems)
        things = f"{count} problem{'s' if count != 1 else ''}"
        if self.accepted:
            return "Ready to save: nothing to fix."
        if self.pristine:
            return f"To fill in: {count} thing{'s' if count != 1 else ''} before the policy can be saved."
        if self.spec is not None:
            return f"Not saved: {things} to fix."
        return f"Not yet valid: {things} to fix."

    @property
    def short_verdict(self) -> str:
        count = len(self.problems)
        if self.accepted:
            return "Ready to save"
        if self.pristine:
            return f"{count} to fill in"
        return f"{count} problem{'s' if count != 1 else ''}"

    @property
    def zone_note(self) -> str:
        """Where the stored offset comes from, for a named zone ("" for none or for UTC itself)."""
        if self.zone.cleared:
            return "a policy's time zone cannot be removed, only changed; UTC+00:00 runs at the same times"
        if not self.zone.name or self.zone.name == "UTC" or self.zone.offset is None:
            return ""
        where = (
            "the offset stored with the policy" if self.zone.kept else f"the offset of {self.zone.name} today"
        )
        return (
            f"{where}; the policy keeps its local times there, and "
            "the scheduler re-bases the offset when the zone's offset changes"
        )

    @property
    def steady_zone_note(self) -> str:
        """What to say of a named zone whose offset does not change in the next 12 months."""
        if not self.zone.name or self.zone.offset is None:
            return ""  # no zone, or a name that is none (its problem says so): no offsets to promise
        if self.zone.name == "UTC":
            return "UTC has no daylight saving: the runs keep these times all year."
        return f"{self.zone.name} keeps this offset for the next 12 months: no daylight-saving change."

    @property
    def spec(self) -> specs.PolicySpec | None:
        return self.result.spec

    @functools.cached_property
    def shown(self) -> dict[str, Any]:
        """The scheduled fields that will be stored (or, while refused, the ones sent).

        Cached, as ``runs`` and ``every``: the template reads each several times per answer.
        """
        if self.schedule_spec is not None:
            body = self.schedule_spec.scheduled_policy()
            body["time_zone"] = self.schedule_spec.time_zone
        else:
            body = dict(self.payload.get("scheduled_policy", {}))
            body["time_zone"] = self.payload.get("time_zone") or self.zone.time_zone  # a name: its offset now
        shown: dict[str, Any] = {"start_time": body.get("start_time")}
        if "frequency" in body:
            shown["frequency"] = body["frequency"]
        elif "week_frequency" in body:
            shown["week_frequency"] = ",".join(str(day) for day in body["week_frequency"])
        shown["time_zone"] = body["time_zone"]
        shown["time_zone_name"] = (
            self.schedule_spec.time_zone_name
            if self.schedule_spec is not None
            else self.payload.get("time_zone_name")
        )
        return shown

    @functools.cached_property
    def runs(self) -> list[str]:
        spec = self.schedule_spec
        if spec is None:
            return []
        if spec.week_frequency is not None:
            return [
                f"{words.local_label(run)} local = {words.utc_label(run)} UTC" for run in week.utc_week(spec)
            ]
        return [
            f"{words.local_label(run)} local = {words.utc_label(run)} UTC"
            + (f" (the {words.DAY_SHIFT_WORDS[run.utc_day_shift]})" if run.utc_day_shift else "")
            for run in week.runs_of_day(spec)
        ]

    @functools.cached_property
    def every(self) -> str:
        spec = self.schedule_spec
        if spec is None or spec.frequency is None:
            return ""
        return words.every_n_days(spec.frequency)

    @property
    def counted_from_the_first(self) -> bool:
        """Every N days (N > 1) counts from the 1st of each month; every day has nothing to count."""
        spec = self.schedule_spec
        return spec is not None and spec.frequency is not None and spec.frequency > 1

    @property
    def json_body(self) -> str:
        body = self.spec.to_payload() if self.spec is not None else dict(self.payload)
        if self.editing:
            body.pop("tags", None)  # a modify body has no tags: the tag routes change them
        return json.dumps(body, indent=2)

    @functools.cached_property
    def forecast(self) -> PolicyForecast | None:
        """The next runs and the retention picture of the schedule shown: the core's answer."""
        if self.schedule_spec is None:
            return None
        return policy_forecast(self.schedule_spec, now=self.now, zone_name=self.zone.name)


def preview_of(form: PolicyForm, *, pristine: bool = False) -> Preview | None:
    """Return the core's answer for the form's state (None before any input).

    ``pristine``: the person has changed nothing yet (the page only preselected their zone),
    so what is missing is shown as still to do, not as mistakes.
    """
    if not form.is_bound:
        return None
    reading = form.reading
    # Show the runs as soon as the schedule itself is right, even while the name is missing:
    # the core is asked again about the schedule alone (with a name it accepts, no tags).
    probe = {**reading.payload, "backup_policy_name": "preview"}
    probe.pop("tags", None)
    zone = reading.zone
    # The stored zone left as it is keeps its stored offset, as the form's own reading does.
    schedule_result = parse.parse_policy(probe, now=form.now, stored_zone=zone.kept)
    notes: list[zones.LocalTimeChange] = []
    if zone.name and zone.offset is not None:
        notes = zones.dst_notes(zone.name, stored_minutes=zone.offset, now=form.now, keeps_local=True)
    labels = {name: str(form.fields[name].label) for name in form.fields}
    problems = list(form.problem_messages)
    # Problems of the form itself (a tick it cannot read, a zone changed under the grid).
    for name in ("hours", "schedule_kind", "retention_kind"):
        for message in form.errors.get(name, []):
            if not any(message == text for _, text, _ in problems):
                problems.append((labels[name], message, ""))
    return Preview(
        payload=reading.payload,
        result=reading.result,
        schedule_spec=schedule_result.spec,
        zone=zone,
        problems=problems,
        dst_notes=notes,
        now=form.now,
        pristine=pristine,
        editing=form.editing,
    )


@dataclass(frozen=True)
class Answer:
    """The preview of a form's state, checked against its project, and what saving would change."""

    preview: Preview | None
    changes: list[tuple[str, str, str]]


def answer_of(
    form: PolicyForm, *, tenant: Tenant | None, policy: BackupPolicy | None = None, pristine: bool = False
) -> Answer:
    """Return what the preview shows for ``form``: the dashboard's pages and the admin's preview alike."""
    if tenant is not None:
        check_against_project(form, tenant, policy)
    preview = preview_of(form, pristine=pristine)
    return Answer(preview, changes(form, preview))


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


def payload_preview_html(
    request: HttpRequest,
    payload: dict,
    *,
    current: specs.PolicySpec | None,
    tenant: Tenant | None,
    policy: BackupPolicy | None = None,
    now: datetime,
) -> str:
    """Render the preview of an API payload whole (every part of the forecast): the admin's form shows it.

    The admin's form builds the payload an API client would send and asks this; the problems are
    worded as the dashboard words them, so the payload is read back through the dashboard's form
    (``form_data_from_payload``): both entrances show one preview in one wording. ``current`` is
    the stored policy's spec (None for a new one), ``now`` the time the payload was read at.
    Raises ValueError for a payload no form state makes (both members of a pair, no full hours).
    """
    form = PolicyForm(form_data_from_payload(payload, now=now), now=now, current=current)
    answer = answer_of(form, tenant=tenant, policy=policy)
    context = {"form": form, "preview": answer.preview, "policy": policy, "changes": answer.changes}
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
    preview = preview_of(form)
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
