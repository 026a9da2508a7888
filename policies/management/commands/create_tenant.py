from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from policies import accounts


class Command(BaseCommand):
    help = "Create tenants (projects) by project ID; an existing one is left as it is."

    def add_arguments(self, parser):
        parser.add_argument("project_ids", nargs="+", metavar="PROJECT_ID")
        parser.add_argument("--name", default="", help="display name given to the new tenants")

    def handle(self, *project_ids, **options):
        # All or nothing: one invalid ID creates none of them.
        lines = []
        with transaction.atomic():
            for project_id in options["project_ids"]:
                try:
                    tenant, created = accounts.tenant_get_or_create(
                        project_id=project_id, name=options["name"]
                    )
                except ValidationError as exc:
                    raise CommandError(
                        f"{project_id!r}: {' '.join(exc.messages)}; nothing was created"
                    ) from exc
                lines.append(f"{'created' if created else 'exists '} {tenant.project_id}")
        self.stdout.write("\n".join(lines))
