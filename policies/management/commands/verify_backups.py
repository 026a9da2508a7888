from django.core.management.base import BaseCommand, CommandError

from policies.models import Backup, Tenant
from policies.runs import verify


class Command(BaseCommand):
    help = (
        "Verify now every available backup of the given projects (all without arguments): read each "
        "back and compare its SHA-256. Prints one line per backup; exits 1 if any failed."
    )

    def add_arguments(self, parser):
        parser.add_argument("project_ids", nargs="*", metavar="PROJECT_ID")

    def handle(self, *args, project_ids, **options):
        known = set(Tenant.objects.filter(project_id__in=project_ids).values_list("project_id", flat=True))
        unknown = set(project_ids) - known
        if unknown:
            raise CommandError(f"no such project: {', '.join(sorted(unknown))}")
        backups = Backup.objects.filter(status=Backup.Status.AVAILABLE).select_related("tenant")
        if project_ids:
            backups = backups.filter(tenant__project_id__in=project_ids)
        failed = 0
        for backup in backups.order_by("tenant__project_id", "created_at", "pk").iterator():
            claimed = verify.claim_now(backup)
            if claimed is None:
                outcome = verify.Outcome(
                    verify.POSTPONED, "its volume is being backed up or restored, or a worker verifies it now"
                )
            else:
                outcome = verify.execute_verification(backup.pk, lease=claimed.lease)
            failed += outcome.result == verify.FAILED
            self.stdout.write(
                f"{backup.tenant.project_id} {backup.name} ({backup.pk}): "
                f"{outcome.result or 'skipped'}: {outcome.detail}"
            )
        if failed:
            raise CommandError(f"{failed} backup(s) failed verification", returncode=1)
