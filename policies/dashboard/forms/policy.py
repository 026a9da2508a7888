"""The dashboard's create and edit form: UI-shaped input turned into the contract payload.

The form checks no contract rule itself. It turns what a person ticks (local weekdays, a grid of
local times whose values are UTC hours, a zone picker, a retention kind and number, tag rows) into
the very payload an API client would send, hands it to :func:`parse.parse_policy`, and shows
each :class:`codes.Problem` at the form field it names. The preview is the core's own answer
for the current form state.

The payload and the :class:`Reading` kept of it are built in ``reading``. Editing uses the
same form, pre-filled from the stored policy (``mapping``); the preview is ``policies.dashboard.preview``.
The form shows every field, so its payload (tags aside) is a complete modify body: it goes through
:func:`parse.parse_policy_update` against the stored policy, the merge code the API uses.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from itertools import zip_longest
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.html import format_html_join

from policies.dashboard.forms import wording
from policies.dashboard.forms.inputs import INTEGER
from policies.dashboard.forms.reading import (
    NO_READING,
    Reading,
    Zone,
    policy_payload,
    read_hours,
    resolve_zone,
)
from policies.dashboard.forms.wording import LABELS
from policies.domain import words
from policies.domain.contract import codes, limits, parse, specs
from policies.domain.schedule import offsets, zones

# "Every day" is the contract's frequency 1, a choice of its own: people look for "daily", not
# for a count of days.
SCHEDULE_KINDS = (("week", "Days of the week"), ("daily", "Every day"), ("days", "Every N days"))
RETENTION_KINDS = (("num", "Keep a number of backups"), ("day", "Keep backups for a number of days"))
STATUSES = (("ON", "On: runs on schedule"), ("OFF", "Off: paused"))
SPARE_TAG_ROWS = 3

GRID_MOVED = (
    "The time zone changed: the start times are now shown at {offset}; check them and press {submit} again."
)
# A modify keeps the stored time_zone when none is sent (null too), so "no time zone" on a policy
# that has one is sent as the offset that means the same: local time is UTC.


class _ListField(forms.Field):
    """A list of raw values from checkboxes; which values are allowed is the core's business."""

    widget = forms.CheckboxSelectMultiple

    def to_python(self, value: Any) -> list[str]:
        return [str(item) for item in value or []]


@dataclass
class TagRow:
    index: int
    key: str = ""
    value: str = ""
    errors: list[str] = field(default_factory=list)  # about the row as a whole
    key_errors: list[str] = field(default_factory=list)
    value_errors: list[str] = field(default_factory=list)

    @property
    def blank(self) -> bool:
        return not self.key and not self.value

    @property
    def all_errors(self) -> list[str]:
        return [*self.errors, *self.key_errors, *self.value_errors]


@dataclass
class HourCell:
    utc_hour: int
    local_label: str
    utc_label: str
    day_shift: int
    checked: bool

    @property
    def shift_words(self) -> str:
        return words.DAY_SHIFT_WORDS[self.day_shift] if self.day_shift else ""


@functools.lru_cache(maxsize=4)
def _zone_options(minute: datetime) -> tuple[tuple, tuple]:
    # ~500 zones: computed once a minute, not on every keystroke of the live preview.
    named = tuple(
        (
            name,
            f"{name.rsplit('/', 1)[-1].replace('_', ' ')}, {name.split('/')[0]} ({offsets.format_offset(offset)})",
        )
        for name, offset in zones.named_zones(now=minute)
    )
    fixed = tuple((text, text) for text in map(offsets.format_offset, offsets.all_offsets()))
    return named, fixed


@functools.lru_cache(maxsize=4)
def _zone_datalist(minute: datetime) -> str:
    # The ~570 options drawn once a minute too: drawn by a template loop they cost each form page
    # about ten milliseconds.
    named, fixed = _zone_options(minute)
    rows = [*named, *((value, f"{value} (fixed offset)") for value, _ in fixed)]
    return format_html_join("", '<option value="{}" label="{}">{}</option>', ((v, t, t) for v, t in rows))


