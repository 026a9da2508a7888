"""Retention executed by the worker equals the retention forecast, backup for backup."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings

from policies.domain.retention import simulation
from policies.models import Backup, BackupTask
from policies.runs import execution, scheduler
from tests.helpers.runs import MONDAY, associate, daily_policy

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

WEEKS = 13  # three months and a bit: two month ends


def alive_in_forecast(prediction, moment):
    return sorted(
        backup.created_at
        for backup in prediction.backups
        if backup.created_at <= moment and (backup.deleted_at is None or backup.deleted_at > moment)
    )


@pytest.mark.parametrize(
    "scheduled",
    [
        pytest.param(
            {"rentention_num": 3, "remain_first_backup_of_curMonth": "Y"}, id="3 newest, first of month"
        ),
        pytest.param({"rentention_num": 2}, id="2 newest"),
        pytest.param(
            {"rentention_day": 4, "remain_first_backup_of_curMonth": "Y", "rentention_num": None},
            id="4 days, first of month",
        ),
    ],
)
def test_three_months_of_runs_keep_exactly_the_backups_the_forecast_keeps(tenant, two_volumes, scheduled):
    policy = daily_policy(tenant, start_time="06:00", **scheduled)
    associate(policy, two_volumes[:1])
    spec = policy.to_spec(tags=())
    prediction = simulation.simulate_retention(spec, start=MONDAY.date(), weeks=WEEKS)
    end = MONDAY + timedelta(weeks=WEEKS)

    moment = MONDAY + timedelta(hours=6)  # each run, as it happens
    while moment < end:
        scheduler.scheduler_tick(now=moment)
        for task in BackupTask.objects.filter(status=BackupTask.Status.WAITING):
            assert execution.execute_task(task.pk, now=moment) == BackupTask.Status.EXECUTE_SUCCESS
        kept = sorted(Backup.objects.values_list("taken_at", flat=True))
        assert kept == alive_in_forecast(prediction, moment), moment
        moment += timedelta(days=1)

    assert BackupTask.objects.count() == len(prediction.backups) == WEEKS * 7
    files = sorted(p.name for p in Path(settings.LOCAL_BACKUP_ROOT).rglob("autobk_*"))
    assert files == sorted(Path(locator).name for locator in Backup.objects.values_list("locator", flat=True))
