from django.core.management.base import BaseCommand, CommandError

from policies.models import Tenant
from policies.runs import inventory


class Command(BaseCommand):
    help = (
        "Refresh the volume inventory of the given projects (all without arguments) from the provider. "
        "A volume the provider no longer lists becomes 'deleted'; it is never dropped."
    )

    def add_arguments(self, parser):
        parser.add_argument("project_ids", nargs="*", metavar="PROJECT_ID")

    def handle(self, *args, project_ids, **options):
        unknown = set(project_ids) - set(
            Tenant.objects.filter(project_id__in=project_ids).values_list("project_id", flat=True)
        )
        if unknown:
            raise CommandError(f"no such project: {', '.join(sorted(unknown))}")
        for project_id, result in inventory.volumes_sync_all(project_ids=project_ids or None).items():
            self.stdout.write(
                f"{project_id}: {result.added} added, {result.updated} updated, {result.deleted} now deleted"
            )
