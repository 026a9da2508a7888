"""The admin's policy form and tag rows: the stored field names in, the contract's payload out.

Like the dashboard's form, these check no contract rule themselves. The policy form turns the
admin's fields (named as stored: ``start_time``, ``frequency``, ``week_frequency`` as a comma
list, ``retention_num`` / ``retention_day``, ``keep_first_of_month``, ``status``, ``time_zone``)
into the payload an API client would send and asks the core (:func:`parse.parse_policy`, or for a
change :func:`parse.parse_policy_edit`, the merge the API and the dashboard use); the tag rows ask
the core about the tag list (:func:`tag_bodies.parse_tags`, the same rules). Each problem is shown at
the field or row it names. The name and the quota need the database: the form asks the services
read-only (:func:`services.policy_save_problems`), and they ask again under the lock at save.

Neither form validates the model as well (``Meta.exclude``, which ``ModelAdmin`` honours): its max
lengths would repeat the core's rules in other words, and its unique-name check would race the
service's. Neither fills the instance in: the services write the policy (``admin.policies``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet, model_to_dict
from django.utils import timezone

from policies.dashboard.forms.inputs import json_number
from policies.dashboard.problem_display import (
    ADMIN,
    TAG_SUBJECTS,
    TAGS_SUBJECT,
    admin_sentence,
    tags_sentence,
)
from policies.domain.contract import changes, codes, parse, specs, tag_bodies

from .. import services
from ..models import BackupPolicy, PolicyTag

# The admin's fields of the policy, and what each is sent as: the places table (problem_display)
# names the JSON path of each. The time zone pair is read apart (time_zone_fields).
_SENT_AS = {
    "frequency": json_number,
    "retention_num": json_number,
    "retention_day": json_number,
    "week_frequency": lambda text: [day.strip() for day in text.split(",")] if text.strip() else None,
    "keep_first_of_month": lambda ticked: "Y" if ticked else "N",
}
_ZONE_FIELDS = ("time_zone", "time_zone_name")
PAYLOAD_FIELDS = list(ADMIN.fields.values())


def _shown(kwargs: dict[str, Any], names: list[str]) -> dict[str, Any]:
    """Add the instance's values of ``names`` to a model form's initial data.

    A model form shows only its model fields' values, and these are excluded (see the module's
    note): what ``model_to_dict`` would have read for them.
    """
    instance = kwargs.get("instance")
    if instance is not None:
        kwargs["initial"] = {**model_to_dict(instance, fields=names), **(kwargs.get("initial") or {})}
    return kwargs


class PolicyTagInlineForm(forms.ModelForm):
    """One tag row: raw text for the core to judge (no length or character check here)."""

    key = forms.CharField(required=False, strip=False)
    value = forms.CharField(required=False, strip=False)

    class Meta:
        model = PolicyTag
        fields = ["key", "value"]
        # Not validated by the model nor put on the instance: judged by the core, written by the
        # services. (DJ006 warns of fields left out by accident; ``fields`` lists them all.)
        exclude = ["key", "value"]  # noqa: DJ006

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **_shown(kwargs, ["key", "value"]))


class PolicyTagFormSet(BaseInlineFormSet):
    """The tag rows of a policy, judged as the contract's tag list; saved by the policy's service."""

    tags: tuple[specs.Tag, ...] = ()
    # The rows as the payload's "tags" would carry them, read before any is judged (the live
    # preview sends them with the policy's fields); None until the rows are cleaned.
    sent: list[dict[str, str]] | None = None

    def clean(self) -> None:
        super().clean()  # the model's unique key check skips the excluded key: 0214 is the core's
        rows = self.kept_rows()
        self.sent = [{"key": key, "value": value} for _, key, value in rows]
        self.tags, problems = tag_bodies.parse_tags(self.sent)
        above_rows = []
        for problem in problems:
            tag = codes.tag_of_path(problem.field)
            if tag is not None and tag[0] < len(rows):
                part = tag[1] if tag[1] in ("key", "value") else None
                rows[tag[0]][0].add_error(part, admin_sentence(problem, TAG_SUBJECTS[part]))
            else:
                above_rows.append(
                    admin_sentence(problem, TAGS_SUBJECT, said=tags_sentence(problem, len(rows)))
                )
        if above_rows:
            raise ValidationError(above_rows)

    def kept_rows(self) -> list[tuple[forms.Form, str, str]]:
        """Return (form, key, value) of each row that is kept: not deleted, not left blank."""
        rows = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            key, value = data.get("key") or "", data.get("value") or ""
            if not data.get("DELETE") and (key or value):
                rows.append((form, key, value))
        return rows


@dataclass(frozen=True)
class PolicyReading:
    """What the admin's policy form read: the payload of its fields and the core's answer.

    ``BackupPolicyAdminForm.clean`` makes it once and keeps it in ``cleaned_data["reading"]``, as
    the dashboard's form keeps its ``dashboard.forms.reading.Reading``; the problems are the form's errors.
    """

    payload: dict[str, Any]
    result: specs.ParseResult


class NumberText(forms.CharField):
    """A number's box, sent as typed (json_number); it is unchanged while it shows the stored number."""

    def has_changed(self, initial: Any, data: Any) -> bool:
        return super().has_changed("" if initial is None else str(initial), data)


