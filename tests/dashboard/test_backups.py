"""The Backups page: who may open it and its actions, its columns, its filters and pages, and the links to it."""

import hashlib
import re
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from policies import audit, backups
from policies.domain.contract import backups as rules
from policies.models import Backup, Restore
from tests.helpers.backups import backed_up, manual_backup
from tests.helpers.dashboard import HTMX
from tests.helpers.payloads import valid_payload
from tests.helpers.policies import make_policy
from tests.helpers.runs import make_volumes

pytestmark = pytest.mark.django_db

DB = b"database " * 4000


@pytest.fixture
def disks(tenant):
    return make_volumes(tenant, {"db.img": DB, "web.img": b"w" * 512})


@pytest.fixture
def nightly(tenant):
    return make_policy(tenant, payload=valid_payload(backup_policy_name="nightly"))


@pytest.fixture
def made(nightly, disks):
    """One run of the policy ("Run now") over both volumes: a backup of each."""
    return backed_up(nightly, disks)


@pytest.fixture
def foreign(other_tenant):
    """Another project's backup and a restore of it."""
    [volume] = make_volumes(other_tenant, {"theirs.img": b"t" * 100})
    backup = manual_backup(other_tenant, volume)
    restore = backups.restore_start(
        backup=backup, body=rules.RestoreBody(None, None), actor=audit.Actor.command()
    )
    return backup, restore


def list_url(tenant, **query) -> str:
    url = reverse("policies:backup_list", kwargs={"project_id": tenant.project_id})
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def backup_url(name, backup, project_id=None) -> str:
    project = project_id or backup.tenant.project_id
    return reverse(f"policies:{name}", kwargs={"project_id": project, "backup_id": backup.pk})


def restore_url(restore, project_id=None) -> str:
    project = project_id or restore.tenant.project_id
    return reverse("policies:restore_detail", kwargs={"project_id": project, "restore_id": restore.pk})


def row_of(body: str, backup) -> str:
    return re.search(rf'<tr id="backup-{backup.pk}">.*?</tr>', body, re.S)[0]


# --- Access: signed in, this project's, the right method ----------------------------------------


def _targets(tenant, backup, restore):
    return [
        ("get", list_url(tenant)),
        ("get", backup_url("backup_restore", backup)),
        ("post", backup_url("backup_restore", backup)),
        ("get", backup_url("backup_delete", backup)),
        ("post", backup_url("backup_delete", backup)),
        ("get", restore_url(restore)),
    ]


@pytest.fixture
def ours(tenant, made):
    restore = backups.restore_start(
        backup=made[1], body=rules.RestoreBody(None, None), actor=audit.Actor.command()
    )
    return made[0], restore


def test_anonymous_is_sent_to_sign_in_from_every_page_and_action(client, tenant, ours):
    for method, target in _targets(tenant, *ours):
        response = getattr(client, method)(target)
        assert response.status_code == HTTPStatus.FOUND, target
        assert response["Location"] == f"/accounts/login/?next={target}"
    assert Backup.objects.filter(pk=ours[0].pk, status="available").exists()


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
def test_another_projects_backup_and_restore_are_not_found_on_every_page_and_action(
    member, tenant, foreign, headers
):
    backup, restore = foreign
    # Asked under the member's own project, and under the other project's path.
    for project in (tenant.project_id, backup.tenant.project_id):
        targets = [
            ("get", backup_url("backup_restore", backup, project)),
            ("post", backup_url("backup_restore", backup, project)),
            ("get", backup_url("backup_delete", backup, project)),
            ("post", backup_url("backup_delete", backup, project)),
            ("get", restore_url(restore, project)),
        ]
        for method, target in targets:
            assert getattr(member, method)(target, **headers).status_code == HTTPStatus.NOT_FOUND, target
    assert member.get(list_url(backup.tenant), **headers).status_code == HTTPStatus.NOT_FOUND
    backup.refresh_from_db()
    assert backup.status == "restoring"  # its own restore's, untouched
    assert Restore.objects.count() == 1


@pytest.mark.parametrize("name", ["backup_restore", "backup_delete"])
def test_an_unknown_or_malformed_backup_id_is_not_found(member, tenant, name):
    for backup_id in ("00000000-0000-0000-0000-000000000000", "not-an-id"):
        target = reverse(f"policies:{name}", kwargs={"project_id": tenant.project_id, "backup_id": backup_id})
        assert member.get(target).status_code == HTTPStatus.NOT_FOUND


def test_an_unknown_or_malformed_restore_id_is_not_found(member, tenant):
    for restore_id in ("00000000-0000-0000-0000-000000000000", "x"):
        target = reverse(
            "policies:restore_detail", kwargs={"project_id": tenant.project_id, "restore_id": restore_id}
        )
        assert member.get(target).status_code == HTTPStatus.NOT_FOUND


