from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from policies import accounts, audit
from policies.models import Tenant


class Command(BaseCommand):
    help = (
        "Issue an API token for a user (created if needed) and make the user a member of each "
        "named project. The raw token is printed alone on the last line; it is stored hashed."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--project", action="append", required=True, metavar="PROJECT_ID", dest="projects"
        )
        parser.add_argument(
            "--expires-in", type=int, metavar="SECONDS", help="lifetime; default: never expires"
        )

    def handle(self, *args, **options):
        if options["expires_in"] is not None and options["expires_in"] <= 0:
            raise CommandError("--expires-in must be a positive number of seconds")
        projects = options["projects"]
        tenants = {t.project_id: t for t in Tenant.objects.filter(project_id__in=projects)}
        unknown = [p for p in projects if p not in tenants]
        if unknown:
            raise CommandError(
                f"unknown project(s): {', '.join(unknown)}; create them first with manage.py create_tenant"
            )
        expires = timedelta(seconds=options["expires_in"]) if options["expires_in"] else None
        with transaction.atomic():
            user = accounts.user_get_or_create(username=options["username"])
            for project_id in projects:
                accounts.membership_add(user=user, tenant=tenants[project_id])
            token, raw = accounts.token_issue(user=user, expires_in=expires, actor=audit.Actor.command())
        until = token.expires_at.isoformat() if token.expires_at else "never"
        self.stderr.write(
            f"token {token.prefix}… for {user.username} in {', '.join(projects)}; expires: {until}"
        )
        self.stdout.write(raw)
