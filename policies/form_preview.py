"""The live preview of the dashboard's policy form: the core's answer for the form's state.

The same partial (``policy_form.html#utc-preview``) shows it on the dashboard and beside the admin's
policy form. It computes nothing itself: the runs, the stored fields and the forecast are the
core's (``policies.domain``), for the payload the form built.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from policies.domain import words
from policies.domain.contract import parse, specs
from policies.domain.forecast import PolicyForecast, policy_forecast
from policies.domain.schedule import week, zones

if TYPE_CHECKING:
    from .form_reading import Zone
    from .forms import PolicyForm


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
