"""The core's tag list read alone (the admin's tag rows) says what a create body's tags would."""

import pytest

from policies import audit, services
from policies.domain.contract import codes, limits, parse, tag_bodies
from tests.helpers.payloads import valid_payload

TAG_LISTS = [
    [],
    [{"key": "env", "value": "prod"}, {"key": "team", "value": ""}],
    [{"key": "bad key", "value": "x"}],
    [{"key": "", "value": "orphan"}],
    [{"key": "env", "value": "a"}, {"key": "env", "value": "b"}],
    [{"key": "env", "value": "a" * 44}],
    [{"key": f"k{n}", "value": "v"} for n in range(limits.MAX_TAGS + 1)],
]


@pytest.mark.parametrize("tags", TAG_LISTS)
def test_tags_alone_get_the_tags_and_problems_of_a_create_body(tags):
    created = parse.parse_policy(valid_payload(tags=tags))
    alone, problems = tag_bodies.parse_tags(tags)
    assert problems == created.problems
    if created.ok:
        assert alone == created.spec.tags


@pytest.mark.django_db
def test_the_save_problems_name_a_taken_name_and_a_full_project(tenant):
    spec = parse.parse_policy(valid_payload(backup_policy_name="Nightly")).spec
    assert services.policy_save_problems(tenant=tenant, spec=spec) == []
    stored = services.policy_create(tenant=tenant, spec=spec, actor=audit.Actor.command())
    again = parse.parse_policy(valid_payload(backup_policy_name="NIGHTLY")).spec
    assert [p.code for p in services.policy_save_problems(tenant=tenant, spec=again)] == [codes.NAME_TAKEN]
    # The policy itself is no clash when it is the one being changed, and a change is no new policy.
    assert services.policy_save_problems(tenant=tenant, spec=again, policy=stored) == []
    for n in range(limits.MAX_POLICIES_PER_TENANT - 1):
        other = parse.parse_policy(valid_payload(backup_policy_name=f"p{n}")).spec
        services.policy_create(tenant=tenant, spec=other, actor=audit.Actor.command())
    fresh = parse.parse_policy(valid_payload(backup_policy_name="fresh")).spec
    assert [p.code for p in services.policy_save_problems(tenant=tenant, spec=fresh)] == [codes.QUOTA]
    # As the service: a full project refuses a new policy for that alone, whatever its name.
    assert [p.code for p in services.policy_save_problems(tenant=tenant, spec=again)] == [codes.QUOTA]
    assert services.policy_save_problems(tenant=tenant, spec=fresh, policy=stored) == []
