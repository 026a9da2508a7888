"""Reads that decide what a user may see."""

import uuid
from collections import defaultdict

from django.db.models import Count, OuterRef, Prefetch, QuerySet, Subquery
from django.utils import timezone

from .models import ApiToken, AuditEvent, BackupPolicy, BackupTask, PolicyTag, Tenant, hash_token


def tenants_for_user(*, user) -> QuerySet[Tenant]:
    """Return the tenants the user may open: a superuser's are all of them."""
    if not user.is_authenticated:
        return Tenant.objects.none()
    if user.is_superuser:
        return Tenant.objects.all()
    return Tenant.objects.filter(memberships__user=user)


def _may_exist(project_id: str) -> bool:
    # PostgreSQL refuses a NUL character in any text parameter (psycopg DataError, a 500), where
    # SQLite simply finds nothing: no project ID holds one, so none is looked up.
    return "\x00" not in project_id


def tenant_for_user(*, user, project_id: str) -> Tenant | None:
    """Return the user's tenant with this project ID, or None (also when it does not exist)."""
    if not _may_exist(project_id):
        return None
    return tenants_for_user(user=user).filter(project_id=project_id).first()


def tenant_for_api_user(*, user, project_id: str) -> Tenant | None:
    """Return the tenant only if the token's user is a member (no superuser bypass on the API)."""
    if not _may_exist(project_id):
        return None
    return Tenant.objects.filter(project_id=project_id, memberships__user=user).first()


def policy_list_for_tenant(*, tenant: Tenant) -> QuerySet[BackupPolicy]:
    return BackupPolicy.objects.filter(tenant=tenant).prefetch_related(
        Prefetch("tags", queryset=PolicyTag.objects.order_by("position", "id"))
    )


def policy_count_for_tenant(*, tenant: Tenant) -> int:
    return BackupPolicy.objects.filter(tenant=tenant).count()


def token_for_raw(*, raw: str, now=None) -> ApiToken | None:
    """Return the usable token with this raw value; None if unknown, revoked or expired."""
    now = now or timezone.now()
    token = ApiToken.objects.select_related("user").filter(digest=hash_token(raw)).first()
    if token is None or not token.is_usable(now) or not token.user.is_active:
        return None
    return token


def policy_for_tenant(*, tenant: Tenant, policy_id) -> BackupPolicy | None:
    """Return the tenant's policy with this ID (a UUID or its text), or None: also for a bad ID."""
    try:
        pk = policy_id if isinstance(policy_id, uuid.UUID) else uuid.UUID(str(policy_id))
    except ValueError:
        return None
    return policy_list_for_tenant(tenant=tenant).select_related("tenant").filter(pk=pk).first()


def tag_values_for_tenant(*, tenant: Tenant) -> list[tuple[str, list[str]]]:
    """Return each tag key used in the tenant's policies once, with its distinct values.

    Keys and values are sorted here, by code point, rather than by the database's collation:
    SQLite and PostgreSQL would order them differently.
    """
    values: dict[str, set[str]] = defaultdict(set)
    for key, value in PolicyTag.objects.filter(policy__tenant=tenant).values_list("key", "value").distinct():
        values[key].add(value)
    return [(key, sorted(values[key])) for key in sorted(values)]


def audit_for_policy(*, policy_id) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(policy_id=policy_id)


def tenant_overview_for_user(*, user) -> QuerySet[Tenant]:
    """Return the user's tenants with ``policy_count``, ``volume_count`` and their last finished
    run (``last_run_status``, ``last_run_at``), in one query."""
    last = BackupTask.objects.filter(tenant=OuterRef("pk"), status__in=BackupTask.FINISHED).order_by(
        "-created_at", "-job_id"
    )
    return tenants_for_user(user=user).annotate(
        policy_count=Count("policies", distinct=True),
        volume_count=Count("volumes", distinct=True),
        last_run_status=Subquery(last.values("status")[:1]),
        last_run_at=Subquery(last.values("finished_at")[:1]),
    )


def token_list_for_user(*, user) -> QuerySet[ApiToken]:
    """Return the user's own API tokens, newest first (revoked and expired ones too)."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")


def token_for_user(*, user, token_id) -> ApiToken | None:
    """Return the user's token with this ID, or None: another user's token looks unknown."""
    try:
        pk = int(token_id)
    except (TypeError, ValueError):
        return None
    return token_list_for_user(user=user).filter(pk=pk).first()


def name_clash_for_tenant(*, tenant: Tenant, name: str, exclude=None) -> str | None:
    """Return the stored name of the tenant's policy named ``name`` ignoring case, or None.

    The preview asks this before saving; the service asks again under the tenant's lock.
    """
    policies = BackupPolicy.objects.filter(tenant=tenant, name__iexact=name)
    if exclude is not None:
        policies = policies.exclude(pk=exclude)
    return policies.values_list("name", flat=True).first()
