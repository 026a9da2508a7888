"""A backup is restored from the Backups page, into a new volume at 1280 px and over its volume at 390 px.

A real worker process (``manage.py worker``) runs the restore against the live server's
database; the restore's page is never reloaded: its status polls itself (htmx) until it settles.
Both pages fit their width (nothing scrolls sideways) and axe finds nothing serious on them.
"""

import hashlib
import re
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from policies.models import Restore
from policies.runs.restore import execute_restore
from tests.helpers.backups import manual_backup
from tests.helpers.browser import OVERFLOWS, assert_not_reloaded, blocking_violations, mark_the_document
from tests.helpers.runs import make_volumes, write_volume
from tests.helpers.worker_process import start_worker, stop

pytestmark = pytest.mark.browser

CONTENT = bytes(range(256)) * 4096  # 1 MiB
VOLUME = "db-data-volume-of-the-cluster.img"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def volume_bytes(tenant, name) -> bytes:
    return (Path(settings.LOCAL_VOLUME_ROOT) / tenant.project_id / name).read_bytes()


@pytest.mark.parametrize(
    ("screen", "target"), [(DESKTOP, "new volume"), (PHONE, "original")], ids=["1280px-new", "390px-over"]
)
def test_a_backup_is_restored_from_the_backups_page_and_the_page_settles_on_restored(
    signed_in_page, tenant, screen, target, screenshot
):
    page = signed_in_page
    page.set_viewport_size(screen)
    [volume] = make_volumes(tenant, {VOLUME: CONTENT})
    backup = manual_backup(tenant, volume, name="before-the-upgrade")
    write_volume(tenant.project_id, VOLUME, b"written after the backup")
    worker = start_worker("--no-scheduler")
    try:
        page.goto(f"/p/{tenant.project_id}/")
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Backups").click()
        row = page.locator(f"#backup-{backup.pk}")
        expect(row).to_contain_text(VOLUME)
        expect(row.get_by_text("Available", exact=True)).to_have_attribute("title", "available")
        assert page.evaluate(OVERFLOWS) == []
        assert blocking_violations(page) == []
        screenshot(page, f"backups-{screen['width']}")

        row.get_by_role("link", name=f"Restore {backup.name}").click()
        if target == "original":
            page.get_by_role("link", name=f"Restore over “{VOLUME}”…").click()
            warning = page.locator("#overwrite-warning")
            expect(warning).to_contain_text(f"Everything “{VOLUME}” holds now is replaced")
            expect(warning).to_contain_text(f"{backup.taken_at:%Y-%m-%d %H:%M}")
            assert page.evaluate(OVERFLOWS) == []
            page.get_by_role("button", name=f"Overwrite “{VOLUME}”").click()
        else:
            page.get_by_label("Name of the new volume").fill("db-copy.img")
            page.get_by_role("button", name="Restore into a new volume").click()
        expect(page).to_have_url(re.compile(r"/restores/[0-9a-f-]+/$"))
        mark_the_document(page)

        status = page.locator("#restore-status")
        # The state the page settles in: the status stops polling once the restore has finished.
        expect(status).to_have_attribute("data-active", "false", timeout=90_000)
        expect(status).to_have_attribute("data-status", "succeeded")
        expect(status.get_by_text("Restored", exact=True)).to_be_visible()
        assert_not_reloaded(page)
        assert page.evaluate(OVERFLOWS) == []
        assert blocking_violations(page) == []
        screenshot(page, f"restore-{screen['width']}")
    finally:
        stop(worker)
    restore = Restore.objects.get()
    assert (restore.entrance, restore.username) == ("dashboard", "alice")
    restored = volume_bytes(tenant, VOLUME if target == "original" else "db-copy.img")
    assert hashlib.sha256(restored).hexdigest() == backup.sha256 == hashlib.sha256(CONTENT).hexdigest()


def test_without_javascript_the_overwrite_confirmation_is_its_own_page_and_refresh_shows_the_outcome(
    signed_in_no_js_page, tenant
):
    page = signed_in_no_js_page
    [volume] = make_volumes(tenant, {"db.img": CONTENT})
    backup = manual_backup(tenant, volume, name="before-the-upgrade")
    write_volume(tenant.project_id, "db.img", b"written after the backup")
    page.goto(f"/p/{tenant.project_id}/backups/")
    page.get_by_role("link", name=f"Restore {backup.name}").click()
    page.get_by_role("link", name="Restore over “db.img”…").click()
    expect(page).to_have_url(re.compile(r"/restore\?over=original$"))
    expect(page).to_have_title(re.compile("^Overwrite “db.img”?"))
    page.get_by_role("button", name="Overwrite “db.img”").click()
    expect(page.locator("#restore-status")).to_have_attribute("data-status", "waiting")

    # No worker here: the restore runs in-process, and the page shows it once the person refreshes.
    execute_restore(Restore.objects.get().pk)
    page.get_by_role("link", name="Refresh").click()
    expect(page.locator("#restore-status")).to_have_attribute("data-status", "succeeded")
    assert volume_bytes(tenant, "db.img") == CONTENT