@pytest.mark.parametrize(
    ("name", "methods"),
    [
        ("backup_list", ["post", "put", "delete"]),
        ("backup_restore", ["put", "delete"]),
        ("backup_delete", ["put", "delete"]),
        ("restore_detail", ["post", "delete"]),
    ],
)
def test_a_wrong_method_is_refused(member, tenant, ours, name, methods):
    backup, restore = ours
    target = {
        "backup_list": list_url(tenant),
        "backup_restore": backup_url("backup_restore", backup),
        "backup_delete": backup_url("backup_delete", backup),
        "restore_detail": restore_url(restore),
    }[name]
    for method in methods:
        assert getattr(member, method)(target).status_code == HTTPStatus.METHOD_NOT_ALLOWED, method
    assert Backup.objects.filter(pk=backup.pk).exists()


def test_the_actions_need_their_csrf_token(user, tenant, made):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    assert strict.post(backup_url("backup_delete", made[0])).status_code == HTTPStatus.FORBIDDEN
    assert strict.post(backup_url("backup_restore", made[0]), {"target": "new"}).status_code == (
        HTTPStatus.FORBIDDEN
    )
    assert Backup.objects.filter(pk=made[0].pk, status="available").exists()


# --- The list -----------------------------------------------------------------------------------


def test_the_list_shows_each_backups_columns(member, tenant, made, disks):
    db = made[0]
    # "Run now" makes manual backups; the scheduler's are scheduled ones.
    Backup.objects.filter(pk=db.pk).update(verify_status="ok", manual=False)

    body = member.get(list_url(tenant)).content.decode()

    row = row_of(body, db)
    digest = hashlib.sha256(DB).hexdigest()
    assert db.name in row
    assert "scheduled" in row
    assert '<td data-label="Volume">db.img' in row
    assert ">nightly</a>" in row
    assert f"{db.taken_at:%Y-%m-%d %H:%M}" in row
    assert "35.2 KiB" in row  # 36,000 bytes, in the unit the volume's own size reads in
    assert f'<code title="{digest}">{digest[:12]}…</code>' in row  # shortened, full in the title
    assert f'<code id="sha256-{db.pk}" class="full-digest">{digest}</code>' in row  # and copyable
    assert 'title="available">Available<' in row
    assert "Verified" in row
    other = row_of(body, made[1])
    assert "not yet" in other  # not verified yet
    assert "manual" in other


def test_a_manual_backup_says_so_and_has_no_policy(member, tenant, disks):
    backup = manual_backup(tenant, disks[1], name="before-upgrade")
    row = row_of(member.get(list_url(tenant)).content.decode(), backup)
    assert "manual" in row
    assert '<td data-label="Policy"><span class="subtle">none</span>' in row


def test_the_list_is_newest_first(member, tenant, disks):
    older = manual_backup(tenant, disks[0], name="older")
    newer = manual_backup(tenant, disks[0], name="newer")
    Backup.objects.filter(pk=older.pk).update(taken_at=newer.taken_at - timedelta(hours=1))
    body = member.get(list_url(tenant)).content.decode()
    assert body.index(f"backup-{newer.pk}") < body.index(f"backup-{older.pk}")


def test_the_volume_filter_keeps_that_volumes_backups(member, tenant, made, disks):
    body = member.get(list_url(tenant, volume=disks[1].resource_id)).content.decode()
    assert f"backup-{made[1].pk}" in body
    assert f"backup-{made[0].pk}" not in body
    assert f'<option value="{disks[1].resource_id}" selected>web.img</option>' in body


def test_the_policy_filter_keeps_that_policys_backups(member, tenant, made, disks):
    manual = manual_backup(tenant, disks[0])
    body = member.get(list_url(tenant, policy=made[0].policy_id)).content.decode()
    assert f"backup-{made[0].pk}" in body
    assert f"backup-{manual.pk}" not in body
    assert "No backup matches" not in body


def test_filters_that_match_nothing_say_so(member, tenant, made, disks):
    other = make_policy(tenant, payload=valid_payload(backup_policy_name="weekly"))
    body = member.get(list_url(tenant, policy=other.pk)).content.decode()
    assert "No backup matches these filters." in body


def test_another_projects_volume_as_a_filter_is_an_error_and_shows_nothing_of_it(
    member, tenant, made, foreign
):
    theirs = foreign[0]
    body = member.get(list_url(tenant, volume=theirs.resource_id)).content.decode()
    assert "The filter was not applied." in body
    assert "theirs.img" not in body
    assert f"backup-{theirs.pk}" not in body
    assert f"backup-{made[0].pk}" in body  # the list, unfiltered


