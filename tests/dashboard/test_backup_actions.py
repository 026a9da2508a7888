"""Restore and delete from the Backups page, each passing and refused, and a restore's progress until it settles."""

import hashlib
import html
from http import HTTPStatus
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from policies import audit, backups
from policies.domain.contract import backups as rules
from policies.models import AuditEvent, Backup, BackupTask, Restore
from policies.runs import restore as restoring
from policies.runs.providers import ProviderError
from policies.runs.restore import execute_restore
from tests.helpers.backups import manual_backup
from tests.helpers.dashboard import HTMX
from tests.helpers.runs import make_volumes, write_volume

pytestmark = pytest.mark.django_db

CONTENT = b"the volume as it was " * 3000


@pytest.fixture
def volume(tenant):
    return make_volumes(tenant, {"db.img": CONTENT})[0]


@pytest.fixture
def backup(tenant, volume):
    return manual_backup(tenant, volume, name="before-upgrade")


def url(name, backup) -> str:
    return reverse(
        f"policies:{name}", kwargs={"project_id": backup.tenant.project_id, "backup_id": backup.pk}
    )


def restore_page(restore) -> str:
    return reverse(
        "policies:restore_detail", kwargs={"project_id": restore.tenant.project_id, "restore_id": restore.pk}
    )


def volume_file(tenant, name) -> Path:
    return Path(settings.LOCAL_VOLUME_ROOT) / tenant.project_id / name


def text(response) -> str:
    return html.unescape(response.content.decode())


# --- Restore into a new volume ---------------------------------------------------------------------


def test_the_restore_page_offers_a_new_volume_named_after_the_backup_and_the_original(member, backup):
    body = text(member.get(url("backup_restore", backup)))
    assert 'name="name" value="restore-before-upgrade"' in body
    assert "Restore over “db.img”…" in body
    assert f"{backup.taken_at:%Y-%m-%d %H:%M}" in body


def test_restoring_into_a_new_volume_queues_it_audits_it_and_shows_its_progress(member, tenant, backup):
    response = member.post(url("backup_restore", backup), {"target": "new", "name": "db-copy.img"})

    restore = Restore.objects.get()
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == restore_page(restore)
    assert (restore.new_volume, restore.volume_name, restore.entrance) == (True, "db-copy.img", "dashboard")
    event = AuditEvent.objects.get(action=AuditEvent.Action.RESTORE)
    assert (event.entrance, event.username) == ("dashboard", "alice")
    backup.refresh_from_db()
    assert backup.status == Backup.Status.RESTORING

    execute_restore(restore.pk)

    restored = volume_file(tenant, "db-copy.img").read_bytes()
    assert hashlib.sha256(restored).hexdigest() == backup.sha256 == hashlib.sha256(CONTENT).hexdigest()
    body = text(member.get(restore_page(restore), **HTMX))
    assert 'data-status="succeeded"' in body
    assert "Restored" in body
    assert "hx-trigger" not in body  # settled: it polls no more


def test_with_htmx_a_started_restore_sends_the_browser_to_its_page(member, backup):
    response = member.post(url("backup_restore", backup), {"target": "new", "name": "copy"}, **HTMX)
    assert response["HX-Redirect"] == restore_page(Restore.objects.get())


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("../escape", "The new volume's name '../escape' cannot name a new volume"),
        (
            "db.img",
            "The project already has a volume named 'db.img'; give another name, or restore over that volume.",
        ),
    ],
)
def test_a_refused_new_volume_name_is_shown_at_the_name(member, backup, name, said):
    response = member.post(url("backup_restore", backup), {"target": "new", "name": name})
    body = text(response)
    assert response.status_code == HTTPStatus.OK
    assert '<ul class="field-errors" id="restore-name-errors">' in body
    assert said in body
    assert "AutoBackup." not in body  # the dashboard's words, not the API's code
    assert not Restore.objects.exists()


def test_a_backup_being_restored_is_not_restored_again_and_the_page_says_why(member, backup):
    backups.restore_start(backup=backup, body=rules.RestoreBody(None, "first"), actor=audit.Actor.command())
    body = text(member.post(url("backup_restore", backup), {"target": "new", "name": "second"}))
    assert (
        "Nothing was restored. Backup 'before-upgrade' is restoring: it cannot be restored until that "
        "finishes; try again later." in body
    )
    assert Restore.objects.count() == 1


# --- Over the original volume, after a confirmation -----------------------------------------------


def test_the_overwrite_confirmation_names_the_volume_and_when_the_backup_was_taken(member, backup):
    response = member.get(url("backup_restore", backup) + "?over=original")
    body = text(response)
    assert "<title>Overwrite “db.img”?" in body
    assert (
        f'Everything “db.img” holds now is replaced by the backup taken <strong class="mono">{backup.taken_at:%Y-%m-%d %H:%M}'
        in body
    )
    assert "Overwrite “db.img”</button>" in body
    assert 'name="name"' not in body  # its own page: only the confirmation


def test_with_htmx_the_confirmation_replaces_the_choices_in_place(member, backup):
    body = text(member.get(url("backup_restore", backup) + "?over=original", **HTMX))
    assert body.lstrip().startswith('<section id="restore-form"')
    assert "<html" not in body
    assert "Overwrite “db.img”</button>" in body


