import uuid
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from policies.models import Backup
from policies.providers import ProviderError, get_provider


class Command(BaseCommand):
    help = "Write a backup's content out to a file (the backup of a deleted policy too)."

    def add_arguments(self, parser):
        parser.add_argument("backup_id", metavar="BACKUP_ID", help="The backup's ID (admin site, Backups).")
        parser.add_argument("--to", required=True, type=Path, metavar="PATH", help="The file to write.")
        parser.add_argument("--force", action="store_true", help="Replace PATH if it exists.")

    def handle(self, *args, backup_id, to, force, **options):
        try:
            backup = Backup.objects.select_related("tenant").get(pk=uuid.UUID(backup_id))
        except (ValueError, Backup.DoesNotExist):
            raise CommandError(f"no backup {backup_id!r}") from None
        if to.exists() and not force:
            raise CommandError(f"{to} exists; pass --force to replace it")
        try:
            get_provider(backup.provider).restore_backup(backup.tenant.project_id, backup.locator, to)
        except ProviderError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"restored {backup.name} ({backup.size_bytes} bytes) of {backup.resource_id} to {to}"
        )
