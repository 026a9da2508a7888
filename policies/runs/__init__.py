"""Runs: due runs become backup tasks, a task becomes one backup, and retention follows.

``scheduler`` (the tick), ``queue`` (task rows in bulk), ``execution`` (one task, and the task
function), ``sweep`` (what stopped workers left), ``retention``, ``inventory`` (the volumes a
provider lists), ``attempts`` and ``database`` (names, leases, outages), ``providers/``.

Nothing here computes a schedule or a retention rule: the core answers (``domain.nextruns.next_run``,
``domain.retention.retention_keeps``). What must happen once is decided by the database: a run of one
volume for one scheduled instant is a row unique on (policy, volume, scheduled_at), created in
the transaction that advances the policy's ``next_run_at`` under a row lock (``SKIP LOCKED`` on
PostgreSQL; SQLite's IMMEDIATE transaction holds the write lock), and the queue entry of the
task (django-tasks-db) is written in that same transaction. Time is an argument (``now``), so a
week of schedule can be played in a second.

The decisions (docs/api.md, "Volumes and runs"):
- A run is fired if it is at most ``BACKUP_MISSED_RUN_WINDOW_MINUTES`` late (360 by default):
  a scheduler that was down fires the latest missed run once, late; every older missed run (at
  most ``SKIP_RECORD_LIMIT`` instants per policy and tick) is recorded as ``SKIP``.
- A task runs through its provider with a deadline (``BACKUP_TIMEOUT_SECONDS``, then
  ``EXECUTE_TIMEOUT``). A transient failure is tried again up to ``BACKUP_MAX_ATTEMPTS``
  attempts in all, ``BACKUP_RETRY_DELAY_SECONDS`` apart; each attempt is counted on the task.
- A RUNNING task holds a lease (its timeout plus ``BACKUP_LEASE_GRACE_SECONDS``). A worker killed
  mid-backup leaves its lease to expire: the sweep (every scheduler tick) discards what the
  attempt left with the provider and queues the task again, or fails it once its attempts are
  spent.
- Fencing: each attempt writes under its own name (``attempt_name``: the task's backup name and
  the attempt's number), and the attempt's number is its token. An attempt settles (a Backup row,
  a status) only while the task, locked, is still RUNNING at its number, and it deletes only what
  carries its own name. A worker that was paused past its lease and resumes therefore finds the
  task taken, removes its own copy, and never touches the copy of the attempt that replaced it.
- A database outage does not lose a finished copy: the claim and the settle are tried again,
  with backoff, for up to ``BACKUP_DB_RETRY_SECONDS``; a copy never settled carries its attempt's
  name, which the sweep discards when it takes the task back.
- A scheduled task whose policy is gone, OFF, or no longer holds the volume when a worker takes
  it is ``SKIP``: delete, disassociate and OFF take effect before the next run.
"""
