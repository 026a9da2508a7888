"""A long restore says how far it is: the provider reports the bytes written, the worker records them."""

import pytest

from policies import audit, backups
from policies.domain.contract import backups as rules
from policies.models import Restore
from policies.runs import execution
from policies.runs import restore as restoring
from policies.runs.providers import chunkstore, get_provider
from tests.helpers.runs import make_volumes

pytestmark = pytest.mark.django_db

CHUNK = chunkstore.CHUNK_SIZE
CONTENT = b"".join(bytes([n]) * CHUNK for n in range(2)) + b"tail" * 1000  # two chunks and a bit


@pytest.fixture
def volume(tenant):
    return make_volumes(tenant, {"big.img": CONTENT})[0]


@pytest.fixture
def backup(tenant, volume):
    made = backups.backup_create(
        tenant=tenant, body=rules.CreateBody(volume.resource_id, "", ""), actor=audit.Actor.command()
    )
    execution.execute_task(made.task_id)
    made.refresh_from_db()
    return made


def test_the_provider_reports_the_bytes_written_as_it_goes(tenant, backup, tmp_path):
    seen: list[int] = []

    written = get_provider("local").restore_backup(
        tenant.project_id, backup.locator, tmp_path / "out.img", sha256=backup.sha256, progress=seen.append
    )

    assert written == len(CONTENT)
    assert seen == [CHUNK, 2 * CHUNK, len(CONTENT)]
    assert (tmp_path / "out.img").read_bytes() == CONTENT


def test_a_restore_records_its_progress_while_it_runs(tenant, volume, backup, monkeypatch):
    restore = backups.restore_start(
        backup=backup, body=rules.RestoreBody(volume.resource_id, None), actor=audit.Actor.command()
    )
    seen_by_a_person: list[tuple[str, int, int]] = []
    provider = get_provider("local")
    original = provider.restore_over_volume

    def watched(*args, progress, **kwargs):
        def record_then_look(done):
            progress(done)
            row = Restore.objects.get(pk=restore.pk)
            seen_by_a_person.append((row.status, row.bytes_done, row.bytes_total))

        return original(*args, progress=record_then_look, **kwargs)

    monkeypatch.setattr(provider, "restore_over_volume", watched)

    assert restoring.execute_restore(restore.pk, provider=provider) == Restore.Status.SUCCEEDED

    # Recorded at most once a second: the first report is in the row while the restore runs.
    assert seen_by_a_person[0] == (Restore.Status.RUNNING, CHUNK, len(CONTENT))
    restore.refresh_from_db()
    assert (restore.bytes_done, restore.bytes_total) == (len(CONTENT), len(CONTENT))


def test_progress_is_written_at_most_once_a_second_and_never_over_a_settled_restore(tenant, volume, backup):
    restore = backups.restore_start(
        backup=backup, body=rules.RestoreBody(volume.resource_id, None), actor=audit.Actor.command()
    )
    restore = restoring._claim(restore.pk, restore.created_at)
    now = [100.0]
    record = restoring._progress_recorder(restore, clock=lambda: now[0])

    record(10)
    record(20)  # the same second: not written
    assert Restore.objects.get(pk=restore.pk).bytes_done == 10
    now[0] += 1.5
    record(30)
    assert Restore.objects.get(pk=restore.pk).bytes_done == 30

    restoring.settle(restore, Restore.Status.FAILED, "taken back by the sweep", restore.created_at)
    now[0] += 5
    record(40)
    assert Restore.objects.get(pk=restore.pk).bytes_done == 30
