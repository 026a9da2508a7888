"""Tag writes, renames and deletes from real threads at once, against the real database.

As in ``test_services_concurrency``, each thread has its own connection and the write is slowed
down, so that without the row locks several threads would read the same state before any wrote.
"""

import time

import pytest

from policies import audit, services
from policies.domain.contract import parse, specs
from policies.models import BackupPolicy, PolicyTag
from tests.helpers.concurrency import in_parallel, kinds
from tests.helpers.factories import TenantFactory
from tests.helpers.payloads import valid_payload
from tests.helpers.policies import make_policy

pytestmark = pytest.mark.usefixtures("transactional_db")

PARALLEL = 6
ACTOR = audit.Actor.command()


@pytest.fixture
def slow_writes(monkeypatch):
    store, save = services._store_tags, BackupPolicy.save

    def store_slowly(*args, **kwargs):
        time.sleep(0.05)
        return store(*args, **kwargs)

    def save_slowly(self, *args, **kwargs):
        time.sleep(0.05)
        return save(self, *args, **kwargs)

    monkeypatch.setattr(services, "_store_tags", store_slowly)
    monkeypatch.setattr(BackupPolicy, "save", save_slowly)


@pytest.mark.usefixtures("slow_writes")
def test_parallel_tag_adds_on_a_policy_with_9_tags_add_exactly_one():
    tags = [{"key": f"k{i}", "value": ""} for i in range(9)]
    policy = make_policy(TenantFactory(), payload=valid_payload(tags=tags))
    calls = [
        (lambda i=i: services.policy_tag_put(policy=policy, tag=specs.Tag(f"new{i}", ""), actor=ACTOR))
        for i in range(PARALLEL)
    ]
    outcomes = in_parallel(calls)
    assert kinds(outcomes) == ["BackupPolicy"] + ["TagLimitExceeded"] * (PARALLEL - 1)
    assert PolicyTag.objects.filter(policy=policy).count() == 10


@pytest.mark.usefixtures("slow_writes")
def test_parallel_renames_onto_one_name_rename_exactly_one():
    tenant = TenantFactory()
    policies = [
        make_policy(tenant, payload=valid_payload(backup_policy_name=f"p{i}", tags=[]))
        for i in range(PARALLEL)
    ]

    def rename(policy, name):
        spec = parse.parse_policy_update({"backup_policy_name": name}, policy.to_spec()).spec
        return services.policy_update(policy=policy, spec=spec, actor=ACTOR).policy

    outcomes = in_parallel(
        [(lambda p=p, i=i: rename(p, "Nightly" if i % 2 else "NIGHTLY")) for i, p in enumerate(policies)]
    )
    assert kinds(outcomes) == ["BackupPolicy"] + ["PolicyNameTaken"] * (PARALLEL - 1)
    assert BackupPolicy.objects.filter(tenant=tenant, name__iexact="nightly").count() == 1


@pytest.mark.usefixtures("slow_writes")
def test_parallel_deletes_and_updates_of_one_policy_never_fail_otherwise():
    policy = make_policy(TenantFactory(), payload=valid_payload(tags=[]))
    spec = parse.parse_policy_update({"scheduled_policy": {"status": "OFF"}}, policy.to_spec()).spec
    calls = [lambda: services.policy_delete(policy=policy, actor=ACTOR)] * 3 + [
        lambda: services.policy_update(policy=policy, spec=spec, actor=ACTOR).policy
    ] * 3
    outcomes = in_parallel(calls)
    # One delete wins; every other call either ran before it or finds the policy gone.
    assert set(kinds(outcomes)) <= {"NoneType", "BackupPolicy", "PolicyNotFound"}
    assert kinds(outcomes).count("NoneType") == 1
    assert not BackupPolicy.objects.filter(pk=policy.pk).exists()


@pytest.mark.usefixtures("slow_writes")
def test_parallel_modifies_of_different_fields_keep_each_others_changes():
    policy = make_policy(TenantFactory(), payload=valid_payload(tags=[]))
    bodies = [
        {"scheduled_policy": {"status": "OFF"}},
        {"scheduled_policy": {"rentention_num": 5}},
        {"backup_policy_name": "renamed"},
        {"time_zone": "UTC+09:00"},
    ]
    calls = [(lambda b=b: services.policy_modify(policy=policy, body=b, actor=ACTOR).policy) for b in bodies]
    assert kinds(in_parallel(calls)) == ["BackupPolicy"] * len(bodies)
    stored = BackupPolicy.objects.get(pk=policy.pk)
    # Each merge ran over what the one before it stored, so no change was lost.
    assert (stored.status, stored.retention_num, stored.name, stored.time_zone) == (
        "OFF",
        5,
        "renamed",
        "UTC+09:00",
    )
