"""The backup task function moved to ``policies.runs.execution``: queue entries waiting under its
old path are pointed at the new one, so that no queued backup is lost on upgrade."""

from django.db import migrations

OLD, NEW = "policies.tasks.run_backup", "policies.runs.execution.run_backup"


def forwards(apps, schema_editor):
    apps.get_model("django_tasks_database", "DBTaskResult").objects.filter(task_path=OLD).update(task_path=NEW)


def backwards(apps, schema_editor):
    apps.get_model("django_tasks_database", "DBTaskResult").objects.filter(task_path=NEW).update(task_path=OLD)


class Migration(migrations.Migration):
    dependencies = [
        ("policies", "0007_backup_manual_origin_retention"),
        ("django_tasks_database", "0021_conditional_partial_index_ordering"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