def test_confirming_restores_over_the_original_volume(member, tenant, backup, volume):
    write_volume(tenant.project_id, "db.img", b"changed since")
    member.post(url("backup_restore", backup), {"target": "original", "volume_id": str(volume.resource_id)})

    restore = Restore.objects.get()
    assert (restore.volume_id, restore.new_volume) == (volume.pk, False)
    execute_restore(restore.pk)
    assert volume_file(tenant, "db.img").read_bytes() == CONTENT


def test_a_volume_being_backed_up_is_not_restored_over_and_the_confirmation_says_why(member, backup, volume):
    BackupTask.objects.filter(pk=backup.task_id).update(status=BackupTask.Status.RUNNING)
    body = text(
        member.post(
            url("backup_restore", backup), {"target": "original", "volume_id": str(volume.resource_id)}
        )
    )
    assert "Volume 'db.img' is being backed up: it cannot be restored over until that finishes" in body
    assert "Overwrite “db.img”</button>" in body  # still the confirmation, to try again
    assert not Restore.objects.exists()


def test_another_projects_volume_is_never_restored_over(member, backup, other_tenant):
    [theirs] = make_volumes(other_tenant, {"theirs.img": b"theirs"})
    body = text(
        member.post(
            url("backup_restore", backup), {"target": "original", "volume_id": str(theirs.resource_id)}
        )
    )
    assert f"The project has no volume '{theirs.resource_id}'" in body
    assert not Restore.objects.exists()
    assert volume_file(other_tenant, "theirs.img").read_bytes() == b"theirs"


# --- Delete -------------------------------------------------------------------------------------------


def test_the_delete_confirmation_names_the_backup(member, backup):
    body = text(member.get(url("backup_delete", backup)))
    assert "Delete the backup “before-upgrade”?" in body
    assert "Delete “before-upgrade”</button>" in body


def test_with_htmx_the_delete_confirmation_comes_alone(member, backup):
    body = member.get(url("backup_delete", backup), **HTMX).content.decode()
    assert body.lstrip().startswith('<section id="delete-confirm"')


def test_deleting_removes_the_backup_and_audits_it(member, tenant, backup):
    response = member.post(url("backup_delete", backup), follow=True)
    assert "Backup “before-upgrade” deleted." in text(response)
    assert not Backup.objects.filter(pk=backup.pk).exists()
    event = AuditEvent.objects.get(action=AuditEvent.Action.BACKUP_DELETE)
    assert (event.entrance, event.username) == ("dashboard", "alice")


def test_a_backup_being_restored_is_not_deleted_and_the_list_says_why(member, backup):
    backups.restore_start(backup=backup, body=rules.RestoreBody(None, None), actor=audit.Actor.command())
    response = member.post(url("backup_delete", backup), follow=True)
    assert (
        "Backup “before-upgrade” was not deleted. Backup 'before-upgrade' is restoring: it cannot be deleted "
        "until that finishes; try again later." in text(response)
    )
    assert Backup.objects.filter(pk=backup.pk).exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.BACKUP_DELETE).exists()


def test_a_delete_its_provider_fails_says_why_and_keeps_the_backup(member, backup, monkeypatch):
    class Failing:
        def delete_backup(self, project_id, locator):
            raise ProviderError("the store is read-only")

    monkeypatch.setattr(backups, "get_provider", lambda name: Failing())
    response = member.post(url("backup_delete", backup), follow=True)
    assert (
        "Backup “before-upgrade” was not deleted. Backup 'before-upgrade' could not be deleted from its storage "
        "(the store is read-only); it is kept, in status error, and can be deleted again." in text(response)
    )
    backup.refresh_from_db()
    assert backup.status == Backup.Status.ERROR


def test_with_htmx_a_delete_sends_the_browser_back_to_the_list(member, backup):
    response = member.post(url("backup_delete", backup), **HTMX)
    assert response["HX-Redirect"] == reverse("policies:backup_list", kwargs={"project_id": "tenant-a"})


# --- A restore's progress -------------------------------------------------------------------------------


def test_a_waiting_restore_polls_every_second_and_shows_its_bytes(member, backup):
    restore = backups.restore_start(
        backup=backup, body=rules.RestoreBody(None, None), actor=audit.Actor.command()
    )
    Restore.objects.filter(pk=restore.pk).update(status="running", bytes_done=21000)

    partial = member.get(restore_page(restore), **HTMX).content.decode()

    assert partial.lstrip().startswith('<div id="restore-status"')
    assert 'hx-trigger="every 1s"' in partial
    assert 'data-status="running"' in partial
    assert f'max="{len(CONTENT)}" value="21000"' in partial  # the <progress>


def test_without_javascript_the_restore_page_has_a_refresh_link_while_it_runs(member, backup):
    restore = backups.restore_start(
        backup=backup, body=rules.RestoreBody(None, None), actor=audit.Actor.command()
    )
    body = text(member.get(restore_page(restore)))
    assert "<html" in body
    assert f'<a href="{restore_page(restore)}">Refresh</a>' in body
    assert "Waiting for the worker" in body


def test_a_failed_restore_settles_with_its_reason_and_no_trigger(member, backup, tenant):
    restore = backups.restore_start(
        backup=backup, body=rules.RestoreBody(None, None), actor=audit.Actor.command()
    )
    restoring.settle(
        restore, Restore.Status.FAILED, "the target volume is gone: nothing was restored", restore.created_at
    )
    body = text(member.get(restore_page(restore), **HTMX))
    assert 'data-status="failed"' in body
    assert "The target volume is gone: nothing was restored." in body
    assert "hx-trigger" not in body
