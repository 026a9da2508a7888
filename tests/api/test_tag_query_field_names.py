"""The tag query echoes a client's field name only escaped, as every other route does.

A lone surrogate (``"\\ud800"`` in the JSON text) is valid JSON but cannot be written as UTF-8: a
field name echoed raw in the error envelope made the answer itself fail (a 500).
"""

from http import HTTPStatus

import pytest

from policies.domain.contract import codes
from tests.helpers.api import assert_envelope, send

pytestmark = pytest.mark.django_db

SURROGATE = "\\ud800"  # the six characters a client writes in its JSON text


def query_url(tenant) -> str:
    return f"/v2/{tenant.project_id}/backuppolicy/resource_instances/action"


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ('{"action": "count", "' + SURROGATE + '": 1}', SURROGATE),
        ('{"action": "count", "tags": [{"key": "env", "' + SURROGATE + '": []}]}', "tags[0]." + SURROGATE),
        (
            '{"action": "count", "matches": [{"key": "resource_name", "value": "a", "'
            + SURROGATE
            + '": 1}]}',
            "matches[0]." + SURROGATE,
        ),
    ],
    ids=["top-level", "tag-list-item", "matches-item"],
)
def test_a_lone_surrogate_in_a_tag_query_field_name_is_a_400_with_the_name_escaped(api, tenant, raw, field):
    response = send(api, "POST", query_url(tenant), raw=raw)
    assert response.status_code == HTTPStatus.BAD_REQUEST, response.content[:300]
    response.content.decode("utf-8")  # the answer is valid UTF-8 all through
    error = assert_envelope(
        response.status_code, response.json(), codes.TAG if "tags" in field else codes.BAD_FIELD
    )
    assert SURROGATE in error["message"], error
    assert "\ud800" not in response.content.decode("utf-8")
    assert any(detail["field"] == field for detail in error.get("details", [])), error
