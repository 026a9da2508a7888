"""The live preview of a policy: the core's answer for a payload, and its HTML, for the dashboard and the admin.

One function computes it, :func:`answer_for` (payload, stored spec, project); the dashboard's
form hands it its payload and what it holds of what the person typed (:func:`answer_of`), the
admin its own form's payload (:func:`payload_preview_html`). One partial
(``policy_form.html#utc-preview``) shows it; the runs, the stored fields and the forecast are the
core's. This module is the only place that renders the partials of ``policy_form.html``.

An answer that replaces a forecast already on the page (the request names its key,
``forecast_shown``) and that holds a new one leaves out its two largest parts, the retention
calendar and the day-by-day table: the page asks for them (:func:`forecast_part_answer`), the
calendar as soon as the answer is in and the table when its ``<details>`` is opened. A change of
one field then answers a few KB instead of about 20; whole pages (no JavaScript, the edit page)
and the admin's preview always carry every part."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.gzip import GZipMiddleware
from django.template.loader import render_to_string

from policies import services
from policies.dashboard.forms import wording
from policies.dashboard.forms.policy import PolicyForm
from policies.dashboard.forms.reading import Zone, zone_of_payload
from policies.domain import words
from policies.domain.contract import codes, parse, specs
from policies.domain.contract.changes import audit_changes, ordered_changes
from policies.domain.forecast import PolicyForecast, policy_forecast
from policies.domain.schedule import week, zones

if TYPE_CHECKING:
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


@dataclass(frozen=True)
class Answer:
    """The preview of a payload, checked against its project, and what saving would change."""

    preview: Preview | None
    changes: list[tuple[str, str, str]]
    # What only saving would find (a full project, a name taken): the form shows them at its boxes.
    save_problems: tuple[codes.Problem, ...] = ()


def answer_for(
    payload: dict[str, Any],
    *,
    current: specs.PolicySpec | None,
    tenant: Tenant | None,
    now: datetime,
    policy: BackupPolicy | None = None,
    zone: Zone | None = None,
    entered: wording.Entered | None = None,
    form_errors: Sequence[tuple[str, str]] = (),
    refusals: Sequence[codes.Problem] = (),
    pristine: bool = False,
) -> Answer:
    """Return what the preview shows for ``payload``: the dashboard's form and the admin's alike.

    ``current``: the stored spec (None: a new policy); ``tenant``: the project to check against
    (None: unchecked); ``now``: when the payload was read. The dashboard's form passes what no
    payload carries: the ``zone`` as picked (none, on a policy that has one), what the words
    depend on (``entered``: the kind of repeat chosen, even with its box empty), its own boxes'
    ``form_errors`` (label, message) and a service's ``refusals`` of the save just tried.
    """
    zone = zone or zone_of_payload(payload, current=current, now=now)
    if entered is None:
        entered = wording.entered_from_payload(payload, zone.offset or 0, zone.time_zone)
    if current is None:
        result = parse.parse_policy(payload, now=now)
    else:
        result = parse.parse_policy_edit(payload, current, now=now)
    save_problems: tuple[codes.Problem, ...] = ()
    if tenant is not None and result.spec is not None and not form_errors and not refusals:
        # What the services would refuse (a full project first); they ask again under the lock.
        save_problems = tuple(services.policy_save_problems(tenant=tenant, spec=result.spec, policy=policy))
    tags = [
        (str(tag.get("key", "")), str(tag.get("value", "")))
        for tag in payload.get("tags") or ()
        if isinstance(tag, Mapping)
    ]
    lines = [
        wording.line_for(problem, entered, tags) for problem in (*result.problems, *refusals, *save_problems)
    ]
    problems = [(line.label, line.message, line.code) for line in lines]
    for label, message in form_errors:  # a tick it cannot read, a zone changed under the grid
        if not any(message == text for _, text, _ in problems):
            problems.append((label, message, ""))
    preview = Preview(
        payload=payload,
        result=result,
        schedule_spec=_schedule_spec(payload, zone, now),
        zone=zone,
        problems=problems,
        dst_notes=_dst_notes(zone, now),
        now=now,
        pristine=pristine,
        editing=current is not None,
    )
    return Answer(preview, changes(current, preview), save_problems)


def _schedule_spec(payload: dict[str, Any], zone: Zone, now: datetime) -> specs.PolicySpec | None:
    """The schedule alone (a name the core accepts, no tags): the runs show while the name is missing."""
    probe = {**payload, "backup_policy_name": "preview"}
    probe.pop("tags", None)
    return parse.parse_policy(probe, now=now, stored_zone=zone.kept).spec


def _dst_notes(zone: Zone, now: datetime) -> list[zones.LocalTimeChange]:
    if not zone.name or zone.offset is None:
        return []
    return zones.dst_notes(zone.name, stored_minutes=zone.offset, now=now, keeps_local=True)


def answer_of(
    form: PolicyForm, *, tenant: Tenant | None, policy: BackupPolicy | None = None, pristine: bool = False
) -> Answer:
    """Return what the preview shows for the dashboard's form; what only saving finds goes to its boxes too."""
    if not form.is_bound:
        return Answer(None, [])
    answer = answer_for(
        form.payload,
        current=form.current,
        tenant=tenant,
        now=form.now,
        policy=policy,
        zone=form.zone,
        entered=form.entered,
        form_errors=form.own_errors,
        refusals=form.refusals,
        pristine=pristine,
    )
    for problem in answer.save_problems:
        form.add_problem(problem)
    return answer


def preview_of(form: PolicyForm, *, pristine: bool = False) -> Preview | None:
    """Return the core's answer for the form's state, unchecked against a project (None before any input)."""
    return answer_of(form, tenant=None, pristine=pristine).preview


def changes(current: specs.PolicySpec | None, preview: Preview | None) -> list[tuple[str, str, str]]:
    """What saving would change, field by field, in the form's words (empty while refused)."""
    if preview is None or not preview.accepted or current is None:
        return []
    return [
        (CHANGE_LABELS.get(path, path), _shown(before), _shown(after))
        for path, before, after in ordered_changes(audit_changes(current, preview.spec))
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
    """Render the preview of a payload whole (every part of the forecast): the admin's form shows it."""
    answer = answer_for(payload, current=current, tenant=tenant, policy=policy, now=now)
    context = {"preview": answer.preview, "policy": policy, "changes": answer.changes}
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
