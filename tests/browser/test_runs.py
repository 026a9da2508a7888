"""A volume is associated, "Run now" is pressed, and the task reaches EXECUTE_SUCCESS on the page.

A real worker process (``manage.py worker``) runs against the live server's database; the page
is never reloaded after the run starts: the history refreshes itself (htmx polling).
"""

import pytest
from playwright.sync_api import expect

from policies.models import Backup, BackupTask
from tests.helpers.browser import assert_not_reloaded, list_url, mark_the_document
from tests.helpers.payloads import valid_payload
from tests.helpers.policies import make_policy
from tests.helpers.runs import make_volumes
from tests.helpers.worker_process import start_worker, stop

pytestmark = pytest.mark.browser


def test_run_now_shows_the_task_reach_execute_success_without_a_reload(signed_in_page, tenant, screenshot):
    page = signed_in_page
    make_policy(tenant, payload=valid_payload(backup_policy_name="nightly", tags=[]))
    make_volumes(tenant, {"db-data.img": b"payload" * 1000, "logs.img": b"l"})
    worker = start_worker("--no-scheduler")
    try:
        page.goto(list_url(tenant))
        page.get_by_role("link", name="Volumes and runs of nightly").click()
        expect(page.get_by_text("This policy protects no volume yet")).to_be_visible()
        expect(page.get_by_role("button", name="Run now")).to_be_disabled()

        page.get_by_label("db-data.img").check()
        page.get_by_role("button", name="Add the chosen volumes").click()
        expect(page.get_by_role("row", name="db-data.img")).to_be_visible()

        page.get_by_role("button", name="Run now").click()
        expect(page.get_by_text("Run started: 1 backup task queued.")).to_be_visible()
        mark_the_document(page)

        history = page.locator("#task-history")
        # The state the page settles in: the history stops polling once every task has finished.
        expect(history).to_have_attribute("data-active", "false", timeout=90_000)
        # In words, as the list says it; the API's code is the tooltip.
        expect(history.get_by_text("Succeeded", exact=True)).to_have_attribute("title", "EXECUTE_SUCCESS")
        expect(history).to_contain_text("verified")
        assert_not_reloaded(page)
        screenshot(page, "policy-runs")
    finally:
        stop(worker)
    task = BackupTask.objects.get()
    assert task.status == BackupTask.Status.EXECUTE_SUCCESS
    assert Backup.objects.get().name == task.backup_name
