"""Nothing overflows: the policy list at 1280 px with every column filled, the runs at 390 px, the
volumes' protection and the notifications' deliveries at 390 px.

Each test fills the page with what makes it widest (a run with its time, zone warnings, tags,
long backup names and messages), waits for the page to settle and measures: no scroll region
scrolls sideways, and every cell lies inside the region that holds it.
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from policies import audit, events, volumes, webhooks
from policies.domain.contract import webhooks as webhook_rules
from policies.models import BackupTask, Delivery
from policies.runs import execution
from tests.helpers.browser import OVERFLOWS, list_url
from tests.helpers.payloads import valid_payload
from tests.helpers.policies import make_policy
from tests.helpers.runs import associate, make_volumes

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def ran(tenant, policy, contents):
    """Give the policy volumes and one finished run of each (the local provider, in-process)."""
    associate(policy, make_volumes(tenant, contents))
    for task in volumes.policy_execute(policy=policy, actor=audit.Actor.command()):
        execution.execute_task(task.pk)


def fill_the_list(tenant):
    long_name = "nightly-database-backup-of-the-production-cluster"
    policy = make_policy(
        tenant,
        payload=valid_payload(
            backup_policy_name=long_name,
            tags=[{"key": "environment", "value": "production"}, {"key": "team", "value": "platform-ops"}],
        ),
    )
    ran(tenant, policy, {"db-data.img": b"d" * 4096})
    # Made half a year from now, at Berlin's other offset: its re-base is due, and the list says so.
    make_policy(
        tenant,
        now=timezone.now() + timedelta(days=182),
        payload={
            "backup_policy_name": "berlin-weekdays",
            "time_zone_name": "Europe/Berlin",
            "scheduled_policy": {
                "start_time": "05:00,09:00",
                "week_frequency": ["MON", "TUE", "WED", "THU", "FRI"],
                "rentention_day": 30,
                "remain_first_backup_of_curMonth": "Y",
                "status": "ON",
            },
        },
    )
    return policy


def test_at_1280_px_the_policy_list_fits_with_every_column_filled(signed_in_page, tenant):
    page = signed_in_page
    page.set_viewport_size(DESKTOP)
    policy = fill_the_list(tenant)
    page.goto(list_url(tenant))
    expect(page.get_by_role("row", name=policy.name).get_by_text("Succeeded")).to_be_visible()
    assert page.evaluate(OVERFLOWS) == []
    delete = page.get_by_role("link", name=f"Delete {policy.name}")
    delete.scroll_into_view_if_needed()
    expect(delete).to_be_in_viewport(ratio=1)  # whole: not "D"


def test_at_390_px_the_runs_and_volumes_fit_with_their_message_backup_and_remove_in_view(
    signed_in_page, tenant
):
    page = signed_in_page
    page.set_viewport_size(PHONE)
    policy = make_policy(tenant, payload=valid_payload(backup_policy_name="nightly", tags=[]))
    ran(tenant, policy, {"db-data-volume-of-the-cluster.img": b"d" * 262144, "logs.img": b"l" * 100})
    page.goto(f"/p/{tenant.project_id}/policy/{policy.pk}/")
    history = page.locator("#task-history")
    expect(history).to_have_attribute("data-active", "false")  # settled: nothing waits or runs
    assert BackupTask.objects.filter(policy=policy, status="EXECUTE_SUCCESS").count() == 2
    assert page.evaluate(OVERFLOWS) == []
    task = BackupTask.objects.filter(policy=policy).first()
    row = page.locator(f"#task-{task.job_id}")
    for label in ("Backup", "Message", "Finished (UTC)"):
        cell = row.locator(f"td[data-label='{label}']")
        expect(cell).to_be_visible()
        assert cell.evaluate("el => el.getBoundingClientRect().right <= window.innerWidth")
    remove = page.get_by_role("button", name="Remove logs.img")
    remove.scroll_into_view_if_needed()
    expect(remove).to_be_in_viewport(ratio=1)  # whole: not cut off at the side


def delivered_webhook(tenant) -> None:
    """A webhook with a long URL and one answered delivery, as the notifications page lists it."""
    url = "https://hooks.example.com/backups/notifications/in"
    body, _ = webhook_rules.parse_webhook_body(
        {"webhook": {"url": url, "events": ["backup.failed"]}}, allow_http=False
    )
    endpoint = webhooks.webhook_create(tenant=tenant, body=body, actor=audit.Actor.command())[0]
    event = events.emit("backup.failed", tenant.pk, policy_name="nightly")
    Delivery.objects.create(
        tenant=tenant,
        event=event,
        endpoint=endpoint,
        attempts=1,
        last_status_code=200,
        last_response='{"ok": true}',
        delivered_at=event.occurred_at,
    )


@pytest.mark.parametrize(
    ("path", "region"),
    [("/", "Volumes and their protection"), ("notifications", "Recent deliveries")],
    ids=["protection", "deliveries"],
)
def test_at_390_px_the_protection_and_the_deliveries_are_cards_without_sideways_scrolling(
    signed_in_page, tenant, path, region
):
    page = signed_in_page
    page.set_viewport_size(PHONE)
    policy = make_policy(tenant, payload=valid_payload(backup_policy_name="nightly", tags=[]))
    associate(policy, make_volumes(tenant, {"db-data-volume-of-the-cluster.img": b"d" * 4096}))
    delivered_webhook(tenant)
    page.goto(path if path == "/" else f"/p/{tenant.project_id}/{path}")
    table = page.get_by_role("region", name=region).get_by_role("table")
    expect(table).to_be_visible()
    assert page.evaluate(OVERFLOWS) == []
    # Each cell names its column, as the other tables' cards do.
    cell = table.locator("td[data-label]").last
    label = cell.get_attribute("data-label")
    assert cell.evaluate("el => getComputedStyle(el, '::before').content") == f'"{label}: "'
