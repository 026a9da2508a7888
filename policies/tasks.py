"""The task functions the worker runs (django-tasks): thin, each calls ``policies.runs``."""

from django_tasks import task

from . import runs


@task()
def run_backup(job_id: str) -> str | None:
    """Make the backup of one backup task."""
    return runs.execute_task(job_id)
