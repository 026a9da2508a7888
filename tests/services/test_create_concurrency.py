"""``services.policy_create`` from real threads at once, against the real database.

Each thread has its own database connection (Django's are per thread), so these tests exercise
the database's own locking: SQLite's IMMEDIATE transactions, PostgreSQL's row lock on the tenant.
The insert is slowed down so that, without the lock, every thread would pass the quota check
before any of them writes: the tests would then see several successes, not one.
"""

import time

import pytest

from policies import audit, services
from policies.domain.contract import parse, specs
from policies.models import BackupPolicy, PolicyTag, Tenant
from tests.helpers.concurrency import in_parallel, kinds
from tests.helpers.factories import TenantFactory
from tests.helpers.payloads import valid_payload
from tests.helpers.policies import make_policy

pytestmark = pytest.mark.usefixtures("transactional_db")

PARALLEL = 8


def spec_named(name: str) -> specs.PolicySpec:
    return parse.parse_policy(valid_payload(backup_policy_name=name)).spec


@pytest.fixture
def slow_insert(monkeypatch):
    """Widen the window between the quota check and the insert, as a loaded server would."""
    create = BackupPolicy.objects.create

    def slowly(**fields):
        time.sleep(0.05)
        return create(**fields)

    monkeypatch.setattr(BackupPolicy.objects, "create", slowly)


def create_in_parallel(calls: list[tuple[str, specs.PolicySpec]]) -> list[object]:
    """Call policy_create for every (project_id, spec) at once; return each policy or exception."""

    def create(project_id: str, spec: specs.PolicySpec):
        tenant = Tenant.objects.get(project_id=project_id)
        return services.policy_create(tenant=tenant, spec=spec, actor=audit.Actor.command())

    return in_parallel([(lambda p=project_id, s=spec: create(p, s)) for project_id, spec in calls])


@pytest.mark.usefixtures("slow_insert")
def test_parallel_creates_on_a_tenant_holding_9_policies_make_exactly_one():
    tenant = TenantFactory(project_id="crowded")
    for index in range(9):
        make_policy(tenant, payload=valid_payload(backup_policy_name=f"existing_{index}"))
    outcomes = create_in_parallel([("crowded", spec_named(f"parallel_{i}")) for i in range(PARALLEL)])
    assert kinds(outcomes) == ["BackupPolicy"] + ["PolicyQuotaExceeded"] * (PARALLEL - 1)
    assert BackupPolicy.objects.filter(tenant=tenant).count() == 10


@pytest.mark.usefixtures("slow_insert")
def test_parallel_creates_on_an_empty_tenant_make_as_many_as_the_quota_allows():
    tenant = TenantFactory(project_id="empty")
    outcomes = create_in_parallel([("empty", spec_named(f"parallel_{i}")) for i in range(12)])
    assert kinds(outcomes) == ["BackupPolicy"] * 10 + ["PolicyQuotaExceeded"] * 2
    assert BackupPolicy.objects.filter(tenant=tenant).count() == 10


@pytest.mark.usefixtures("slow_insert")
def test_parallel_creates_of_one_name_in_any_case_make_exactly_one():
    tenant = TenantFactory(project_id="names")
    names = ["nightly", "NIGHTLY", "Nightly", "nightLY"] * 2
    outcomes = create_in_parallel([("names", spec_named(name)) for name in names])
    assert kinds(outcomes) == ["BackupPolicy"] + ["PolicyNameTaken"] * (PARALLEL - 1)
    assert BackupPolicy.objects.filter(tenant=tenant).count() == 1


@pytest.mark.usefixtures("slow_insert")
def test_parallel_refused_creates_leave_no_tags_behind():
    tenant = TenantFactory(project_id="tags")
    for index in range(9):
        make_policy(tenant, payload=valid_payload(backup_policy_name=f"existing_{index}"))
    create_in_parallel([("tags", spec_named(f"parallel_{i}")) for i in range(PARALLEL)])
    assert PolicyTag.objects.count() == BackupPolicy.objects.count() == 10


@pytest.mark.usefixtures("slow_insert")
def test_parallel_creates_in_different_tenants_all_succeed():
    for index in range(PARALLEL):
        TenantFactory(project_id=f"tenant-{index}")
    outcomes = create_in_parallel([(f"tenant-{i}", spec_named("same_name")) for i in range(PARALLEL)])
    assert kinds(outcomes) == ["BackupPolicy"] * PARALLEL
