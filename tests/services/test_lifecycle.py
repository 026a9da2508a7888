"""The lifecycle services: modify, delete and tags, each with its audit record."""

from dataclasses import replace

import pytest

from policies import accounts, audit, services
from policies.domain.contract import codes, tag_bodies
from policies.domain.contract.changes import ordered_changes
from policies.domain.contract.parse import parse_policy, parse_policy_update
from policies.domain.contract.specs import Tag
from policies.models import AuditEvent, BackupPolicy, PolicyTag
from tests.helpers.payloads import valid_payload
from tests.helpers.policies import make_policy


@pytest.fixture
def actor(user):
    return audit.Actor.dashboard(user)


@pytest.fixture
def policy(tenant, actor):
    return make_policy(tenant, "policy_01", tags=[("env", "prod"), ("team", "a")], actor=actor)


def modify(policy, body, actor):
    result = parse_policy_update(body, policy.to_spec())
    assert result.ok, result.problems
    return services.policy_update(policy=policy, spec=result.spec, actor=actor)


def tags_of(policy) -> list[tuple[str, str]]:
    return list(PolicyTag.objects.filter(policy=policy).values_list("key", "value"))


def test_create_records_every_field_as_after(policy, user):
    event = AuditEvent.objects.get()
    assert (event.action, event.entrance, event.username) == ("create", "dashboard", user.username)
    assert event.policy_id == policy.pk
    assert event.project_id == "tenant-a"
    assert event.changes["backup_policy_name"] == {"before": None, "after": "policy_01"}
    assert event.changes["tags"]["after"] == [{"key": "env", "value": "prod"}, {"key": "team", "value": "a"}]
    assert event.changes["scheduled_policy.week_frequency"] == {"before": None, "after": ["SUN", "WED"]}


def test_update_stores_the_merge_and_records_before_and_after(policy, actor):
    modify(policy, {"scheduled_policy": {"frequency": 2, "status": "OFF"}, "time_zone": "UTC+00:00"}, actor)
    stored = BackupPolicy.objects.get(pk=policy.pk)
    assert (stored.frequency, stored.week_frequency, stored.status) == (2, "", "OFF")
    event = AuditEvent.objects.filter(action="change").get()
    assert event.changes == {
        "scheduled_policy.frequency": {"before": None, "after": 2},
        "scheduled_policy.week_frequency": {"before": ["SUN", "WED"], "after": None},
        "scheduled_policy.status": {"before": "ON", "after": "OFF"},
        "time_zone": {"before": "UTC+08:00", "after": "UTC+00:00"},
    }
    assert tags_of(policy) == [("env", "prod"), ("team", "a")]


def test_a_change_that_changes_nothing_writes_nothing(policy, actor):
    before = BackupPolicy.objects.get(pk=policy.pk).updated_at
    modify(policy, {"scheduled_policy": {"status": "ON"}}, actor)
    assert AuditEvent.objects.filter(action="change").count() == 0
    assert BackupPolicy.objects.get(pk=policy.pk).updated_at == before


def test_rename_onto_another_name_ignoring_case_is_refused(policy, tenant, actor):
    other = services.policy_create(
        tenant=tenant, spec=parse_policy(valid_payload(backup_policy_name="Other")).spec, actor=actor
    )
    with pytest.raises(services.PolicyNameTaken) as refused:
        modify(policy, {"backup_policy_name": "OTHER"}, actor)
    assert refused.value.problem.code == codes.NAME_TAKEN
    assert "'Other'" in refused.value.problem.message
    # Renaming a policy onto its own name in another case is allowed.
    modify(other, {"backup_policy_name": "other"}, actor)
    assert BackupPolicy.objects.get(pk=other.pk).name == "other"
    assert AuditEvent.objects.filter(action="change").count() == 1