class PolicyForm(forms.Form):
    name = forms.CharField(label=LABELS["name"], required=False, strip=False)
    # A text box with a datalist: a person types a city, a region or an offset and picks one; it
    # works without JavaScript, and the server reads whatever is sent (resolve_zone).
    time_zone = forms.CharField(
        label=LABELS["time_zone"],
        required=False,
        widget=forms.TextInput(
            attrs={
                "list": "time-zone-options",
                "autocomplete": "off",
                "spellcheck": "false",
                "aria-describedby": "time_zone-help",
            }
        ),
    )
    schedule_kind = forms.ChoiceField(
        label=LABELS["schedule_kind"], choices=SCHEDULE_KINDS, initial="week", widget=forms.RadioSelect
    )
    week_days = _ListField(label=LABELS["week_days"], required=False)
    frequency = forms.CharField(
        label=LABELS["frequency"],
        required=False,
        widget=forms.NumberInput,
    )
    hours = _ListField(label=LABELS["hours"], required=False)
    # The offset the hour grid's labels were drawn for: ticks keep their local time when the zone
    # changes (see ``reading.read_hours``).
    grid_offset = forms.CharField(required=False, widget=forms.HiddenInput)
    retention_kind = forms.ChoiceField(
        label=LABELS["retention_kind"], choices=RETENTION_KINDS, initial="num", widget=forms.RadioSelect
    )
    retention_num = forms.CharField(
        label=LABELS["retention_num"],
        required=False,
        initial="7",
        widget=forms.NumberInput,
    )
    retention_day = forms.CharField(
        label=LABELS["retention_day"],
        required=False,
        widget=forms.NumberInput,
    )
    keep_first = forms.BooleanField(label=LABELS["keep_first"], required=False)
    status = forms.CharField(label=LABELS["status"], required=False, initial="ON", widget=forms.RadioSelect)
    # Where the tags' problems are added (add_error), so that they make the form invalid like any
    # other: "tags" for the list as a whole (shown at the fieldset), "tag_row_problems" for one row
    # (shown at the row, from TagRow). The rows' boxes are drawn by hand; these two never are.
    tags = forms.Field(label=LABELS["tags"], required=False, widget=forms.HiddenInput)
    tag_row_problems = forms.Field(label=LABELS["tags"], required=False, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        now: datetime | None = None,
        current: specs.PolicySpec | None = None,
        **kwargs: Any,
    ) -> None:
        """``current``: the stored policy being edited (None: a new policy)."""
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.now = now or timezone.now()
        self.current = current
        self.fields["status"].widget.choices = STATUSES
        # The core's problems (clean), then any a service adds (a refused save, a name taken).
        self.problems: list[codes.Problem] = []
        self.tag_rows = self._tag_rows()

    # -- reading the UI

    def _tag_rows(self) -> list[TagRow]:
        rows: list[TagRow] = []
        if self.is_bound:
            keys, values = self._getlist("tag_key"), self._getlist("tag_value")
            for key, value in zip_longest(keys, values, fillvalue=""):
                row = TagRow(len(rows), key, value)
                if not row.blank:
                    rows.append(row)
        spare = 0 if len(rows) >= limits.MAX_TAGS else max(1, SPARE_TAG_ROWS - len(rows))
        rows += [TagRow(len(rows) + n) for n in range(spare)]
        return rows

    def _getlist(self, name: str) -> list[str]:
        if hasattr(self.data, "getlist"):
            return self.data.getlist(name)
        value = self.data.get(name, [])  # a plain dict (tests, form_data_from_payload)
        return list(value) if isinstance(value, list | tuple) else [value]

    def _zone(self, data: Mapping[str, Any]) -> Zone:
        zone = resolve_zone(data.get("time_zone") or "", now=self.now)
        no_zone = zone.time_zone is None and zone.name is None
        if no_zone and self.current is not None and self.current.time_zone:
            return Zone(zone.value, parse.NO_TIME_ZONE, 0, cleared=True)
        current = self.current
        if current is not None and zone.name is not None and zone.name == current.time_zone_name:
            # The stored zone, unchanged: its stored offset, even while a re-base is due.
            return Zone(zone.value, current.time_zone, current.offset_minutes, zone.name, kept=True)
        return zone

    # -- the core's answer

    def clean(self) -> dict[str, Any]:
        """Fields -> payload -> core: keep the :class:`Reading`, and add each problem as an error."""
        data = super().clean()
        zone = self._zone(data)
        grid_text = (data.get("grid_offset") or "").strip()
        grid_offset = int(grid_text) if INTEGER.fullmatch(grid_text) else None
        start_time, grid, hour_errors = read_hours(data.get("hours") or [], grid_offset, zone.offset)
        for message in hour_errors:
            self.add_error("hours", message)
        payload = policy_payload(data, zone, start_time, self.filled_tags)
        if self.current is None:
            result = parse.parse_policy(payload, now=self.now)
        else:
            # Checked whole as a create, then merged as the API merges a PUT (one merge).
            result = parse.parse_policy_edit(payload, self.current, now=self.now)
        checked = tuple(int(part[:2]) for part in start_time.split(",")) if start_time else ()
        data["reading"] = Reading(zone, payload, result, checked, grid)
        for problem in result.problems:
            self.add_problem(problem)
        return data

    @property
    def reading(self) -> Reading:
        """What the form read (cleaning it first); an unbound form has read nothing."""
        if not self.is_bound:
            return NO_READING
        if self._errors is None:
            self.full_clean()
        return self.cleaned_data.get("reading", NO_READING)

    @property
    def zone(self) -> Zone:
        return self.reading.zone

    @property
    def payload(self) -> dict[str, Any]:
        return self.reading.payload

    @property
    def result(self) -> specs.ParseResult:
        return self.reading.result

    @property
    def checked_hours(self) -> list[int]:
        return list(self.reading.checked_hours)

    @property
    def entered(self) -> wording.Entered:
        """What the person entered that the words of a problem depend on."""
        return wording.Entered(
            name=str(self.data.get("name") or ""),
            checked_hours=tuple(self.checked_hours),
            week_days_ticked=bool(self._getlist("week_days")),
            schedule_kind=self.data.get("schedule_kind"),
            retention_kind=self.data.get("retention_kind"),
            zone_offset=self.zone.offset or 0,
            time_zone=self.zone.time_zone,
        )

    @property
    def filled_tags(self) -> list[tuple[str, str]]:
        return [(row.key, row.value) for row in self.tag_rows if not row.blank]

    @property
    def refusals(self) -> list[codes.Problem]:
        """The problems a service added after the core's (a refused save)."""
        return self.problems[len(self.result.problems) :]

    @property
    def own_errors(self) -> list[tuple[str, str]]:
        """(label, message) of what the form itself could not read: a tick off the grid, a kind."""
        return [
            (LABELS[name], message)
            for name in ("hours", "schedule_kind", "retention_kind")
            for message in self.errors.get(name, [])
        ]

    def add_problem(self, problem: codes.Problem) -> None:
        """Show a problem of the core or of a service at the field it names."""
        self.problems.append(problem)
        line = wording.line_for(problem, self.entered, self.filled_tags)
        if line.row is not None:
            row = [row for row in self.tag_rows if not row.blank][line.row]
            {"key": row.key_errors, "value": row.value_errors}.get(line.part, row.errors).append(line.message)
        self.add_error(line.field, line.message)
        if line.field == "time_zone":  # drawn by its widget, not by hand in the template
            self.fields["time_zone"].widget.attrs.update(
                {"aria-invalid": "true", "aria-describedby": "time_zone-errors"}
            )

    def hold_if_grid_moved(self) -> bool:
        """Refuse to save start times whose labels the person has not seen at the zone chosen.

        Without JavaScript the hour grid keeps the labels it was drawn with while the zone changes;
        a tick keeps its local time, but at the new offset it is another UTC hour. Saving that
        unseen would surprise, so the form comes back with the grid redrawn for a second look.
        """
        if not (self.is_bound and self._getlist("hours") and self.grid_moved):
            return False
        self.add_error("hours", GRID_MOVED.format(offset=self.grid_offset_text, submit=self.submit_label))
        return True

    @property
    def editing(self) -> bool:
        return self.current is not None

    @property
    def submit_label(self) -> str:
        return "Save changes" if self.editing else "Create policy"

    @property
    def tag_errors(self) -> list[str]:
        """The problems of the tags as a whole (their number, a key given twice ...)."""
        return list(self.errors.get("tags", []))

    @property
    def spec(self) -> specs.PolicySpec | None:
        return self.result.spec

    # -- what the template draws

    @property
    def zone_options(self) -> str:
        """The picker's datalist options: named zones with today's offset, then the fixed offsets."""
        return _zone_datalist(self.now.replace(second=0, microsecond=0))

    @property
    def weekday_choices(self) -> list[tuple[str, str]]:
        return list(zip(limits.WEEKDAYS, words.WEEKDAY_NAMES, strict=True))

    def hour_grid(self) -> list[HourCell]:
        """The 24 start-time boxes in local order for the zone picked (values are UTC hours)."""
        if self.is_bound:
            offset = self.grid_offset_value  # cleans the form first
            checked = set(self.checked_hours)
        else:
            offset, checked = 0, set()
        return [
            HourCell(
                utc_hour=hour,
                local_label=offsets.format_minutes(local),
                utc_label=f"{hour:02d}:00 UTC",
                day_shift=offsets.utc_day_shift(hour, offset),
                checked=hour in checked,
            )
            for hour, local in offsets.hours_in_local_order(offset)
        ]

    @property
    def grid_offset_value(self) -> int:
        if not self.is_bound:
            return 0
        return self.reading.grid_offset

    @property
    def grid_moved(self) -> bool:
        """True when the zone's offset differs from the one the posted grid was drawn for."""
        return self.is_bound and self.data.get("grid_offset", "") != str(self.grid_offset_value)

    @property
    def grid_has_shifted_hours(self) -> bool:
        return any(cell.day_shift for cell in self.hour_grid())

    @property
    def tags_full(self) -> bool:
        """True when the form shows as many tag rows as a policy may have (no row may be added)."""
        return len(self.tag_rows) >= limits.MAX_TAGS

    @property
    def max_tags(self) -> int:
        return limits.MAX_TAGS

    @property
    def grid_offset_text(self) -> str:
        return offsets.format_offset(self.grid_offset_value)
