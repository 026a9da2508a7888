"""The policy page: its volumes (add, remove), "Run now" and the task history that refreshes itself."""

from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.formats import date_format

from policies.models import AuditEvent, BackupTask, Volume
from policies.runs import execution
from tests.helpers.dashboard import HTMX
from tests.helpers.factories import MembershipFactory, TenantFactory
from tests.helpers.payloads import valid_payload
from tests.helpers.policies import make_policy
from tests.helpers.runs import make_volumes

pytestmark = pytest.mark.django_db


@pytest.fixture
def nightly(tenant):
    return make_policy(tenant, payload=valid_payload(backup_policy_name="nightly"))


@pytest.fixture
def disks(tenant):
    return make_volumes(tenant, {"db.img": b"d" * 64, "web.img": b"w" * 32})


def page(policy, name="policy_detail"):
    return reverse(
        f"policies:{name}", kwargs={"project_id": policy.tenant.project_id, "policy_id": policy.pk}
    )


def test_the_page_lists_the_policys_volumes_and_offers_the_others(member, nightly, disks):
    Volume.objects.filter(pk=disks[0].pk).update(policy=nightly)

    response = member.get(page(nightly))

    body = response.content.decode()
    assert response.status_code == HTTPStatus.OK
    assert f'id="volume-{disks[0].resource_id}"' in body
    assert f'name="resource_id" value="{disks[1].resource_id}"' in body  # the picker
    assert "No run yet." in body


def test_the_page_gives_the_schedule_in_utc_on_a_line_of_its_own_as_the_delete_page_does(member, nightly):
    body = member.get(page(nightly)).content.decode()
    # valid_payload: Sunday and Wednesday at 20:00, UTC+08:00.
    assert '<dt>In UTC</dt><dd><span class="mono">Sun 12:00, Wed 12:00 UTC</span></dd>' in body
    assert "(UTC: " not in body  # not "(UTC: ... UTC)"


def test_the_page_says_run_now_backups_are_kept_until_deleted(member, tenant, nightly):
    # Retention never deletes a manual backup: pressing "Run now" often keeps every one of them.
    body = member.get(page(nightly)).content.decode()
    backups = reverse("policies:backup_list", kwargs={"project_id": tenant.project_id})
    assert "the retention rule never deletes them" in body
    assert f'href="{backups}?policy={nightly.pk}"' in body


def test_adding_chosen_volumes_associates_them_and_audits_it(member, nightly, disks):
    response = member.post(
        page(nightly, "policy_volumes_add"), {"resource_id": [str(d.resource_id) for d in disks]}
    )

    assert response.status_code == HTTPStatus.FOUND
    assert Volume.objects.filter(policy=nightly).count() == 2
    event = AuditEvent.objects.get(action=AuditEvent.Action.ASSOCIATE)
    assert (event.entrance, event.username) == ("dashboard", "alice")


def test_adding_nothing_is_refused_with_a_message(member, nightly, disks):
    response = member.post(page(nightly, "policy_volumes_add"), {}, follow=True)

    assert "Choose at least one volume" in response.content.decode()
    assert not Volume.objects.filter(policy=nightly).exists()


def test_removing_a_volume_disassociates_it(member, nightly, disks):
    Volume.objects.filter(pk=disks[0].pk).update(policy=nightly)

    member.post(page(nightly, "policy_volumes_remove"), {"resource_id": str(disks[0].resource_id)})

    assert Volume.objects.get(pk=disks[0].pk).policy_id is None


def test_run_now_queues_a_task_per_volume_and_the_history_polls_while_it_runs(member, nightly, disks):
    Volume.objects.filter(pk__in=[d.pk for d in disks]).update(policy=nightly)

    member.post(page(nightly, "policy_run"))
    partial = member.get(page(nightly), **HTMX)

    assert BackupTask.objects.filter(policy=nightly, manual=True).count() == 2
    body = partial.content.decode()
    assert body.lstrip().startswith('<div id="task-history"')  # the partial alone
    assert 'hx-trigger="every 2s"' in body
    assert body.count("WAITING") == 2


