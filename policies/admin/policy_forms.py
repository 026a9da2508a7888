"""The admin site's forms: the stored field names in, the contract's payload out.

Like the dashboard's form, these check no contract rule themselves. ``BackupPolicyAdminForm.clean``
turns the admin's fields (named as stored: ``start_time``, ``frequency``, ``week_frequency`` as a
comma list, ``retention_num`` / ``retention_day``, ``keep_first_of_month``, ``status``,
``time_zone``) and the rows of the tag inline into the create payload an API client would send,
asks :func:`parse.parse_policy` (and, for a change, :func:`parse.parse_policy_update`, the
merge the API and the dashboard use), and shows each problem at the admin field or tag row it
names. The quota and unique names need the database: the services check them when the admin
saves (``admin.BackupPolicyAdmin``), and their refusals come back to :meth:`add_problem`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.forms.models import BaseInlineFormSet
from django.utils import timezone

from .domain import codes, parse, specs
from .form_input import json_number
from .models import ApiToken, BackupPolicy, PolicyTag
from .problem_display import ADMIN, TAG_SUBJECTS, TAGS_SUBJECT, admin_sentence

# The tag inline's formset is handed to the policy form through the policy instance they share
# (the admin builds both around ``form.instance``): the core checks a policy and its tags as one
# payload, before anything is written.
TAG_FORMSET_ATTR = "_admin_tag_formset"


class PolicyTagInlineForm(forms.ModelForm):
    """One tag row: raw text for the core to judge (no length or character check here)."""

    key = forms.CharField(required=False, strip=False)
    value = forms.CharField(required=False, strip=False)

    class Meta:
        model = PolicyTag
        fields = ["key", "value"]

    def _post_clean(self) -> None:
        # No model validation: the rules are the core's (read by the policy form) and the rows are
        # stored by services.policy_update (with the policy), never by this form.
        pass


class PolicyTagFormSet(BaseInlineFormSet):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        setattr(self.instance, TAG_FORMSET_ATTR, self)

    def clean(self) -> None:
        # No uniqueness check of the model formset: a repeated key is the core's 0214, shown at
        # the row by the policy form.
        pass

    def tag_rows(self) -> list[tuple[forms.Form, str, str]]:
        """Return (form, key, value) of each row that is kept: not deleted, not left blank."""
        self.is_valid()  # cleans the rows (and the management form) once; cached afterwards
        rows = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if data.get("DELETE"):
                continue
            key, value = data.get("key") or "", data.get("value") or ""
            if key or value:
                rows.append((form, key, value))
        return rows


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
    frequency = forms.CharField(
        label="Every N days (frequency)",
        required=False,
        help_text="1 to 14. Leave empty for a weekday schedule; when both are given, frequency is used.",
    )
    week_frequency = forms.CharField(
        label="Local weekdays (week_frequency)",
        required=False,
        strip=False,
        help_text="Comma-separated, in local time: SUN,MON,TUE,WED,THU,FRI,SAT.",
    )
    retention_num = forms.CharField(
        label="Backups kept (rentention_num)",
        required=False,
        help_text="2 to 14. When both retentions are given, this one is used.",
    )
    retention_day = forms.CharField(
        label="Days kept (rentention_day)", required=False, help_text="2 to 99999."
    )
    keep_first_of_month = forms.BooleanField(label="Keep the first backup of each month", required=False)

    # Set by the admin when a service refused the write: the form is drawn again with it.
    refusal: codes.Problem | None = None

    class Meta:
        model = BackupPolicy
        fields = [
            "tenant",
            "name",
            "status",
            "start_time",
            "time_zone",
            "time_zone_name",
            "frequency",
            "week_frequency",
            "retention_num",
            "retention_day",
            "keep_first_of_month",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.now = timezone.now()
        self.payload: dict[str, Any] | None = None
        self.result: specs.ParseResult | None = None
        self.tag_rows: list[tuple[forms.Form, str, str]] | None = None

    @property
    def adding(self) -> bool:
        return self.instance._state.adding

    @property
    def tag_formset(self) -> PolicyTagFormSet | None:
        return getattr(self.instance, TAG_FORMSET_ATTR, None)

    @property
    def current(self) -> specs.PolicySpec | None:
        """The stored policy being changed (None while adding)."""
        if self.adding:
            return None
        if not hasattr(self, "_current"):
            self._current = self.instance.to_spec()
        return self._current

    @property
    def spec(self) -> specs.PolicySpec | None:
        return self.result.spec if self.result is not None else None

    @property
    def tags_given(self) -> bool:
        """True when the form carried the tag rows (the inline was part of the page)."""
        return self.tag_rows is not None

    # -- the payload

    def build_payload(self, data: dict[str, Any]) -> dict[str, Any]:
        """Return the create body that the admin's fields and tag rows describe."""
        scheduled: dict[str, Any] = {}
        if data.get("start_time"):
            scheduled["start_time"] = data["start_time"]
        frequency = json_number(data.get("frequency") or "")
        if frequency is not None:
            scheduled["frequency"] = frequency
        week = data.get("week_frequency") or ""
        if week.strip():
            scheduled["week_frequency"] = [day.strip() for day in week.split(",")]
        for field, key in (("retention_num", "rentention_num"), ("retention_day", "rentention_day")):
            number = json_number(data.get(field) or "")
            if number is not None:
                scheduled[key] = number
        scheduled["remain_first_backup_of_curMonth"] = "Y" if data.get("keep_first_of_month") else "N"
        if data.get("status"):
            scheduled["status"] = data["status"]

        payload: dict[str, Any] = {}
        if data.get("name"):
            payload["backup_policy_name"] = data["name"]
        payload["scheduled_policy"] = scheduled
        if self.tag_rows is not None:
            tags = [{"key": key, "value": value} for _, key, value in self.tag_rows]
        else:  # no tag inline on the page: the stored tags stay as they are
            tags = [
                {"key": tag.key, "value": tag.value} for tag in (self.current.tags if self.current else ())
            ]
        if tags:
            payload["tags"] = tags
        time_zone = data.get("time_zone") or ""
        zone_name = (data.get("time_zone_name") or "").strip()
        if zone_name:
            payload["time_zone_name"] = zone_name
            if self.current is not None and time_zone == (self.current.time_zone or ""):
                # The offset shown is the stored one, re-based by the scheduler: unchanged, it
                # is not sent, and the zone's offset now is stored with the name.
                time_zone = ""
        elif not time_zone and self.current is not None and self.current.time_zone:
            # A modify keeps the stored zone when none is sent: say "local time is UTC" instead.
            time_zone = parse.NO_TIME_ZONE
        if time_zone:
            payload["time_zone"] = time_zone
        return payload

    # -- the core's answer

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        formset = self.tag_formset
        self.tag_rows = formset.tag_rows() if formset is not None else None
        self.payload = self.build_payload(data)
        if self.current is None:
            self.result = parse.parse_policy(self.payload, now=self.now)
        else:
            self.result = parse.parse_policy_edit(self.payload, self.current, now=self.now)
        for problem in self.result.problems:
            self.add_problem(problem)
        if self.refusal is not None:
            self.add_problem(self.refusal)
        return data

    def _post_clean(self) -> None:
        # No model validation either: its max lengths would repeat the core's rules in other words,
        # and its unique-name check would race the service's, which holds the tenant's lock. The
        # instance is not filled in from the fields: the services write the policy.
        pass

    def add_problem(self, problem: codes.Problem) -> None:
        """Show a problem of the core or of a service at its field, tag row or above the form."""
        tag = codes.tag_of_path(problem.field)
        formset = self.tag_formset
        if tag and self.tag_rows is not None and tag[0] < len(self.tag_rows):
            form, _, _ = self.tag_rows[tag[0]]
            part = tag[1] if tag[1] in ("key", "value") else None
            form.add_error(part, admin_sentence(problem, TAG_SUBJECTS[part]))
            return
        if problem.field == "tags" and formset is not None:
            formset.non_form_errors().append(admin_sentence(problem, TAGS_SUBJECT))
            return
        name = ADMIN.field_for(problem)
        if name not in self.fields:
            name = None  # e.g. the tenant of a policy being changed is not a field
        fallback = TAGS_SUBJECT if problem.field.startswith("tags") else ADMIN.subjects[None]
        self.add_error(name, admin_sentence(problem, ADMIN.subjects.get(name, fallback)))


class ApiTokenIssueForm(forms.ModelForm):
    """Issue a token: pick a user and, optionally, when it expires."""

    # One use per page drawn: a reload of the "issued" answer resends the POST, and must not
    # issue a second token (ApiTokenAdmin checks it against the session).
    issue_ticket = forms.CharField(widget=forms.HiddenInput, required=False)
    expires_in_days = forms.IntegerField(
        label="Expires in (days)",
        required=False,
        min_value=1,
        max_value=3650,
        help_text="Leave empty for a token that does not expire; revoke it here when it is no longer needed.",
    )

    class Meta:
        model = ApiToken
        fields = ["user"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A deactivated user's token is refused by the API: issuing one would only mislead.
        self.fields["user"].queryset = get_user_model().objects.filter(is_active=True)

    @property
    def expires_in(self) -> timedelta | None:
        days = self.cleaned_data.get("expires_in_days")
        return timedelta(days=days) if days else None