def test_update_of_a_policy_deleted_meanwhile_is_not_found(policy, actor):
    stale = BackupPolicy.objects.get(pk=policy.pk)
    services.policy_delete(policy=policy, actor=actor)
    spec = parse_policy_update({"scheduled_policy": {"status": "OFF"}}, stale.to_spec(tags=[])).spec
    with pytest.raises(services.PolicyNotFound) as refused:
        services.policy_update(policy=stale, spec=spec, actor=actor)
    assert refused.value.problem.code == codes.POLICY_NOT_FOUND


def test_delete_removes_policy_and_tags_and_records_before(policy, actor):
    services.policy_delete(policy=policy, actor=actor)
    assert not BackupPolicy.objects.filter(pk=policy.pk).exists()
    assert PolicyTag.objects.count() == 0
    event = AuditEvent.objects.get(action="delete")
    assert event.policy_id == policy.pk
    assert event.policy_name == "policy_01"
    assert event.changes["backup_policy_name"] == {"before": "policy_01", "after": None}
    assert event.changes["tags"]["after"] is None


def test_delete_frees_a_place_under_the_quota(tenant, actor):
    policies = [make_policy(tenant) for _ in range(10)]
    spec = parse_policy(valid_payload(backup_policy_name="eleventh")).spec
    with pytest.raises(services.PolicyQuotaExceeded):
        services.policy_create(tenant=tenant, spec=spec, actor=actor)
    services.policy_delete(policy=policies[0], actor=actor)
    services.policy_create(tenant=tenant, spec=spec, actor=actor)
    assert BackupPolicy.objects.filter(tenant=tenant).count() == 10


# --- Tags ----------------------------------------------------------------------------------


def test_tag_put_adds_then_replaces_in_place(policy, actor):
    services.policy_tag_put(policy=policy, tag=Tag("owner", "bob"), actor=actor)
    services.policy_tag_put(policy=policy, tag=Tag("env", "test"), actor=actor)
    assert tags_of(policy) == [("env", "test"), ("team", "a"), ("owner", "bob")]
    last = AuditEvent.objects.filter(action="change").first()
    assert last.changes["tags"]["before"][0] == {"key": "env", "value": "prod"}
    assert last.changes["tags"]["after"][0] == {"key": "env", "value": "test"}


def test_tag_keys_are_case_sensitive(policy, actor):
    services.policy_tag_put(policy=policy, tag=Tag("ENV", "x"), actor=actor)
    assert ("ENV", "x") in tags_of(policy)
    assert ("env", "prod") in tags_of(policy)


def test_tag_put_refuses_an_eleventh_tag_and_writes_nothing(policy, actor):
    ten = tuple(Tag(f"k{i}", "") for i in range(10))
    services.policy_update(policy=policy, spec=replace(policy.to_spec(), tags=ten), actor=actor)
    events = AuditEvent.objects.count()
    with pytest.raises(services.TagLimitExceeded) as refused:
        services.policy_tag_put(policy=policy, tag=Tag("k10", ""), actor=actor)
    assert refused.value.problem.code == codes.TAG_COUNT
    assert len(tags_of(policy)) == 10
    assert AuditEvent.objects.count() == events
    # Replacing the value of one of the ten is not an eleventh tag.
    services.policy_tag_put(policy=policy, tag=Tag("k3", "new"), actor=actor)
    assert ("k3", "new") in tags_of(policy)


def test_tag_remove_and_unknown_key(policy, actor):
    services.policy_tag_remove(policy=policy, key="env", actor=actor)
    assert tags_of(policy) == [("team", "a")]
    with pytest.raises(services.TagNotFound) as refused:
        services.policy_tag_remove(policy=policy, key="env", actor=actor)
    assert refused.value.problem.code == codes.TAG_NOT_FOUND


def batch(body):
    action, problems = tag_bodies.parse_tag_action(body)
    assert not problems
    return action


def test_batch_create_adds_and_replaces(policy, actor):
    services.policy_tags_batch(
        policy=policy,
        batch=batch({"action": "create", "tags": [{"key": "team", "value": "b"}, {"key": "x", "value": ""}]}),
        actor=actor,
    )
    assert tags_of(policy) == [("env", "prod"), ("team", "b"), ("x", "")]


