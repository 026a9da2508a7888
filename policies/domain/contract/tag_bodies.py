"""The tags of a policy: the ``tags`` list of a body, and the bodies of the tag routes."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

from policies.domain.contract.check import (
    ASCII_SET,
    MISSING,
    NAME_CHARACTERS,
    Checked,
    collect,
    unknown_fields,
)
from policies.domain.contract.codes import (
    BODY_EMPTY,
    QUOTE,
    REQUEST,
    STATEMENT,
    TAG,
    TAG_ACTION,
    TAG_COUNT,
    TAG_NOT_FOUND,
    Problem,
    kind_of_shown,
    sort_problems,
)
from policies.domain.contract.limits import MAX_TAGS, TAG_FIELDS, TAG_KEY_MAX, TAG_VALUE_MAX
from policies.domain.contract.specs import TAG_ACTIONS, Tag, TagAction
from policies.domain.contract.values import describe, field_name_shown, show


def check_tags(value: Any) -> Checked[tuple[Tag, ...]]:
    """Check ``tags``: at most 10 tags, each key once."""
    if value is MISSING or value is None:
        return Checked(())
    if not isinstance(value, list):
        return Checked(
            (),
            (Problem("tags", TAG, f'must be a list of {{"key", "value"}} objects, not {describe(value)}'),),
        )
    problems: list[Problem] = []
    if len(value) > MAX_TAGS:
        problems.append(Problem("tags", TAG_COUNT, f"has {len(value)} tags; a policy has at most {MAX_TAGS}"))
    found, seen = [], set()
    for index, item in enumerate(value):
        one = collect(problems, check_tag(item, f"tags[{index}]"))
        if one is None:
            continue
        if one.key in seen:
            problems.append(
                Problem(f"tags[{index}].key", TAG, f"repeats the key {show(one.key)}; give each key once")
            )
            continue
        seen.add(one.key)
        found.append(one)
    return Checked(tuple(found), tuple(problems))


def check_tag(item: Any, path: str) -> Checked[Tag | None]:
    """Check one tag ``{"key": ..., "value": ...}`` at ``path``."""
    if not isinstance(item, Mapping):
        return Checked(
            None,
            (Problem(path, TAG, f'must be an object {{"key": ..., "value": ...}}, not {describe(item)}'),),
        )
    problems = []
    for name in item:
        if name not in TAG_FIELDS:
            match = difflib.get_close_matches(str(name).lower(), TAG_FIELDS, n=1, cutoff=0.6)
            hint = f"did you mean '{match[0]}'? " if match else ""
            problems.append(
                Problem(
                    f"{path}.{field_name_shown(name)}",
                    TAG,
                    f"is not a tag field; {hint}a tag has only 'key' and 'value'",
                )
            )
    ok = not problems
    key = collect(problems, _tag_text(item.get("key", MISSING), f"{path}.key", 1, TAG_KEY_MAX))
    value = collect(problems, _tag_text(item.get("value", MISSING), f"{path}.value", 0, TAG_VALUE_MAX))
    if key is None or value is None or not ok:
        return Checked(None, tuple(problems))
    return Checked(Tag(key, value), tuple(problems))


def _tag_text(value: Any, path: str, low: int, high: int) -> Checked[str | None]:
    if value is MISSING or value is None:
        hint = " (an empty string is allowed)" if low == 0 else ""
        return Checked(None, (Problem(path, TAG, f"is required{hint}"),))
    if not isinstance(value, str):
        return Checked(None, (Problem(path, TAG, f"must be a string, not {describe(value)}"),))
    problems = []
    if not low <= len(value) <= high:
        problems.append(Problem(path, TAG, f"has {len(value)} characters; use {low} to {high}"))
    if not NAME_CHARACTERS.fullmatch(value):
        problems.append(Problem(path, TAG, f"{show(value)} may contain only {ASCII_SET}", QUOTE))
    return Checked(None if problems else value, tuple(problems))


def check_tag_text(value: Any, path: str, *, key: bool) -> tuple[str | None, tuple[Problem, ...]]:
    """Check one tag key (``key=True``) or value by the tag rules; return it, or its problems."""
    low, high = (1, TAG_KEY_MAX) if key else (0, TAG_VALUE_MAX)
    return tuple(_tag_text(MISSING if value is None else value, path, low, high))


def _body_problem(body: Any, shape: str) -> Problem | None:
    if isinstance(body, Mapping) and body:
        return None
    what = "empty" if body is None or body == {} else describe(body)
    return Problem("body", BODY_EMPTY, f"the body must be a JSON object {shape}, not {what}", REQUEST)


def parse_tag_body(body: Any) -> tuple[Tag | None, tuple[Problem, ...]]:
    """Read ``{"tag": {"key", "value"}}``, the body that adds or replaces one tag."""
    empty = _body_problem(body, '{"tag": {"key": ..., "value": ...}}')
    if empty:
        return None, (empty,)
    problems = unknown_fields(
        body, "", ("tag",), {"key": "'tag.key'", "value": "'tag.value'", "tags": "'tag'"}
    )
    raw = body.get("tag", MISSING)
    tag = None
    if raw is MISSING or raw is None:
        problems.append(Problem("tag", TAG, 'is required; send {"tag": {"key": ..., "value": ...}}'))
    else:
        tag = collect(problems, check_tag(raw, "tag"))
    if problems:
        return None, tuple(sort_problems(problems))
    return tag, ()


_ACTION_WORDS = "'create', 'update' or 'delete'"


def parse_tag_action(body: Any) -> tuple[TagAction | None, tuple[Problem, ...]]:
    """Read ``{"action": "create" | "update" | "delete", "tags": [...]}``, the batch tag body.

    ``tags`` may be absent, null or empty: the Go SDK and the Terraform provider leave an empty
    list out, and such a request changes nothing.
    """
    empty = _body_problem(body, '{"action": "create", "update" or "delete", "tags": [...]}')
    if empty:
        return None, (empty,)
    problems = unknown_fields(
        body, "", ("action", "tags"), {"key": "'tags[].key'", "value": "'tags[].value'"}
    )
    action = body.get("action", MISSING)
    if action is MISSING or action is None:
        problems.append(Problem("action", TAG_ACTION, f"is required; use {_ACTION_WORDS}"))
        action = None
    elif action not in TAG_ACTIONS or not isinstance(action, str):
        problems.append(
            Problem(
                "action",
                TAG_ACTION,
                f"{show(action)} is not an action; use {_ACTION_WORDS}",
                kind_of_shown(action),
            )
        )
        action = None

    raw = body.get("tags", MISSING)
    tags: tuple[Tag, ...] = ()
    any_value: set[str] = set()
    if raw is MISSING or raw is None or raw == []:
        pass
    elif action not in ("create", "update") and isinstance(raw, list):
        # Delete names keys; a value, when given, must match the stored one.
        found: list[Tag] = []
        for index, item in enumerate(raw):
            if isinstance(item, Mapping) and item.get("value") is None and "key" in item:
                probe = collect(problems, check_tag({**item, "value": ""}, f"tags[{index}]"))
                if probe is not None:
                    any_value.add(probe.key)
                    found.append(probe)
            else:
                tag = collect(problems, check_tag(item, f"tags[{index}]"))
                if tag is not None:
                    found.append(tag)
        tags = tuple(found)
    else:
        tags = collect(problems, check_tags(raw))
    if problems or action is None:
        return None, tuple(sort_problems(problems))
    return TagAction(action, tags, frozenset(any_value)), ()


def parse_tags(value: Any) -> tuple[tuple[Tag, ...], tuple[Problem, ...]]:
    """Read a policy's list of tags alone, with the rules ``parse_policy`` reads its ``tags`` by.

    For an entrance that edits the tags apart from the other fields (the admin's tag rows): the
    problems name ``tags[i].key`` and the like, as in a create body.
    """
    tags, problems = check_tags(value)
    return tags, tuple(sort_problems(problems))


def tag_count_problem(count: int) -> Problem:
    """The refusal of a tag change that would leave a policy with ``count`` (> 10) tags."""
    return Problem(
        "tags",
        TAG_COUNT,
        f"the policy would have {count} tags; a policy has at most {MAX_TAGS}, so remove some first",
        STATEMENT,
    )


def tag_not_found_problem(key: str, known: Iterable[str] = ()) -> Problem:
    """The refusal of removing a tag the policy lacks; names a key that differs only in case."""
    detail = f"the policy has no tag with the key {show(key)}"
    same_but_case = [other for other in known if other.lower() == key.lower()]
    if same_but_case:
        detail += f"; did you mean {show(same_but_case[0])}? (tag keys are case-sensitive)"
    return Problem("key", TAG_NOT_FOUND, detail, STATEMENT)
