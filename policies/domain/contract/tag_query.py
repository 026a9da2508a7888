"""Query policies by tag: the body of ``POST .../backuppolicy/resource_instances/action``.

Pure Python like the rest of the core: it reads any decoded JSON value into a :class:`TagQuery`
or the list of problems, and says what a match is (:func:`matches`). The database does the
filtering (``policies.selectors.policy_query_by_tags``) with the same meaning; a test holds the two to it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from policies.domain.contract.check import ASCII_SET, suggest
from policies.domain.contract.codes import (
    BAD_FIELD,
    BODY_EMPTY,
    PREDICATE,
    QUOTE,
    REQUEST,
    TAG,
    TAG_ACTION,
    Problem,
    kind_of_shown,
    sort_problems,
)
from policies.domain.contract.limits import NAME_MAX
from policies.domain.contract.specs import Tag
from policies.domain.contract.tag_bodies import check_tag_text
from policies.domain.contract.values import describe, field_name_shown, show

ACTIONS: tuple[str, ...] = ("filter", "count")
TAG_LISTS: tuple[str, ...] = ("tags", "tags_any", "not_tags", "not_tags_any")
FIELDS: tuple[str, ...] = ("action", *TAG_LISTS, "matches", "limit", "offset")
MAX_FILTERS = 10  # keys in one tag list
MAX_VALUES = 10  # values of one key
LIMIT_RANGE = (1, 1000)
DEFAULT_LIMIT = LIMIT_RANGE[1]
MATCH_KEYS: tuple[str, ...] = ("resource_name",)
_DIGITS = re.compile(r"[0-9]+")
# A policy name holds only these characters, so a substring with any other could never match.
_NAME_PART = re.compile(r"[A-Za-z0-9_-]*")


@dataclass(frozen=True)
class TagFilter:
    """One key of a tag list, with the values that match (none listed: any value)."""

    key: str
    values: tuple[str, ...] = ()

    def holds(self, tags: Mapping[str, str]) -> bool:
        return self.key in tags and (not self.values or tags[self.key] in self.values)


@dataclass(frozen=True)
class TagQuery:
    action: str
    tags: tuple[TagFilter, ...] = ()
    tags_any: tuple[TagFilter, ...] = ()
    not_tags: tuple[TagFilter, ...] = ()
    not_tags_any: tuple[TagFilter, ...] = ()
    name_contains: tuple[str, ...] = ()
    limit: int = DEFAULT_LIMIT
    offset: int = 0

    @property
    def counts_only(self) -> bool:
        return self.action == "count"


def matches(query: TagQuery, *, name: str, tags: Iterable[Tag]) -> bool:
    """Say whether a policy with this name and these tags is one the query finds.

    ``tags``: every listed key holds; ``tags_any``: one does; ``not_tags``: out when every listed
    key holds; ``not_tags_any``: out when one does; ``matches``: the name contains each value,
    ignoring case. An absent list filters nothing.
    """
    held = {tag.key: tag.value for tag in tags}
    if query.tags and not all(f.holds(held) for f in query.tags):
        return False
    if query.tags_any and not any(f.holds(held) for f in query.tags_any):
        return False
    if query.not_tags and all(f.holds(held) for f in query.not_tags):
        return False
    if query.not_tags_any and any(f.holds(held) for f in query.not_tags_any):
        return False
    return all(part.lower() in name.lower() for part in query.name_contains)


class _Reader:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def refuse(self, path: str, code: str, detail: str, kind: str = PREDICATE) -> None:
        # The detail is said of the field; the API's message puts the field in front (once).
        self.problems.append(Problem(path, code, detail, kind))

    def item_object(self, item: Any, path: str, code: str, shape: str, fields: tuple[str, str]) -> bool:
        """Refuse a list item that is no object, or each field of it not in ``fields``."""
        if not isinstance(item, Mapping):
            self.refuse(path, code, f"must be an object {shape}, not {describe(item)}")
            return False
        for field_name in item:
            if field_name not in fields:
                hint = " (a list: 'values')" if field_name == "value" and "values" in fields else ""
                self.refuse(
                    f"{path}.{field_name_shown(field_name)}",  # a client's name: escaped, never raw
                    code,
                    f"is not a field here{hint}; give '{fields[0]}' and '{fields[1]}'",
                )
        return True

    def tag_list(self, raw: Any, name: str) -> tuple[TagFilter, ...]:
        if raw is None:
            return ()
        shape = '{"key": ..., "values": [...]}'
        if not isinstance(raw, list) or not raw:
            what = "an empty list" if isinstance(raw, list) else describe(raw)
            self.refuse(name, TAG, f"must be a non-empty list of {shape} objects, not {what}; leave it out")
            return ()
        if len(raw) > MAX_FILTERS:
            self.refuse(name, TAG, f"has {len(raw)} keys; give at most {MAX_FILTERS}")
        filters: list[TagFilter] = []
        seen: set[str] = set()
        for index, item in enumerate(raw):
            path = f"{name}[{index}]"
            if not self.item_object(item, path, TAG, shape, ("key", "values")):
                continue
            key, problems = check_tag_text(item.get("key"), f"{path}.key", key=True)
            self.problems.extend(problems)
            values = self.values(item.get("values"), f"{path}.values")
            if key is None or values is None:
                continue
            if key in seen:
                self.refuse(f"{path}.key", TAG, f"repeats the key {key!r}; give each key once")
                continue
            seen.add(key)
            filters.append(TagFilter(key, values))
        return tuple(filters)

    def values(self, raw: Any, path: str) -> tuple[str, ...] | None:
        if raw is None:
            return ()
        if not isinstance(raw, list):
            self.refuse(path, TAG, f"must be a list of tag values (empty: any value), not {describe(raw)}")
            return None
        if len(raw) > MAX_VALUES:
            self.refuse(path, TAG, f"has {len(raw)} values; give at most {MAX_VALUES}")
            return None
        found: list[str] = []
        ok = True
        for index, item in enumerate(raw):
            value, problems = check_tag_text(item, f"{path}[{index}]", key=False)
            self.problems.extend(problems)
            ok = ok and value is not None
            if value is not None and value not in found:
                found.append(value)
        return tuple(found) if ok else None

    def name_parts(self, raw: Any) -> tuple[str, ...]:
        if raw is None:
            return ()
        shape = '{"key": "resource_name", "value": ...}'
        if not isinstance(raw, list):
            self.refuse("matches", BAD_FIELD, f"must be a list of {shape} objects, not {describe(raw)}")
            return ()
        parts: list[str] = []
        for index, item in enumerate(raw):
            path = f"matches[{index}]"
            if not self.item_object(item, path, BAD_FIELD, shape, ("key", "value")):
                continue
            key, value = item.get("key"), item.get("value")
            if key not in MATCH_KEYS or not isinstance(key, str):
                self.refuse(
                    f"{path}.key",
                    BAD_FIELD,
                    f"{show(key)} cannot be matched; use 'resource_name'",
                    kind_of_shown(key),
                )
            if not isinstance(value, str) or len(value) > NAME_MAX or not _NAME_PART.fullmatch(value):
                what = show(value) if isinstance(value, str) else describe(value)
                self.refuse(
                    f"{path}.value",
                    BAD_FIELD,
                    f"must be part of a policy name: a string of at most {NAME_MAX} of "
                    f"{ASCII_SET}, not {what}",
                )
            elif key in MATCH_KEYS:
                parts.append(value)
        return tuple(parts)

    def number(self, raw: Any, name: str, low: int, high: int | None, default: int) -> int:
        if raw is None:
            return default
        span = f"from {low} to {high}" if high is not None else f"of {low} or more"
        if not isinstance(raw, str) or not _DIGITS.fullmatch(raw):
            hint = f' (a string: "{raw}")' if isinstance(raw, int) and not isinstance(raw, bool) else ""
            self.refuse(
                name,
                BAD_FIELD,
                f"must be a string holding an integer {span}, not {describe(raw)}{hint}",
            )
            return default
        if len(raw) > 12 or int(raw) < low or (high is not None and int(raw) > high):
            self.refuse(name, BAD_FIELD, f"{show(raw)} is out of range; use an integer {span}", QUOTE)
            return default
        return int(raw)


def parse_tag_query(body: Any) -> tuple[TagQuery | None, tuple[Problem, ...]]:
    """Read a tag query body: return the query, or every problem in the contract's order.

    ``null`` for an optional field means absent, as everywhere in the API.
    """
    if not isinstance(body, Mapping) or not body:
        what = "empty" if body is None or body == {} else describe(body)
        shape = '{"action": "filter" or "count", "tags": [...], ...}'
        return None, (
            Problem("body", BODY_EMPTY, f"the body must be a JSON object {shape}, not {what}", REQUEST),
        )
    read = _Reader()
    for name in body:
        if name not in FIELDS:
            shown = field_name_shown(name)  # a client's name: escaped, never raw
            read.problems.append(Problem(shown, BAD_FIELD, suggest("", str(name), FIELDS, {}), REQUEST))
    action = body.get("action")
    if action is None:
        read.refuse("action", TAG_ACTION, "is required; use 'filter' or 'count'")
    elif not isinstance(action, str) or action not in ACTIONS:
        read.refuse("action", TAG_ACTION, f"{show(action)} is not an action; use 'filter' or 'count'")
    lists = {name: read.tag_list(body.get(name), name) for name in TAG_LISTS}
    name_contains = read.name_parts(body.get("matches"))
    limit = read.number(body.get("limit"), "limit", *LIMIT_RANGE, DEFAULT_LIMIT)
    offset = read.number(body.get("offset"), "offset", 0, None, 0)
    if read.problems:
        return None, tuple(sort_problems(read.problems))
    return TagQuery(action, **lists, name_contains=name_contains, limit=limit, offset=offset), ()
