"""An empty django-tasks task: the queue's own cost per task, the floor of the scheduler benchmark."""

from django_tasks import task


@task()
def noop() -> None:
    """Do nothing: what a worker then spends is claiming and settling the queue entry."""
