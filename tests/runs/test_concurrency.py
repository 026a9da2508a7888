"""Two schedulers and two real workers racing over a simulated week: every run happens exactly once.

Time is injected into the schedulers (a week in steps of two hours, not slept); the workers are
django-tasks-db's own ``Worker`` in batch mode. Each runs in its own thread with its own database
connection, all four at once at each step (tests/concurrency.py).
"""

from collections import Counter
from datetime import timedelta

import pytest
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from policies.domain.schedule import nextruns
from policies.models import Backup, BackupTask
from policies.runs import scheduler
from tests.helpers.concurrency import in_parallel
from tests.helpers.runs import MONDAY, associate, daily_policy, make_volumes

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

STEP = timedelta(hours=2)
WEEK = timedelta(days=7)


def worker(name: str):
    def run() -> None:
        Worker(
            queue_names=["default"],
            interval=0,
            batch=True,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=name,
            excluded_queue_names=[],
        ).run()

    return run


def tick(now):
    return lambda: scheduler.scheduler_tick(now=now)


def test_two_schedulers_and_two_workers_make_each_run_of_a_week_exactly_once(tenant):
    policies = [
        daily_policy(tenant, start_time="00:00,06:00,12:00,18:00", rentention_num=14),
        daily_policy(tenant, start_time="03:00,15:00", rentention_num=14),
        daily_policy(tenant, start_time="09:00", rentention_num=14),
    ]
    disks = make_volumes(tenant, {f"disk-{index}.img": bytes([65 + index]) * 4096 for index in range(6)})
    for index, policy in enumerate(policies):
        associate(policy, disks[2 * index : 2 * index + 2])

    now = MONDAY
    outcomes = []
    while now < MONDAY + WEEK:
        outcomes += in_parallel([tick(now), tick(now), worker("w1"), worker("w2")])
        now += STEP
    outcomes += in_parallel([worker("w1"), worker("w2")])  # what the last step queued

    assert not [outcome for outcome in outcomes if isinstance(outcome, BaseException)], outcomes
    expected = Counter()
    for policy in policies:
        spec = policy.to_spec(tags=())
        instants = [
            run.utc for run in nextruns.next_runs(spec, start=MONDAY, count=100) if run.utc < MONDAY + WEEK
        ]
        for volume in policy.volumes.all():
            expected.update((policy.pk, volume.pk, instant) for instant in instants)
    made = Counter(BackupTask.objects.values_list("policy_id", "volume_id", "scheduled_at"))
    assert made == expected
    assert max(made.values()) == 1
    statuses = Counter(BackupTask.objects.values_list("status", "attempts"))
    assert statuses == {(BackupTask.Status.EXECUTE_SUCCESS, 1): sum(expected.values())}
    # Each task was queued once (a scheduler that lost the race queued nothing), run once, and
    # the retention (14 newest per volume) kept what it keeps.
    assert DBTaskResult.objects.count() == sum(expected.values())
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"SUCCESSFUL"}
    assert Counter(Backup.objects.values_list("volume_id", flat=True)) == {
        volume.pk: min(14, sum(1 for key in expected if key[1] == volume.pk)) for volume in disks
    }
