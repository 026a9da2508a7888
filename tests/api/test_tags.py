"""The tag routes (docs/api.md, "Tags"): one policy's tags, one tag, the batch action, the project's tags."""

import uuid
from http import HTTPStatus

import pytest

from policies.models import AuditEvent, PolicyTag
from tests.helpers.api import error_of, policy_url, project_tags_url, send
from tests.helpers.payloads import valid_payload
from tests.helpers.policies import make_policy

pytestmark = pytest.mark.django_db

# Fixed, so that parallel workers (pytest-xdist) collect the same test IDs.
UNKNOWN_ID = "0b5e9c1e-8f43-4c6b-a1d2-93e6f0c4b7aa"


def tags_payload(*pairs: tuple[str, str]) -> list[dict]:
    return [{"key": key, "value": value} for key, value in pairs]


@pytest.fixture
def policy(tenant):
    body = valid_payload(tags=tags_payload(("env", "prod"), ("team", "db")))
    return make_policy(tenant, payload=body)


def tags_of(policy) -> list[tuple[str, str]]:
    return [(tag.key, tag.value) for tag in PolicyTag.objects.filter(policy=policy).order_by("position")]


def with_tags(tenant, count: int, name: str = "full"):
    body = valid_payload(backup_policy_name=name, tags=tags_payload(*((f"k{i}", "v") for i in range(count))))
    return make_policy(tenant, payload=body)


def tags_url(policy, *rest: str) -> str:
    return "/".join([policy_url(policy.tenant, policy), "tags", *rest])


def assert_204(response) -> None:
    assert response.status_code == HTTPStatus.NO_CONTENT, response.content
    assert response.content == b""
    assert not response.has_header("Content-Type")


# --- GET .../{policy_id}/tags ------------------------------------------------------------------


def test_a_policys_tags_are_listed_in_the_order_they_were_added(api, policy):
    response = send(api, "GET", tags_url(policy))
    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"tags": [{"key": "env", "value": "prod"}, {"key": "team", "value": "db"}]}


def test_a_policy_without_tags_lists_an_empty_list(api, tenant):
    policy = make_policy(tenant, payload=valid_payload(tags=[]))
    assert send(api, "GET", tags_url(policy)).json() == {"tags": []}


def test_a_body_on_a_get_is_ignored(api, policy):
    response = send(api, "GET", tags_url(policy), raw=b"{not json", content_type="text/plain")
    assert response.status_code == HTTPStatus.OK


# --- POST .../{policy_id}/tags -----------------------------------------------------------------


def test_adding_a_tag_answers_204_and_appends_it(api, policy):
    assert_204(send(api, "POST", tags_url(policy), {"tag": {"key": "tier", "value": ""}}))
    assert tags_of(policy) == [("env", "prod"), ("team", "db"), ("tier", "")]


def test_adding_a_tag_whose_key_exists_replaces_its_value_in_place(api, policy):
    assert_204(send(api, "POST", tags_url(policy), {"tag": {"key": "env", "value": "test"}}))
    assert tags_of(policy) == [("env", "test"), ("team", "db")]


def test_tag_keys_are_case_sensitive(api, policy):
    send(api, "POST", tags_url(policy), {"tag": {"key": "ENV", "value": "x"}})
    assert tags_of(policy) == [("env", "prod"), ("team", "db"), ("ENV", "x")]


def test_an_eleventh_tag_is_refused_with_0215(api, tenant):
    policy = with_tags(tenant, 10)
    error_of(
        send(api, "POST", tags_url(policy), {"tag": {"key": "k10", "value": "v"}}), 400, "AutoBackup.0215"
    )
    assert len(tags_of(policy)) == 10


def test_replacing_a_value_on_a_policy_with_ten_tags_is_allowed(api, tenant):
    policy = with_tags(tenant, 10)
    assert_204(send(api, "POST", tags_url(policy), {"tag": {"key": "k9", "value": "new"}}))
    assert tags_of(policy)[-1] == ("k9", "new")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "AutoBackup.0000"),
        ([], "AutoBackup.0000"),
        ({"tags": [{"key": "a", "value": "b"}]}, "AutoBackup.0001"),
        ({"tag": None}, "AutoBackup.0214"),
        ({"tag": {"key": "a"}}, "AutoBackup.0214"),
        ({"tag": {"key": "", "value": "b"}}, "AutoBackup.0214"),
        ({"tag": {"key": "k" * 37, "value": "b"}}, "AutoBackup.0214"),
        ({"tag": {"key": "a", "value": "v" * 44}}, "AutoBackup.0214"),
        ({"tag": {"key": "a b", "value": "b"}}, "AutoBackup.0214"),
        ({"tag": {"key": "a", "value": "b", "extra": 1}}, "AutoBackup.0214"),
        ({"tag": "a=b"}, "AutoBackup.0214"),
    ],
)
def test_an_invalid_tag_body_is_refused(api, policy, body, code):
    error_of(send(api, "POST", tags_url(policy), body), 400, code)
    assert tags_of(policy) == [("env", "prod"), ("team", "db")]


