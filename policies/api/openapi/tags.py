"""The OpenAPI description of the tag operations: a policy's tags, the project's, the batch, the query.

The tag bodies (a key, a value, the batch's two actions, the query's lists) as JSON Schema. Keys
distinct within a policy or a list and the ten-tag limit after a change relate a body to itself
or to what is stored: the descriptions say them (docs/api.md, "OpenAPI").
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter

from policies.domain.contract import codes, limits, tag_query

from .builders import (
    BODY_CODES,
    NAME,
    POLICY_PATH,
    PROJECT_ID,
    TAG_VALUE,
    components,
    nullable,
    operation,
    ref,
)

TAG_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["key", "value"],
    "properties": {
        "key": {"type": "string", "minLength": 1, "maxLength": limits.TAG_KEY_MAX, "pattern": NAME},
        "value": {
            "type": "string",
            "minLength": 0,
            "maxLength": limits.TAG_VALUE_MAX,
            "pattern": TAG_VALUE,
            "description": "May be empty, but must be present.",
        },
    },
    "description": "A tag. Keys are case-sensitive and distinct within a policy.",
}


components(
    {
        "Tag": TAG_SCHEMA,
        "TagBody": {
            "example": {"tag": {"key": "env", "value": "prod"}},
            "type": "object",
            "additionalProperties": False,
            "required": ["tag"],
            "properties": {"tag": ref("Tag")},
            "description": "Adds the tag, or replaces the value of the tag with this key.",
        },
        "TagActionCreate": {
            "type": "object",
            "additionalProperties": False,
            "required": ["action"],
            "properties": {
                "action": {"type": "string", "enum": ["create", "update"]},
                "tags": nullable({"type": "array", "maxItems": limits.MAX_TAGS, "items": ref("Tag")}),
            },
            "description": "`create` and `update` both add each tag, or replace the value of the tag "
            "with its key. Without `tags` (or with `null` or `[]`) nothing changes.",
        },
        "TagActionDelete": {
            "type": "object",
            "additionalProperties": False,
            "required": ["action"],
            "properties": {
                "action": {"type": "string", "enum": ["delete"]},
                "tags": nullable(
                    {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["key"],
                            "properties": {
                                "key": TAG_SCHEMA["properties"]["key"],
                                "value": nullable(TAG_SCHEMA["properties"]["value"]),
                            },
                        },
                    }
                ),
            },
            "description": "Removes each listed key; when a value is given, only if it matches. Keys "
            "the policy does not have are ignored. Without `tags` (or with `null` or `[]`) nothing "
            "changes.",
        },
        "TagAction": {
            "example": {"action": "delete", "tags": [{"key": "env"}, {"key": "team", "value": "db"}]},
            "oneOf": [ref("TagActionCreate"), ref("TagActionDelete")],
            "description": "The batch tag body. Another `action` is refused with `AutoBackup.0222`.",
        },
        "TagQueryKey": {
            "type": "object",
            "additionalProperties": False,
            "required": ["key"],
            "properties": {
                "key": TAG_SCHEMA["properties"]["key"],
                "values": nullable(
                    {
                        "type": "array",
                        "maxItems": tag_query.MAX_VALUES,
                        "items": {
                            k: v for k, v in TAG_SCHEMA["properties"]["value"].items() if k != "description"
                        },
                        "description": "The values that match; none (absent, `null` or `[]`): any value.",
                    }
                ),
            },
        },
        "TagQuery": {
            "example": {
                "action": "filter",
                "tags": [{"key": "env", "values": ["prod"]}],
                "limit": "10",
                "offset": "0",
            },
            "type": "object",
            "additionalProperties": False,
            "required": ["action"],
            "properties": {
                "action": {"type": "string", "enum": list(tag_query.ACTIONS)},
                **{
                    name: nullable(
                        {
                            "type": "array",
                            "minItems": 1,
                            "maxItems": tag_query.MAX_FILTERS,
                            "items": ref("TagQueryKey"),
                            "description": description + " Keys distinct; a list that is sent is not empty.",
                        }
                    )
                    for name, description in (
                        ("tags", "A policy is found when it has every listed key with one of its values."),
                        ("tags_any", "A policy is found when it has any listed key with one of its values."),
                        (
                            "not_tags",
                            "A policy is left out when it has every listed key with one of its values.",
                        ),
                        (
                            "not_tags_any",
                            "A policy is left out when it has any listed key with one of its values.",
                        ),
                    )
                },
                "matches": nullable(
                    {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["key", "value"],
                            "properties": {
                                "key": {"type": "string", "enum": list(tag_query.MATCH_KEYS)},
                                "value": {
                                    "type": "string",
                                    "maxLength": limits.NAME_MAX,
                                    "pattern": TAG_VALUE,
                                },
                            },
                        },
                        "description": "Keeps the policies whose name contains each `value`, ignoring case.",
                    }
                ),
                "limit": nullable(
                    {
                        "type": "string",
                        "maxLength": 12,
                        "pattern": r"^0*(?:[1-9][0-9]{0,2}|1000)$",
                        "description": "A string holding an integer, 1-1000 (default 1000): the page size.",
                    }
                ),
                "offset": nullable(
                    {
                        "type": "string",
                        "maxLength": 12,
                        "pattern": r"^[0-9]+$",
                        "description": "A string holding an integer, 0 or more (default 0).",
                    }
                ),
            },
            "description": "Find the project's policies by tag. Every list given must hold; `limit` and "
            "`offset` page the `filter` answer (they are checked, and ignored, for `count`).",
        },
        "TagQueryResource": {
            "type": "object",
            "additionalProperties": False,
            "required": ["resource_id", "resource_name", "resource_detail", "tags"],
            "properties": {
                "resource_id": {"type": "string", "format": "uuid", "description": "The policy's ID."},
                "resource_name": {"type": "string", "minLength": 1, "maxLength": limits.NAME_MAX},
                "resource_detail": {"type": "object", "nullable": True, "enum": [None]},
                "tags": {"type": "array", "maxItems": limits.MAX_TAGS, "items": ref("Tag")},
            },
        },
        "TagQueryAnswer": {
            "type": "object",
            "additionalProperties": False,
            "required": ["total_count"],
            "properties": {
                "resources": {
                    "type": "array",
                    "maxItems": tag_query.LIMIT_RANGE[1],
                    "items": ref("TagQueryResource"),
                    "description": "`filter` only: one page of the policies found, in creation order.",
                },
                "total_count": {
                    "type": "integer",
                    "minimum": 0,
                    "description": "Every policy found, whatever the page.",
                },
            },
        },
        "PolicyTags": {
            "type": "object",
            "additionalProperties": False,
            "required": ["tags"],
            "properties": {"tags": {"type": "array", "maxItems": limits.MAX_TAGS, "items": ref("Tag")}},
        },
        "ProjectTags": {
            "type": "object",
            "additionalProperties": False,
            "required": ["tags"],
            "properties": {
                "tags": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["key", "values"],
                        "properties": {
                            "key": TAG_SCHEMA["properties"]["key"],
                            "values": {
                                "type": "array",
                                "minItems": 1,
                                "uniqueItems": True,
                                "items": {
                                    k: v
                                    for k, v in TAG_SCHEMA["properties"]["value"].items()
                                    if k != "description"
                                },
                            },
                        },
                    },
                    "description": "Each key used in the project's policies once, with its distinct "
                    "values; keys and values sorted by code point.",
                }
            },
        },
    }
)

KEY = OpenApiParameter(
    "key",
    {"type": "string", "minLength": 1, "maxLength": limits.TAG_KEY_MAX, "pattern": NAME},
    OpenApiParameter.PATH,
    description="The tag's key (case-sensitive). A key the policy does not have, whatever its "
    "characters, is 404 `AutoBackup.0216`.",
)


TAGS = "tags"

project_tags = operation(
    operation_id="listProjectTags",
    summary="List the tags of all the project's policies",
    description="Each key once with its distinct values; keys and values sorted by code point.",
    tag=TAGS,
    success=(200, ref("ProjectTags"), "The project's tags."),
    refusals={},
    parameters=[PROJECT_ID],
)

policy_tags = operation(
    operation_id="listPolicyTags",
    summary="List a policy's tags",
    description="The policy's tags in the order they were added.",
    tag=TAGS,
    success=(200, ref("PolicyTags"), "The policy's tags."),
    refusals={},
    parameters=POLICY_PATH,
)

put_tag = operation(
    operation_id="createPolicyTag",
    summary="Add a tag to a policy, or replace its value",
    description="Adds the tag, or replaces the value of the tag with the same key (keeping its "
    "place). A policy has at most 10 tags.",
    tag=TAGS,
    request={"application/json": ref("TagBody")},
    success=(204, None, "Stored; the answer has no body."),
    refusals={
        400: (*BODY_CODES, codes.TAG, codes.TAG_COUNT),
    },
    parameters=POLICY_PATH,
)

_REMOVE_TAG = {
    "tag": TAGS,
    "success": (204, None, "Removed; the answer has no body."),
    "refusals": {404: (codes.TAG_NOT_FOUND,)},
}

remove_tag = operation(
    operation_id="deletePolicyTag",
    summary="Remove a tag from a policy",
    description="Removes the tag with this key.",
    parameters=[*POLICY_PATH, KEY],
    **_REMOVE_TAG,
)

remove_action_tag = operation(
    operation_id="deletePolicyTagNamedAction",
    summary="Remove the tag whose key is `action`",
    description="Removes the tag whose key is `action`: the batch route's literal path shadows "
    "`tags/{key}` for that one key, so it is served here.",
    parameters=POLICY_PATH,
    **_REMOVE_TAG,
)

tag_action = operation(
    operation_id="batchPolicyTags",
    summary="Add or remove several tags of a policy",
    description="`create` adds each tag or replaces its value; `delete` removes each listed key "
    "(when a value is given, only if it matches) and ignores keys the policy does not have. The "
    "10-tag limit applies to the result.",
    tag=TAGS,
    request={"application/json": ref("TagAction")},
    success=(204, None, "Done; the answer has no body."),
    refusals={
        400: (*BODY_CODES, codes.TAG_ACTION, codes.TAG, codes.TAG_COUNT),
    },
    parameters=POLICY_PATH,
)


query_by_tags = operation(
    operation_id="queryBackupPoliciesByTags",
    summary="Find or count the project's policies by tag",
    description="`filter` answers one page of the policies found (`resources`) and how many "
    "there are in all (`total_count`); `count` answers only `total_count`. The lists combine: a "
    "policy is found when it satisfies every list sent.",
    tag=TAGS,
    request={"application/json": ref("TagQuery")},
    success=(200, ref("TagQueryAnswer"), "The policies found, or their number."),
    refusals={400: (*BODY_CODES, codes.TAG_ACTION, codes.TAG)},
    parameters=[PROJECT_ID],
)