def test_batch_create_limit_counts_the_result(policy, actor):
    body = {"action": "create", "tags": [{"key": f"n{i}", "value": ""} for i in range(9)]}
    with pytest.raises(services.TagLimitExceeded):
        services.policy_tags_batch(policy=policy, batch=batch(body), actor=actor)
    assert len(tags_of(policy)) == 2
    body["tags"] = body["tags"][:8]
    services.policy_tags_batch(policy=policy, batch=batch(body), actor=actor)
    assert len(tags_of(policy)) == 10


def test_batch_delete_matches_values_when_given_and_ignores_absent_keys(policy, actor):
    body = {
        "action": "delete",
        "tags": [{"key": "env", "value": "wrong"}, {"key": "team"}, {"key": "absent", "value": "1"}],
    }
    services.policy_tags_batch(policy=policy, batch=batch(body), actor=actor)
    assert tags_of(policy) == [("env", "prod")]
    services.policy_tags_batch(
        policy=policy,
        batch=batch({"action": "delete", "tags": [{"key": "env", "value": "prod"}]}),
        actor=actor,
    )
    assert tags_of(policy) == []


def test_batch_delete_of_absent_keys_records_nothing(policy, actor):
    events = AuditEvent.objects.count()
    services.policy_tags_batch(
        policy=policy, batch=batch({"action": "delete", "tags": [{"key": "nope"}]}), actor=actor
    )
    assert AuditEvent.objects.count() == events


def test_api_actor_records_the_token(policy, user):
    token, _raw = accounts.token_issue(user=user)
    services.policy_tag_put(policy=policy, tag=Tag("via", "api"), actor=audit.Actor.api(user, token))
    event = AuditEvent.objects.filter(entrance="api").get()
    assert (event.token_id, event.token_prefix, event.username) == (token.pk, token.prefix, "alice")


def test_audit_survives_the_user_and_the_tenant(policy, user, tenant):
    user.delete()
    tenant.delete()
    event = AuditEvent.objects.get(action="create")
    assert (event.user, event.tenant, event.username, event.project_id) == (None, None, "alice", "tenant-a")


def test_deleting_a_tenant_records_the_delete_of_each_policy(policy, tenant, actor):
    make_policy(tenant, payload=valid_payload(backup_policy_name="second", tags=[]))
    assert accounts.tenant_delete(tenant=tenant, actor=actor) == 2
    deletes = AuditEvent.objects.filter(action="delete")
    assert sorted(deletes.values_list("policy_name", flat=True)) == ["policy_01", "second"]
    assert set(deletes.values_list("project_id", flat=True)) == {"tenant-a"}
    assert BackupPolicy.objects.count() == 0


def test_removing_a_key_in_another_case_names_the_stored_key(policy, actor):
    with pytest.raises(services.TagNotFound) as refused:
        services.policy_tag_remove(policy=policy, key="ENV", actor=actor)
    assert "did you mean 'env'? (tag keys are case-sensitive)" in refused.value.problem.message
    with pytest.raises(services.TagNotFound) as refused:
        services.policy_tag_remove(policy=policy, key="nope", actor=actor)
    assert "did you mean" not in refused.value.problem.message


def test_changes_are_listed_in_the_contract_field_order_each_pair_together(policy, actor):
    modify(
        policy,
        {"scheduled_policy": {"frequency": 2}, "backup_policy_name": "z", "time_zone": "UTC+00:00"},
        actor,
    )
    event = AuditEvent.objects.filter(action="change").order_by("id").first()
    # Read back from the database: PostgreSQL's jsonb does not keep the order of the keys.
    assert [name for name, _, _ in ordered_changes(event.changes)] == [
        "backup_policy_name",
        "scheduled_policy.frequency",
        "scheduled_policy.week_frequency",
        "time_zone",
    ]