@pytest.mark.parametrize(("raw", "code"), [(b"", "AutoBackup.0000"), (b"{", "AutoBackup.0008")])
def test_an_empty_or_broken_tag_body_is_refused(api, policy, raw, code):
    error_of(send(api, "POST", tags_url(policy), raw=raw), 400, code)


def test_adding_a_tag_is_recorded(api, policy):
    created = AuditEvent.objects.get(action="create")  # the policy was made through the services
    send(api, "POST", tags_url(policy), {"tag": {"key": "tier", "value": "gold"}})
    event = AuditEvent.objects.exclude(pk=created.pk).get()
    assert (event.entrance, event.action) == ("api", "change")
    assert list(event.changes) == ["tags"]


def test_adding_the_same_tag_again_records_nothing(api, policy):
    created = AuditEvent.objects.get(action="create")  # the policy was made through the services
    send(api, "POST", tags_url(policy), {"tag": {"key": "env", "value": "prod"}})
    assert not AuditEvent.objects.exclude(pk=created.pk).exists()


# --- DELETE .../{policy_id}/tags/{key} -----------------------------------------------------------


def test_removing_a_tag_answers_204_and_keeps_the_others_in_order(api, policy):
    assert_204(send(api, "DELETE", tags_url(policy, "env")))
    assert tags_of(policy) == [("team", "db")]


@pytest.mark.parametrize("key", ["ENV", "nope", "env%20", "%C3%A9"])
def test_removing_a_key_the_policy_does_not_have_is_404_0216(api, policy, key):
    error = error_of(send(api, "DELETE", tags_url(policy, key)), 404, "AutoBackup.0216")
    assert error["message"].startswith("key: the policy has no tag with the key")
    assert len(tags_of(policy)) == 2


def test_a_tag_whose_key_is_action_is_removed_through_the_batch_path(api, tenant):
    policy = make_policy(tenant, payload=valid_payload(tags=tags_payload(("action", "x"))))
    assert_204(send(api, "DELETE", tags_url(policy, "action")))
    assert tags_of(policy) == []
    error_of(send(api, "DELETE", tags_url(policy, "action")), 404, "AutoBackup.0216")


def test_removing_a_tag_of_an_unknown_policy_is_404_0205(api, tenant, policy):
    url = f"{policy_url(tenant, uuid.uuid4())}/tags/env"
    error_of(send(api, "DELETE", url), 404, "AutoBackup.0205")


# --- POST .../{policy_id}/tags/action ------------------------------------------------------------


def test_batch_create_adds_and_replaces_in_one_go(api, policy):
    body = {"action": "create", "tags": tags_payload(("team", "web"), ("tier", "gold"))}
    assert_204(send(api, "POST", tags_url(policy, "action"), body))
    assert tags_of(policy) == [("env", "prod"), ("team", "web"), ("tier", "gold")]


def test_batch_update_adds_and_replaces_like_create(api, policy):
    body = {"action": "update", "tags": tags_payload(("env", "test"), ("tier", "gold"))}
    assert_204(send(api, "POST", tags_url(policy, "action"), body))
    assert tags_of(policy) == [("env", "test"), ("team", "db"), ("tier", "gold")]


def test_batch_update_past_ten_tags_is_0215_and_writes_nothing(api, tenant):
    policy = with_tags(tenant, 9)
    body = {"action": "update", "tags": tags_payload(("a", "1"), ("b", "2"))}
    error_of(send(api, "POST", tags_url(policy, "action"), body), 400, "AutoBackup.0215")
    assert len(tags_of(policy)) == 9


# Terraform sends {"action": "delete"} before tagging an untagged policy, and the Go SDK leaves
# an empty list out: no tags is a request that changes nothing.
@pytest.mark.parametrize("action", ["create", "update", "delete"])
@pytest.mark.parametrize("tags", [{}, {"tags": None}, {"tags": []}], ids=["absent", "null", "empty"])
def test_a_batch_without_tags_answers_204_and_changes_nothing(api, policy, action, tags):
    audited = AuditEvent.objects.count()
    assert_204(send(api, "POST", tags_url(policy, "action"), {"action": action, **tags}))
    assert tags_of(policy) == [("env", "prod"), ("team", "db")]
    assert AuditEvent.objects.count() == audited


def test_batch_delete_removes_listed_keys_and_ignores_absent_ones(api, policy):
    body = {"action": "delete", "tags": [{"key": "env"}, {"key": "absent"}]}
    assert_204(send(api, "POST", tags_url(policy, "action"), body))
    assert tags_of(policy) == [("team", "db")]


def test_batch_delete_with_a_value_removes_the_tag_only_when_the_value_matches(api, policy):
    body = {"action": "delete", "tags": tags_payload(("env", "test"), ("team", "db"))}
    assert_204(send(api, "POST", tags_url(policy, "action"), body))
    assert tags_of(policy) == [("env", "prod")]


def test_batch_delete_with_a_null_value_removes_whatever_the_value(api, policy):
    body = {"action": "delete", "tags": [{"key": "env", "value": None}]}
    assert_204(send(api, "POST", tags_url(policy, "action"), body))
    assert tags_of(policy) == [("team", "db")]


