"""Error codes and problems: what is wrong with a request, where, and under which code."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# --- Error codes, in the order of the contract's error table: the first one found decides. ----

BODY_EMPTY = "AutoBackup.0000"
BAD_FIELD = "AutoBackup.0001"  # scheduled_policy missing or not an object; an unknown field
NO_TOKEN = "AutoBackup.0002"
BAD_TOKEN = "AutoBackup.0003"
BAD_JSON = "AutoBackup.0008"
SERVER_ERROR = "AutoBackup.0009"
NAME_LENGTH = "AutoBackup.0101"
NAME_CHARS = "AutoBackup.0102"
START_TIME = "AutoBackup.0103"
STATUS = "AutoBackup.0104"
KEEP_FIRST = "AutoBackup.0105"
FREQUENCY = "AutoBackup.0106"
RETENTION = "AutoBackup.0107"
QUOTA = "AutoBackup.0203"
NAME_TAKEN = "AutoBackup.0230"
POLICY_NOT_FOUND = "AutoBackup.0205"
FORBIDDEN_PROJECT = "AutoBackup.0213"
TAG = "AutoBackup.0214"
TAG_COUNT = "AutoBackup.0215"
TAG_NOT_FOUND = "AutoBackup.0216"
TAG_ACTION = "AutoBackup.0222"
TIME_ZONE = "AutoBackup.0226"
QUERY_PARAM = "AutoBackup.0013"  # ours: a bad query parameter of the forecast routes (docs/api.md)
# Ours, for the backups and restores (docs/api.md, "Backups and restore").
BACKUP_NOT_FOUND = "AutoBackup.0240"
BACKUP_VOLUME_NOT_FOUND = "AutoBackup.0241"
BACKUP_BUSY = "AutoBackup.0242"  # the backup is being made, deleted or restored
VOLUME_BUSY = "AutoBackup.0243"  # the target volume is being backed up or restored
RESTORE_NAME = "AutoBackup.0244"  # the new volume's name is not a plain name, or is taken
BACKUP_STORAGE = "AutoBackup.0245"  # the provider could not delete the backup's stored copy
# Ours, for the webhooks and e-mail recipients (docs/api.md, "Webhooks").
WEBHOOK_NOT_FOUND = "AutoBackup.0250"
WEBHOOK_URL = "AutoBackup.0251"  # not an absolute http(s) URL, credentials in it, plain http in production
WEBHOOK_EVENTS = "AutoBackup.0252"  # events missing, empty, repeated or of an unknown type
WEBHOOK_ADDRESS = (
    "AutoBackup.0253"  # the host resolves to a loopback, private, link-local or metadata address
)
WEBHOOK_LIMIT = "AutoBackup.0254"  # the project already has the most endpoints (or recipients) it may
WEBHOOK_DESCRIPTION = "AutoBackup.0255"
RECIPIENT_ADDRESS = "AutoBackup.0256"  # not an e-mail address, or one the project already has

CODE_ORDER: tuple[str, ...] = (
    BODY_EMPTY,
    BAD_JSON,
    BAD_FIELD,
    NAME_LENGTH,
    NAME_CHARS,
    START_TIME,
    STATUS,
    KEEP_FIRST,
    FREQUENCY,
    RETENTION,
    TAG_ACTION,
    TAG,
    TAG_COUNT,
    TIME_ZONE,
    QUOTA,
    NAME_TAKEN,
)


# How a problem's detail reads, so that each entrance can phrase it without parsing the words.
PREDICATE = "predicate"  # says something of the field: "is required; give a name of 1 to 64 characters"
QUOTE = "quote"  # starts by quoting the value sent: "'12:30' is not a full hour; use 12:00"
STATEMENT = "statement"  # a sentence of its own about the field: "02:00 UTC (local 04:00) comes after ..."
REQUEST = "request"  # about the request, naming its own subject: "the body is empty", "unknown field 'x'"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a request: where (JSON path), which code, and how to fix it.

    ``detail`` is said of ``field`` ("is required; ..."); ``kind`` says how it reads (one of
    :data:`PREDICATE`, :data:`QUOTE`, :data:`STATEMENT`, :data:`REQUEST`), so that the dashboard
    and the admin can put their own subject in front without reading the words.
    """

    field: str
    code: str
    detail: str
    kind: str = PREDICATE

    @property
    def message(self) -> str:
        """The API's message: ``"<field>: <detail>"``, or the detail alone when it names its subject."""
        return self.detail if self.kind == REQUEST else f"{self.field}: {self.detail}"

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}


def policy_not_found_problem(policy_id: object) -> Problem:
    """The refusal of a policy ID the project does not have (a route's path names it)."""
    return Problem(
        "policy_id",
        POLICY_NOT_FOUND,
        f"the project has no backup policy {str(policy_id)!r}; list the project's policies for their IDs",
        STATEMENT,
    )


def kind_of_shown(value: object) -> str:
    """The kind of a detail that starts with the value itself: a string is shown in quotes."""
    return QUOTE if isinstance(value, str) else STATEMENT


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    """Order problems as the contract's table does, keeping discovery order within a code."""
    rank = {code: index for index, code in enumerate(CODE_ORDER)}
    return sorted(problems, key=lambda p: rank.get(p.code, len(rank)))


_PATH_INDEX = re.compile(r"\[\d+\]")
_TAG_PATH = re.compile(r"tags\[(\d+)\](?:\.(\w+))?")


def path_without_indexes(path: str) -> str:
    """``"scheduled_policy.week_frequency[2]"`` -> ``"scheduled_policy.week_frequency"``."""
    return _PATH_INDEX.sub("", path)


def tag_of_path(path: str) -> tuple[int, str | None] | None:
    """For a problem at ``tags[3]`` or ``tags[3].key``: ``(3, None)`` or ``(3, "key")``."""
    match = _TAG_PATH.fullmatch(path)
    return (int(match.group(1)), match.group(2)) if match else None
