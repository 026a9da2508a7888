"""How the dashboard's form and the admin's form show a problem of the core or of a service.

A :class:`~policies.domain.contract.codes.Problem` names its field (a JSON path), its code and a detail
said of that field ("is required; ..."), with the detail's ``kind``. Each entrance shows the
problem at its own form field, in a sentence that starts with its own subject ("The name is
required; ..."): both tables live here, next to the one function that makes the sentence. Nothing
here reads the core's words; the grammar is the problem's ``kind``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from django.utils.html import format_html

from policies.domain.contract import codes, limits

TAG_SUBJECTS: Mapping[str | None, str] = {"key": "The key", "value": "The value", None: "The tag"}
TAGS_SUBJECT = "The tags"


def tags_sentence(problem: codes.Problem, filled: int) -> str:
    """Say a problem of the tag list as a whole; ``filled``: how many tag rows are filled in."""
    if problem.code == codes.TAG_COUNT:
        return f"A policy has at most {limits.MAX_TAGS} tags; remove {filled - limits.MAX_TAGS}."
    return sentence(problem, TAGS_SUBJECT)


def _sentence(text: str) -> str:
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else f"{text}."


def sentence(problem: codes.Problem, subject: str, *, quote_takes_subject: bool = True) -> str:
    """Say a problem as a sentence of its own: "is required" after "The name" is "The name is required.".

    A detail that starts by quoting the value ("'12:30' is not a full hour") gets the subject only
    when ``quote_takes_subject``: the dashboard says "The start times '12:30' is ...", the admin,
    which shows the problem beside the very box, just "'12:30' is ...".
    """
    if problem.kind == codes.PREDICATE or (problem.kind == codes.QUOTE and quote_takes_subject):
        return _sentence(f"{subject} {problem.detail}")
    return _sentence(problem.detail)


@dataclass(frozen=True)
class Places:
    """Where one entrance's form shows each contract field, and the subject of its sentences."""

    fields: Mapping[str, str | None]  # JSON path without list indexes -> form field
    subjects: Mapping[str | None, str]  # form field (None: the whole form) -> subject
    by_code: Mapping[str, str | None] = field(
        default_factory=dict
    )  # a code shown elsewhere, whatever its path
    by_problem: Mapping[tuple[str, str], str | None] = field(default_factory=dict)  # (path, code) -> field

    def field_for(self, problem: codes.Problem) -> str | None:
        """Return the form field at which a problem is fixed (None: the whole form)."""
        path = codes.path_without_indexes(problem.field)
        if problem.code in self.by_code:
            return self.by_code[problem.code]
        return self.by_problem.get((path, problem.code), self.fields.get(path))


DASHBOARD = Places(
    fields={
        "backup_policy_name": "name",
        "time_zone": "time_zone",
        "time_zone_name": "time_zone",
        "scheduled_policy.start_time": "hours",
        "scheduled_policy.frequency": "frequency",
        "scheduled_policy.week_frequency": "week_days",
        "scheduled_policy.rentention_num": "retention_num",
        "scheduled_policy.rentention_day": "retention_day",
        "scheduled_policy.remain_first_backup_of_curMonth": "keep_first",
        "scheduled_policy.status": "status",
    },
    subjects={
        "name": "The name",
        "time_zone": "The time zone",
        "schedule_kind": "The schedule",
        "week_days": "The days",
        "frequency": "The number of days",
        "hours": "The start times",
        "retention_num": "The number of backups",
        "retention_day": "The number of days",
        "keep_first": "This choice",
        "status": "The status",
        None: "The policy",
    },
    # A few problems are fixed elsewhere in the form than the JSON path suggests.
    by_problem={
        ("scheduled_policy.frequency", codes.TIME_ZONE): "schedule_kind",
        ("project_id", codes.QUOTA): None,
    },
)

# The Backups pages: a restore's refusals, at the new volume's name or above the form.
BACKUPS = Places(
    fields={"restore.name": "name", "restore.volume_id": None, "backup_id": None},
    subjects={"name": "The new volume's name", None: "The backup"},
)

ADMIN = Places(
    fields={
        "backup_policy_name": "name",
        "scheduled_policy.start_time": "start_time",
        "scheduled_policy.frequency": "frequency",
        "scheduled_policy.week_frequency": "week_frequency",
        "scheduled_policy.rentention_num": "retention_num",
        "scheduled_policy.rentention_day": "retention_day",
        "scheduled_policy.remain_first_backup_of_curMonth": "keep_first_of_month",
        "scheduled_policy.status": "status",
        "time_zone": "time_zone",
        "time_zone_name": "time_zone_name",
    },
    subjects={
        "name": "The name",
        "tenant": "The project",
        "start_time": "The start times",
        "frequency": "The frequency",
        "week_frequency": "The weekdays",
        "retention_num": "The number of backups",
        "retention_day": "The number of days",
        "keep_first_of_month": "This choice",
        "status": "The status",
        "time_zone": "The time zone",
        "time_zone_name": "The named time zone",
        None: "The policy",
    },
    # The quota is the chosen tenant's problem, not the name's (where the contract reports it).
    by_code={codes.QUOTA: "tenant"},
)


def admin_sentence(problem: codes.Problem, subject: str, *, said: str | None = None) -> str:
    """Say a problem in the admin: the sentence (or ``said``), with the API's error code as its tooltip.

    Staff read the words; the code is there for one who matches it with what an API client got.
    """
    return format_html(
        '<span title="API error code {}">{}</span>',
        problem.code,
        said or sentence(problem, subject, quote_takes_subject=False),
    )