def test_batch_create_past_ten_tags_is_0215_and_writes_nothing(api, tenant):
    policy = with_tags(tenant, 9)
    body = {"action": "create", "tags": tags_payload(("a", "1"), ("b", "2"))}
    error_of(send(api, "POST", tags_url(policy, "action"), body), 400, "AutoBackup.0215")
    assert len(tags_of(policy)) == 9


def test_batch_create_of_more_than_ten_tags_in_the_body_is_0215(api, policy):
    body = {"action": "create", "tags": tags_payload(*((f"n{i}", "v") for i in range(11)))}
    error_of(send(api, "POST", tags_url(policy, "action"), body), 400, "AutoBackup.0215")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"action": "replace", "tags": tags_payload(("a", "b"))}, "AutoBackup.0222"),
        ({"action": "CREATE", "tags": tags_payload(("a", "b"))}, "AutoBackup.0222"),
        ({"action": 1, "tags": tags_payload(("a", "b"))}, "AutoBackup.0222"),
        ({"tags": tags_payload(("a", "b"))}, "AutoBackup.0222"),
        ({"tags": []}, "AutoBackup.0222"),
        ({"action": "create", "tags": {"key": "a", "value": "b"}}, "AutoBackup.0214"),
        ({"action": "update", "tags": [{"key": "a"}]}, "AutoBackup.0214"),
        ({"action": "create", "tags": [{"key": "a"}]}, "AutoBackup.0214"),
        ({"action": "delete", "tags": [{"value": "a"}]}, "AutoBackup.0214"),
        ({"action": "create", "tags": tags_payload(("a", "1"), ("a", "2"))}, "AutoBackup.0214"),
        ({"action": "create", "tags": tags_payload(("a", "1")), "dry_run": True}, "AutoBackup.0001"),
        ({}, "AutoBackup.0000"),
    ],
)
def test_an_invalid_batch_body_is_refused_and_writes_nothing(api, policy, body, code):
    error_of(send(api, "POST", tags_url(policy, "action"), body), 400, code)
    assert tags_of(policy) == [("env", "prod"), ("team", "db")]


# --- GET /v2/{project_id}/backuppolicy/tags ----------------------------------------------------


def test_the_project_tags_give_each_key_once_with_its_distinct_values_sorted(api, tenant, other_tenant):
    make_policy(
        tenant,
        payload=valid_payload(
            backup_policy_name="a", tags=tags_payload(("env", "prod"), ("team", "db"), ("Zone", ""))
        ),
    )
    make_policy(
        tenant,
        payload=valid_payload(
            backup_policy_name="b", tags=tags_payload(("env", "dev"), ("team", "db"), ("_x", "1"))
        ),
    )
    make_policy(other_tenant, payload=valid_payload(tags=tags_payload(("secret", "theirs"))))
    response = send(api, "GET", project_tags_url(tenant))
    assert response.status_code == HTTPStatus.OK
    assert response.json() == {
        "tags": [
            {"key": "Zone", "values": [""]},
            {"key": "_x", "values": ["1"]},
            {"key": "env", "values": ["dev", "prod"]},
            {"key": "team", "values": ["db"]},
        ]
    }


def test_a_project_without_tags_lists_an_empty_list(api, tenant):
    assert send(api, "GET", project_tags_url(tenant)).json() == {"tags": []}


def test_the_project_tags_of_another_project_are_403_0213(api, other_tenant):
    error_of(send(api, "GET", project_tags_url(other_tenant)), 403, "AutoBackup.0213")


# --- every tag route: another tenant's policy, unknown policies ----------------------------------

TAG_ROUTES = [
    ("GET", "tags", None),
    ("POST", "tags", {"tag": {"key": "a", "value": "b"}}),
    ("DELETE", "tags/env", None),
    ("POST", "tags/action", {"action": "delete", "tags": [{"key": "env"}]}),
    ("DELETE", "tags/action", None),
]
ROUTE_IDS = [f"{method} {path}" for method, path, _ in TAG_ROUTES]


@pytest.mark.parametrize(("method", "path", "body"), TAG_ROUTES, ids=ROUTE_IDS)
def test_another_projects_policy_is_404_0205_on_every_tag_route(
    api, tenant, other_tenant, method, path, body
):
    theirs = make_policy(other_tenant, payload=valid_payload(tags=tags_payload(("env", "x"))))
    url = f"{policy_url(tenant, theirs)}/{path}"
    error_of(send(api, method, url, body), 404, "AutoBackup.0205")
    assert tags_of(theirs) == [("env", "x")]


@pytest.mark.parametrize(("method", "path", "body"), TAG_ROUTES, ids=ROUTE_IDS)
@pytest.mark.parametrize("policy_id", [UNKNOWN_ID, "tags", "not-a-uuid"])
def test_an_unknown_policy_is_404_0205_on_every_tag_route(api, tenant, method, path, body, policy_id):
    error_of(send(api, method, f"{policy_url(tenant, policy_id)}/{path}", body), 404, "AutoBackup.0205")
