import uuid
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from policies import backups
from policies.audit import Actor
from policies.models import Backup
from policies.runs.providers import ProviderError


def find_backup(reference: str) -> Backup:
    """The backup a person names: by its ID, or by its name when exactly one backup has it."""
    backups = Backup.objects.select_related("tenant")
    try:
        return backups.get(pk=uuid.UUID(reference))
    except (ValueError, Backup.DoesNotExist):
        pass
    named = list(backups.filter(name=reference)[:2])
    if len(named) == 1:
        return named[0]
    if named:
        raise CommandError(f"more than one backup is named {reference!r}; give its ID")
    raise CommandError(f"no backup {reference!r}")


class Command(BaseCommand):
    help = (
        "Write a backup's content out to a file (the backup of a deleted policy too). The copy is "
        "written beside PATH and renamed into place only when its SHA-256 matches the one recorded "
        "when the backup was made: a damaged backup, or any failure, leaves PATH as it was. The "
        "restore is recorded in the audit trail (entrance: command)."
    )

    def add_arguments(self, parser):
        parser.add_argument("backup", metavar="BACKUP", help="The backup's ID or name (admin site, Backups).")
        parser.add_argument("--to", required=True, type=Path, metavar="PATH", help="The file to write.")
        parser.add_argument("--force", action="store_true", help="Replace PATH if it exists.")

    def handle(self, *args, backup, to, force, **options):
        found = find_backup(backup)
        if to.is_symlink():
            raise CommandError(f"{to} is a symbolic link: refused (a restore writes only a real file)")
        if to.exists() and not force:
            raise CommandError(f"{to} exists; pass --force to replace it")
        if not found.sha256:
            raise CommandError(f"backup {found.name} has no recorded SHA-256: it cannot be checked")
        try:
            size = backups.restore_to_file(backup=found, to=to, actor=Actor.command())
        except (ProviderError, backups.BackupBusy) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"restored {found.name} ({size} bytes, SHA-256 {found.sha256[:12]}… verified) "
            f"of {found.resource_id} to {to}"
        )