def test_the_history_stops_polling_once_every_task_has_finished(member, nightly, disks):
    Volume.objects.filter(pk=disks[0].pk).update(policy=nightly)
    member.post(page(nightly, "policy_run"))
    execution.execute_task(BackupTask.objects.get().pk)

    body = member.get(page(nightly), **HTMX).content.decode()

    assert "EXECUTE_SUCCESS" in body
    assert "hx-trigger" not in body


def test_run_now_without_volumes_says_to_associate_first(member, nightly):
    response = member.post(page(nightly, "policy_run"), follow=True)

    assert "associate volumes first" in response.content.decode()
    assert not BackupTask.objects.exists()


def test_run_now_while_a_run_waits_says_so_in_the_dashboards_words(member, nightly, disks):
    Volume.objects.filter(pk=disks[0].pk).update(policy=nightly)
    member.post(page(nightly, "policy_run"))

    body = member.post(page(nightly, "policy_run"), follow=True).content.decode()

    assert "Not started: a run of this policy is still going" in body
    assert "AutoBackup." not in body
    assert "policy_id:" not in body
    assert BackupTask.objects.count() == 1


def test_the_list_shows_each_policys_volume_count_and_last_run(member, tenant, nightly, disks):
    Volume.objects.filter(pk=disks[0].pk).update(policy=nightly)
    member.post(page(nightly, "policy_run"))
    execution.execute_task(BackupTask.objects.get().pk)

    body = member.get(
        reverse("policies:policy_list", kwargs={"project_id": tenant.project_id})
    ).content.decode()

    assert '1<span class="visually-hidden"> volumes of nightly' in body
    assert "status-execute_success" in body
    # The person reads the status in words; the API's code stays in the tooltip.
    assert 'title="EXECUTE_SUCCESS">Succeeded</span>' in body


@pytest.mark.parametrize(
    "name", ["policy_detail", "policy_volumes_add", "policy_volumes_remove", "policy_run"]
)
def test_another_tenants_member_gets_404_and_nothing_changes(nightly, disks, name):
    stranger = MembershipFactory(tenant=TenantFactory(project_id="other")).user
    client = Client()
    client.force_login(stranger)

    response = (
        client.post(page(nightly, name)) if name != "policy_detail" else client.get(page(nightly, name))
    )

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert not BackupTask.objects.exists()


@pytest.mark.parametrize("name", ["policy_volumes_add", "policy_run"])
def test_the_writes_refuse_get_and_anonymous_users(client, member, nightly, name):
    assert member.get(page(nightly, name)).status_code == HTTPStatus.METHOD_NOT_ALLOWED
    member.logout()
    assert member.post(page(nightly, name)).status_code == HTTPStatus.FOUND  # to the sign-in page


def test_the_runs_table_says_the_status_in_words_as_the_list_does(member, nightly, disks):
    Volume.objects.filter(pk=disks[0].pk).update(policy=nightly)
    member.post(page(nightly, "policy_run"))
    execution.execute_task(BackupTask.objects.get().pk)

    body = member.get(page(nightly), **HTMX).content.decode()

    assert 'title="EXECUTE_SUCCESS">Succeeded</span>' in body
    assert ">EXECUTE_SUCCESS<" not in body


def test_the_list_s_last_run_says_when_it_finished(member, tenant, nightly, disks):
    Volume.objects.filter(pk=disks[0].pk).update(policy=nightly)
    member.post(page(nightly, "policy_run"))
    execution.execute_task(BackupTask.objects.get().pk)
    finished = BackupTask.objects.get().finished_at

    body = member.get(
        reverse("policies:policy_list", kwargs={"project_id": tenant.project_id})
    ).content.decode()

    assert (
        f'>Succeeded</span><br><span class="subtle run-at">{date_format(finished, "DATETIME_FORMAT")}</span>'
        in body
    )


@pytest.mark.parametrize(("size", "shown"), [(262144, "256 KiB"), (3 * 1024 * 1024, "3 MiB")])
def test_a_volume_s_size_reads_in_a_unit_that_fits(member, tenant, nightly, size, shown):
    [volume] = make_volumes(tenant, {"small.img": b"s" * size})
    Volume.objects.filter(pk=volume.pk).update(policy=nightly)

    body = member.get(page(nightly)).content.decode()

    assert f'<td data-label="Size">{shown}</td>' in body
    assert "0.000 GiB" not in body