class BackupPolicyAdminForm(forms.ModelForm):
    """Add or change a policy in the admin: the payload of an API client, judged by the core."""

    # Plain text everywhere: what is wrong with a value is the core's answer, in its words.
    name = forms.CharField(label="Name", required=False, strip=False)
    status = forms.CharField(
        label="Status", required=False, initial="ON", widget=forms.Select(choices=BackupPolicy.Status.choices)
    )
    start_time = forms.CharField(
        label="Start times (UTC)",
        required=False,
        strip=False,
        help_text="UTC full hours, comma-separated, in ascending local time: at UTC+02:00, local "
        "00:00, 02:00 and 04:00 is 22:00,00:00,02:00.",
    )
    time_zone = forms.CharField(
        label="Time zone",
        required=False,
        strip=False,
        help_text="The offset of local time, UTC+HH:mm or UTC-HH:mm. Empty: UTC. A policy's time "
        f"zone is never removed, only changed (as through the API): emptied, it is stored as {parse.NO_TIME_ZONE}.",
    )
    time_zone_name = forms.CharField(
        label="Named time zone",
        required=False,
        help_text="An IANA zone such as Europe/Berlin: the policy keeps its local times there, and "
        "the scheduler re-bases the offset and the UTC start times when the zone's offset changes. "
        "With it, the offset may be left empty (the zone's offset now is stored). Emptied while an "
        "offset is given: a fixed offset.",
    )
    frequency = NumberText(
        label="Every N days (frequency)",
        required=False,
        help_text="1 to 14. Leave empty for a weekday schedule; when both are given, frequency is used.",
    )
    week_frequency = NumberText(
        label="Local weekdays (week_frequency)",
        required=False,
        strip=False,
        help_text="Comma-separated, in local time: SUN,MON,TUE,WED,THU,FRI,SAT.",
    )
    retention_num = NumberText(
        label="Backups kept (rentention_num)",
        required=False,
        help_text="2 to 14. When both retentions are given, this one is used.",
    )
    retention_day = NumberText(label="Days kept (rentention_day)", required=False, help_text="2 to 99999.")
    keep_first_of_month = forms.BooleanField(label="Keep the first backup of each month", required=False)
    # The stored policy the change page is drawn from (changes.seen_mark): a save from a page drawn
    # before another change is held rather than undoing that change.
    seen = forms.CharField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = BackupPolicy
        fields = ["tenant", *PAYLOAD_FIELDS]
        exclude = PAYLOAD_FIELDS  # noqa: DJ006 - as the tag rows' form

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **_shown(kwargs, PAYLOAD_FIELDS))
        self.now = timezone.now()
        if self.current is not None:
            self.initial["seen"] = changes.seen_mark(self.current)
        # Every problem shown, the core's and the services' (a name taken), as the dashboard's form keeps them.
        self.problems: list[codes.Problem] = []

    @property
    def current(self) -> specs.PolicySpec | None:
        """The stored policy being changed (None while adding)."""
        if self.instance._state.adding:
            return None
        if not hasattr(self, "_current"):
            self._current = self.instance.to_spec()
        return self._current

    @property
    def reading(self) -> PolicyReading | None:
        """What ``clean`` read (None before the form is cleaned)."""
        return getattr(self, "cleaned_data", {}).get("reading")

    @property
    def payload(self) -> dict[str, Any] | None:
        return self.reading.payload if self.reading is not None else None

    @property
    def result(self) -> specs.ParseResult | None:
        return self.reading.result if self.reading is not None else None

    @property
    def spec(self) -> specs.PolicySpec | None:
        return self.result.spec if self.result is not None else None

    # -- the payload

    def build_payload(self, data: dict[str, Any]) -> dict[str, Any]:
        """Return the create body that the admin's fields describe, with the stored tags.

        The tag rows are judged and sent apart (``PolicyTagFormSet``); the admin joins the two
        when it saves.
        """
        payload: dict[str, Any] = {}
        for path, name in ADMIN.fields.items():
            value = _SENT_AS.get(name, lambda text: text or None)(data.get(name) or "")
            if value is None or name in _ZONE_FIELDS:
                continue
            *outer, last = path.split(".")
            (payload.setdefault(outer[0], {}) if outer else payload)[last] = value
        tags = [{"key": tag.key, "value": tag.value} for tag in (self.current.tags if self.current else ())]
        if tags:
            payload["tags"] = tags
        payload.update(self.time_zone_fields(data.get("time_zone") or "", data.get("time_zone_name") or ""))
        return payload

    def time_zone_fields(self, time_zone: str, zone_name: str) -> dict[str, str]:
        """Return the payload's ``time_zone`` and ``time_zone_name`` for the two boxes."""
        sent = {}
        if zone_name.strip():
            sent["time_zone_name"] = zone_name.strip()
            same_zone = self.current is not None and zone_name.strip() == self.current.time_zone_name
            if not same_zone and self.current is not None and time_zone == (self.current.time_zone or ""):
                # Another zone, the offset box untouched: the new zone's offset now is stored.
                # (The stored zone with its stored offset is sent back as it is: the core keeps
                # both, and the scheduler re-bases the offset when the zone's offset changes.)
                time_zone = ""
        elif not time_zone and self.current is not None and self.current.time_zone:
            # A modify keeps the stored zone when none is sent: say "local time is UTC" instead.
            time_zone = parse.NO_TIME_ZONE
        if time_zone:
            sent["time_zone"] = time_zone
        return sent

    # -- the core's answer

    def clean(self) -> dict[str, Any]:
        """Fields -> payload -> core: keep the :class:`PolicyReading`, add each problem as an error."""
        data = super().clean()
        payload = self.build_payload(data)
        if self.current is None:
            result = parse.parse_policy(payload, now=self.now)
        else:
            result = parse.parse_policy_edit(payload, self.current, now=self.now)
        data["reading"] = PolicyReading(payload, result)
        for problem in result.problems:
            self.add_problem(problem)
        tenant = data.get("tenant") if self.current is None else self.instance.tenant
        if self.spec is not None and tenant is not None:
            policy = None if self.current is None else self.instance
            for problem in services.policy_save_problems(tenant=tenant, spec=self.spec, policy=policy):
                self.add_problem(problem)
        if self.current is not None and changes.changed_since_seen(data.get("seen"), self.current):
            if not self.errors:
                self.add_error(None, changes.CHANGED_MEANWHILE)
            # The page shown again is drawn from the policy as stored now: saving again goes through.
            self.data = self.data.copy()
            self.data["seen"] = self.initial["seen"]
        return data

    def add_problem(self, problem: codes.Problem) -> None:
        """Show a problem of the core or of a service at its field, or above the form."""
        self.problems.append(problem)
        name = ADMIN.field_for(problem)
        if name not in self.fields:
            name = None  # e.g. the tenant of a policy being changed is not a field
        fallback = TAGS_SUBJECT if problem.field.startswith("tags") else ADMIN.subjects[None]
        self.add_error(name, admin_sentence(problem, ADMIN.subjects.get(name, fallback)))
