import json
import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from policies import accounts, audit, services, volumes
from policies.domain.contract import parse
from policies.domain.contract.volumes import ResourceItem
from policies.models import BackupPolicy, Volume
from policies.runs import inventory

DEMO_PROJECT = "demo-project"
# Small volume files of the local provider (only when it is the one in use), so runs are real.
DEMO_VOLUMES = {"db-data.img": 3 * 1024 * 1024, "web-root.img": 1024 * 1024, "logs.img": 256 * 1024}
# The policy that protects the first two of them.
DEMO_PROTECTED = ("nightly-db", ("db-data.img", "web-root.img"))

DEMO_POLICIES = [
    {
        "backup_policy_name": "nightly-db",
        "scheduled_policy": {
            "start_time": "22:00,00:00,02:00",
            "week_frequency": ["MON", "THU"],
            "rentention_num": 7,
            "status": "ON",
        },
        "time_zone": "UTC+02:00",
        "tags": [{"key": "env", "value": "prod"}],
    },
    {
        "backup_policy_name": "weekly-archive",
        "scheduled_policy": {
            "start_time": "03:00",
            "frequency": 7,
            "rentention_day": 365,
            "remain_first_backup_of_curMonth": "Y",
            "status": "ON",
        },
    },
    {
        "backup_policy_name": "test-volumes",
        "scheduled_policy": {
            "start_time": "12:00",
            "week_frequency": ["SUN", "WED"],
            "rentention_day": 30,
            "status": "OFF",
        },
        "time_zone": "UTC+08:00",
    },
]


class Command(BaseCommand):
    help = "Create the demo tenant, its policies, an admin user and an API token (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")

    def handle(self, *args, **options):
        user_model = get_user_model()
        password = os.environ.get("DJANGO_SUPERUSER_PASSWORD") or secrets.token_urlsafe(12)
        with transaction.atomic():
            tenant, _ = accounts.tenant_get_or_create(project_id=DEMO_PROJECT, name="Demo project")
            admin, created = user_model.objects.get_or_create(
                username="admin", defaults={"is_staff": True, "is_superuser": True}
            )
            if created or os.environ.get("DJANGO_SUPERUSER_PASSWORD"):
                admin.set_password(password)
                admin.save()
            accounts.membership_add(user=admin, tenant=tenant)
            for payload in DEMO_POLICIES:
                if BackupPolicy.objects.filter(
                    tenant=tenant, name__iexact=payload["backup_policy_name"]
                ).exists():
                    continue
                result = parse.parse_policy(payload)
                services.policy_create(tenant=tenant, spec=result.spec, actor=audit.Actor.command())
            _, token = accounts.token_issue(user=admin)
        self._seed_volumes(tenant)

        example = {
            # A new name each run, so the printed command works however often make run is used.
            "backup_policy_name": f"from-curl-{secrets.token_hex(3)}",
            "scheduled_policy": {"start_time": "01:00", "frequency": 1, "rentention_num": 7, "status": "ON"},
        }
        base = options["base_url"].rstrip("/")
        out = self.stdout
        out.write(self.style.SUCCESS("Demo data ready."))
        out.write(f"  Dashboard: {base}/   (admin site: {base}/admin/)")
        if created or os.environ.get("DJANGO_SUPERUSER_PASSWORD"):
            out.write(f"  Sign in as: admin / {password}")
        else:
            out.write("  Sign in as: admin (password unchanged; set DJANGO_SUPERUSER_PASSWORD to reset it)")
        out.write(f"  API token (new, shown once): {token}")
        out.write("  Create a policy over the API:")
        out.write(
            f"    curl -sS -X POST {base}/v2/{DEMO_PROJECT}/backuppolicy "
            f"-H 'X-Auth-Token: {token}' -H 'Content-Type: application/json' "
            f"-d '{json.dumps(example)}'"
        )

    def _seed_volumes(self, tenant) -> None:
        if settings.BACKUP_PROVIDER != "local":
            return
        folder = settings.LOCAL_VOLUME_ROOT / tenant.project_id
        folder.mkdir(parents=True, exist_ok=True)
        for name, size in DEMO_VOLUMES.items():
            path = folder / name
            if not path.exists():
                # Recognisable content, not zeros: a restored copy can be compared by eye.
                line = f"{name} demo volume\n".encode()
                path.write_bytes((line * (size // len(line) + 1))[:size])
        inventory.volumes_sync(tenant=tenant)
        policy_name, names = DEMO_PROTECTED
        policy = BackupPolicy.objects.filter(tenant=tenant, name=policy_name).first()
        free = Volume.objects.filter(tenant=tenant, name__in=names, policy__isnull=True)
        if policy is not None and free.exists():
            volumes.policy_volumes_associate(
                policy=policy,
                items=[ResourceItem(str(volume.resource_id), "volume") for volume in free],
                actor=audit.Actor.command(),
                sync_unknown=False,
            )
        self.stdout.write(f"  Demo volumes: {folder} (backups in {settings.LOCAL_BACKUP_ROOT})")
