"""Benchmarks that print numbers (never assertions): ``make bench``.

Runs against a throw-away SQLite database in a temporary folder, so it never touches db.sqlite3.
Each figure is the median (and 95th percentile) of many runs, in-process through Django's test
client: it measures the server's own time, without network or browser.
"""

import atexit
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from policies import accounts

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "300"))


def _report(label: str, samples: list[float]) -> None:
    samples = sorted(samples)
    p95 = samples[int(len(samples) * 0.95) - 1]
    print(
        f"{label:<48} median {statistics.median(samples) * 1e3:8.3f} ms   p95 {p95 * 1e3:8.3f} ms   n={len(samples)}"
    )


def _time(fn, rounds: int = ROUNDS) -> list[float]:
    fn()  # warm up caches, templates, imports
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="bpc-bench-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{folder / 'bench.sqlite3'}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    import django

    django.setup()
    import json
    import logging

    logging.disable(logging.WARNING)  # no per-request log lines between the figures

    from django.core.management import call_command
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    from policies.domain.contract import parse
    from policies.models import BackupPolicy
    from tests.helpers.factories import TenantFactory, UserFactory
    from tests.helpers.payloads import founding_payload, valid_payload

    call_command("migrate", verbosity=0)
    print(f"database: {django.db.connection.vendor}  rounds: {ROUNDS}")

    payload = valid_payload()
    _report("core: parse_policy (founding example)", _time(lambda: parse.parse_policy(payload)))
    bad = valid_payload(backup_policy_name="default!", time_zone="UTC+25:00", tags=[{"key": ""}] * 11)
    _report("core: parse_policy (many problems)", _time(lambda: parse.parse_policy(bad)))

    tenant = TenantFactory(project_id="bench")
    user = UserFactory(username="bench")
    accounts.membership_add(user=user, tenant=tenant)
    _, token = accounts.token_issue(user=user)
    client = Client(HTTP_X_AUTH_TOKEN=token, HTTP_HOST="localhost")
    url = f"/v2/{tenant.project_id}/backuppolicy"

    def create() -> None:
        BackupPolicy.objects.filter(tenant=tenant).delete()
        response = client.post(url, json.dumps(payload), content_type="application/json")
        assert response.status_code == 200, response.content

    _report("API: POST create (incl. delete of the previous)", _time(create))
    refused = json.dumps(bad)
    _report(
        "API: POST create refused (400, 14 problems)",
        _time(lambda: client.post(url, refused, content_type="application/json")),
    )

    try:
        preview_url = reverse("policies:policy_preview", args=[tenant.project_id])
    except NoReverseMatch:
        preview_url = None
    if preview_url:
        from policies.dashboard.forms.mapping import form_data_from_payload  # the dashboard's own mapping

        browser = Client(HTTP_HOST="localhost")
        browser.force_login(user)
        data = form_data_from_payload(founding_payload())
        _report(
            "dashboard: htmx preview (UTC+02:00, 3 times)",
            _time(lambda: browser.post(preview_url, data, HTTP_HX_REQUEST="true")),
        )
        data_named = dict(data, time_zone="Europe/Berlin")
        _report(
            "dashboard: htmx preview (Europe/Berlin, DST note)",
            _time(lambda: browser.post(preview_url, data_named, HTTP_HX_REQUEST="true")),
        )


if __name__ == "__main__":
    main()
