"""Protection at a glance: every volume protected, at risk or unprotected on the home and project pages; staff see every project."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from policies import audit, volumes
from policies.models import BackupTask
from policies.runs import execution
from tests.helpers.dashboard import HTMX, url
from tests.helpers.factories import MembershipFactory, TenantFactory, UserFactory
from tests.helpers.runs import associate, daily_policy, make_volumes

pytestmark = pytest.mark.django_db


def row_of(body: str, volume) -> str:
    start = body.index(f'id="volume-{volume.resource_id}"')
    return body[start : body.index("</tr>", start)]


@pytest.fixture
def three(tenant):
    """A volume backed up now, one whose last run failed, one without a policy."""
    good, failing, loose = make_volumes(
        tenant, {"a-good.img": b"g", "b-failing.img": b"f", "c-loose.img": b"l"}
    )
    policy = daily_policy(tenant, now=timezone.now())
    associate(policy, [good, failing])
    for task in volumes.policy_execute(policy=policy, actor=audit.Actor.command()):
        execution.execute_task(task.pk)
    BackupTask.objects.filter(volume=failing).update(status=BackupTask.Status.EXECUTE_FAIL)
    return good, failing, loose


def test_the_project_page_shows_each_volume_s_protection_and_last_good_backup(member, tenant, three):
    good, failing, loose = three
    body = member.get(url("policy_list", tenant)).content.decode()

    assert 'data-protection="protected"' in row_of(body, good)
    # Made by "Run now", not by the schedule: the reason says what holds either way.
    assert "its last good backup is recent enough for its schedule" in row_of(body, good)
    assert "0 minutes ago" in row_of(body, good)
    assert 'data-protection="at_risk"' in row_of(body, failing)
    assert "its latest run failed" in row_of(body, failing)
    assert 'data-protection="unprotected"' in row_of(body, loose)
    assert "none yet" in row_of(body, loose)


def test_the_project_page_s_htmx_partial_is_the_policy_table_alone(member, tenant, three):
    body = member.get(url("policy_list", tenant), **HTMX).content.decode()
    assert "Volumes and their protection" not in body


def test_the_home_page_shows_the_volumes_of_each_of_the_member_s_projects_and_no_others(
    client, tenant, other_tenant, three
):
    person = UserFactory(username="two-projects")
    MembershipFactory(user=person, tenant=tenant)
    mine = TenantFactory(project_id="tenant-c")
    MembershipFactory(user=person, tenant=mine)
    make_volumes(other_tenant, {"theirs.img": b"t"})
    client.force_login(person)

    body = client.get(url("home")).content.decode()

    assert "Volumes and their protection" in body
    assert all(f'id="volume-{volume.resource_id}"' in body for volume in three)
    assert "theirs.img" not in body
    assert "Every project (staff)" not in body


def test_staff_see_how_many_volumes_are_at_risk_in_every_project(client, tenant, other_tenant, three):
    make_volumes(other_tenant, {"theirs.img": b"t"})
    staff = UserFactory(username="operator", is_staff=True)
    MembershipFactory(user=staff, tenant=tenant)  # one project of their own: not sent into it
    client.force_login(staff)

    body = client.get(url("home")).content.decode()

    assert "Across 2 projects: 1 volume at risk, 1 protected, 2 unprotected." in body
    assert "tenant-a</span> (Tenant A): 1 at risk (b-failing.img)" in body


def test_a_backup_older_than_the_gap_and_grace_shows_at_risk(member, tenant, three, monkeypatch):
    good = three[0]
    later = timezone.now() + timedelta(days=1, hours=1)
    monkeypatch.setattr("django.utils.timezone.now", lambda: later)
    body = member.get(url("policy_list", tenant)).content.decode()
    assert 'data-protection="at_risk"' in row_of(body, good)
    assert "1 day 1 hour ago" in row_of(body, good)


def test_the_project_page_s_queries_do_not_grow_with_its_volumes(member, tenant):
    policy = daily_policy(tenant, now=timezone.now())
    associate(policy, make_volumes(tenant, {"v0.img": b"x"}))
    member.get(url("policy_list", tenant))
    with CaptureQueriesContext(connection) as one:
        member.get(url("policy_list", tenant))
    disks = make_volumes(tenant, {f"v{n}.img": b"x" for n in range(1, 9)})
    associate(daily_policy(tenant, now=timezone.now()), disks)

    with CaptureQueriesContext(connection) as many:
        member.get(url("policy_list", tenant))

    assert len(many) == len(one)