def test_with_htmx_a_filter_answers_the_table_alone(member, tenant, made, disks):
    response = member.get(list_url(tenant, volume=disks[0].resource_id), **HTMX)
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="backup-table"')
    assert "<html" not in body
    assert f"backup-{made[0].pk}" in body
    assert f"backup-{made[1].pk}" not in body
    assert "HX-Request" in response["Vary"]


def test_the_filter_form_works_without_javascript(member, tenant, made):
    body = member.get(list_url(tenant)).content.decode()
    form = re.search(r'<form method="get" action="([^"]+)" class="backup-filters"', body)
    assert form[1] == list_url(tenant)
    assert '<button type="submit" class="secondary">Show</button>' in body


def test_a_long_list_is_paged_fifty_at_a_time_keeping_the_filters(member, tenant, disks):
    first = manual_backup(tenant, disks[0], name="first")
    Backup.objects.bulk_create(
        Backup(
            tenant=tenant,
            name=f"copy-{i:02d}",
            volume=disks[0],
            resource_id=disks[0].resource_id,
            provider="local",
            locator="",
            taken_at=first.taken_at + timedelta(minutes=i + 1),
        )
        for i in range(50)
    )
    one = member.get(list_url(tenant, volume=disks[0].resource_id)).content.decode()
    assert one.count('<tr id="backup-') == 50
    assert f"backup-{first.pk}" not in one  # the oldest, on page 2
    assert f"?volume={disks[0].resource_id}&amp;page=2" in one
    two = member.get(list_url(tenant, volume=disks[0].resource_id, page=2)).content.decode()
    assert f"backup-{first.pk}" in two
    assert "Page 2 of 2" in two


# --- Reached from the header, each volume and each run -------------------------------------------


def test_the_header_links_the_projects_backups(member, tenant, nightly):
    body = member.get(
        reverse("policies:policy_list", kwargs={"project_id": tenant.project_id})
    ).content.decode()
    nav = body[body.index('<nav aria-label="Main"') : body.index("</nav>")]
    assert f'<a href="{list_url(tenant)}">Backups</a>' in nav
    current = member.get(list_url(tenant)).content.decode()
    assert f'<a href="{list_url(tenant)}" aria-current="page">Backups</a>' in current


def test_each_volume_and_each_run_of_a_policy_link_their_backups(member, tenant, nightly, made, disks):
    detail = reverse(
        "policies:policy_detail", kwargs={"project_id": tenant.project_id, "policy_id": nightly.pk}
    )
    body = member.get(detail).content.decode()
    volume_link = f'href="{list_url(tenant)}?volume={disks[0].resource_id}"'
    assert volume_link in body
    # The run's backup: the page filtered to its volume, at its row.
    assert f'href="{list_url(tenant)}?volume={disks[0].resource_id}#backup-{made[0].pk}"' in body


def test_a_backup_being_restored_links_its_restore(member, tenant, ours):
    backup, restore = ours
    body = member.get(list_url(tenant)).content.decode()
    row = row_of(body, restore.backup)
    assert f'href="{restore_url(restore)}"' in row
    assert "Restoring" in row
    assert f'href="{restore_url(restore)}"' in body[body.index("Recent restores") :]


def test_the_runs_backup_links_cost_no_query_per_run(member, tenant, nightly, made, disks):
    detail = reverse(
        "policies:policy_detail", kwargs={"project_id": tenant.project_id, "policy_id": nightly.pk}
    )
    with CaptureQueriesContext(connection) as one_run:
        member.get(detail, **HTMX)
    backed_up(nightly, disks)  # a second run: twice the tasks, each with its backup
    with CaptureQueriesContext(connection) as two_runs:
        body = member.get(detail, **HTMX).content.decode()
    assert body.count("#backup-") == 4
    assert len(two_runs) == len(one_run)


def test_the_list_costs_no_query_per_backup(member, tenant, nightly, made, disks):
    with CaptureQueriesContext(connection) as two:
        member.get(list_url(tenant))
    backed_up(nightly, disks)
    manual_backup(tenant, disks[0])
    with CaptureQueriesContext(connection) as five:
        body = member.get(list_url(tenant)).content.decode()
    assert body.count('<tr id="backup-') == 5
    assert len(five) == len(two)


def test_every_backup_page_reads_sizes_in_binary_units_like_the_volumes(member, tenant, made):
    # Volumes read "3 MiB"; their backups read in the same units, never a "KB" that means KiB.
    db = made[0]
    restore = backups.restore_start(
        backup=db, body=rules.RestoreBody(None, None), actor=audit.Actor.command()
    )
    for url in (
        list_url(tenant),
        backup_url("backup_restore", db),
        backup_url("backup_delete", db),
        restore_url(restore),
    ):
        body = member.get(url).content.decode()
        assert "35.2 KiB" in body, url  # 36,000 bytes
        assert not re.search(r"\d\s(KB|MB|bytes)\b", body), url
