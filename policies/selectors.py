"""Reads that decide what a user may see."""

import functools
import operator
import uuid
from collections import defaultdict
from functools import reduce

from django.db import connection
from django.db.models import (
    CharField,
    Count,
    Exists,
    IntegerField,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.utils import timezone

from policies.domain.contract.tag_query import TagFilter, TagQuery

from .models import (
    ApiToken,
    AuditEvent,
    BackupPolicy,
    BackupTask,
    Delivery,
    EmailRecipient,
    Event,
    Membership,
    PolicyTag,
    Tenant,
    Volume,
    WebhookEndpoint,
    hash_token,
)


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


def policy_values_for_tenant(*, tenant: Tenant) -> list[tuple[dict, list[tuple[str, str]]]]:
    """Return the tenant's policies as stored values with their ``(key, value)`` tags, in list order.

    One query (each policy joined to its tags, with its number of volumes as
    ``resource_count``) and no model instances: the API's list needs only the values.
    """
    # The number of volumes as a subquery per policy: a COUNT over the join would count tags too.
    volume_count = (
        Volume.objects.filter(policy=OuterRef("pk"))
        .order_by()
        .values("policy")
        .annotate(n=Count("pk"))
        .values("n")
    )
    rows = (
        BackupPolicy.objects.filter(tenant=tenant)
        .annotate(resource_count=Coalesce(Subquery(volume_count), 0))
        .order_by("created_at", "id", "tags__position", "tags__id")
        .values("id", *BackupPolicy.SPEC_FIELDS, "resource_count", "tags__key", "tags__value")
    )
    policies: dict = {}
    for row in rows:
        key, value = row.pop("tags__key"), row.pop("tags__value")
        _, tags = policies.setdefault(row["id"], (row, []))
        if key is not None:  # a policy without tags comes once, with NULLs from the outer join
            tags.append((key, value))
    return list(policies.values())


def policy_count_for_tenant(*, tenant: Tenant) -> int:
    return BackupPolicy.objects.filter(tenant=tenant).count()


def token_for_raw(*, raw: str, now=None, project_id: str | None = None) -> ApiToken | None:
    """Return the usable token with this raw value; None if unknown, revoked or expired.

    With ``project_id``, the same query also reads the project when the token's user is a
    member of it (no superuser bypass on the API): :func:`tenant_for_api_token` then answers
    from the token without another query.
    """
    now = now or timezone.now()
    tokens = ApiToken.objects.select_related("user").filter(digest=hash_token(raw))
    asked = project_id is not None and _may_exist(project_id)
    if asked:
        tokens = tokens.annotate(
            member_tenant_id=RawSQL(_member_project_sql("id"), (project_id,), output_field=IntegerField()),
            member_tenant_name=RawSQL(_member_project_sql("name"), (project_id,), output_field=CharField()),
        )
    token = tokens.first()
    if token is None or not token.is_usable(now) or not token.user.is_active:
        return None
    if project_id is not None:
        tenant = None
        if asked and token.member_tenant_id is not None:
            # created_at is left deferred: no API path reads it (reading it would cost a query).
            tenant = Tenant.from_db(
                token._state.db,
                ["id", "project_id", "name"],
                [token.member_tenant_id, project_id, token.member_tenant_name],
            )
        token.tenants_read = {project_id: tenant}
    return token


@functools.cache
def _member_project_sql(column: str) -> str:
    """Return a subquery of the token's row: the project's ``column`` if the token's user is a member.

    The rule is tenant_for_api_user's: a membership of the token's user in the tenant with the
    path's project ID (both unique indexes). Written as SQL rather than as querysets in
    Subquery(), which the ORM compiled on every request at more cost than a second query.
    """
    quote = connection.ops.quote_name
    membership, tenant, token = Membership._meta, Tenant._meta, ApiToken._meta

    def column_of(meta, name: str) -> str:
        return quote(meta.get_field(name).column)

    return (
        f"SELECT t.{column_of(tenant, column)} FROM {quote(membership.db_table)} m"
        f" INNER JOIN {quote(tenant.db_table)} t ON t.{column_of(tenant, 'id')} = m.{column_of(membership, 'tenant')}"
        f" WHERE m.{column_of(membership, 'user')} = {quote(token.db_table)}.{column_of(token, 'user')}"
        f" AND t.{column_of(tenant, 'project_id')} = %s"
    )


def tenant_for_api_token(*, token: ApiToken, project_id: str) -> Tenant | None:
    """Return the project only if the token's user is a member: read with the token when it can be."""
    read = getattr(token, "tenants_read", {})
    if project_id in read:
        return read[project_id]
    return tenant_for_api_user(user=token.user, project_id=project_id)


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


def policy_count_and_name_clash_for_tenant(*, tenant: Tenant, name: str) -> tuple[int, str | None]:
    """Return how many policies the tenant holds and the stored name ``name`` clashes with, in one query.

    The create's two save checks (the quota, a name taken ignoring case): the preview asks them
    before saving, the service again under the tenant's lock.
    """
    found = BackupPolicy.objects.filter(tenant=tenant).aggregate(
        count=Count("pk"), clash=Max("name", filter=Q(name__iexact=name))
    )
    return found["count"], found["clash"]


def _tag_holds(tag_filter: TagFilter) -> Exists:
    tags = PolicyTag.objects.filter(policy=OuterRef("pk"), key=tag_filter.key)
    if tag_filter.values:
        tags = tags.filter(value__in=tag_filter.values)
    return Exists(tags)


def policy_query_by_tags(*, tenant: Tenant, query: TagQuery) -> QuerySet[BackupPolicy]:
    """Return the tenant's policies that the tag query finds, in creation order.

    The database filters, with the meaning :func:`tag_query.matches` states: one ``EXISTS`` per
    listed key, joined with AND (``tags``, ``not_tags``) or OR (``tags_any``, ``not_tags_any``).
    Keys and values compare exactly (case-sensitive on SQLite and PostgreSQL alike).
    """
    policies = policy_list_for_tenant(tenant=tenant)
    if query.tags:
        policies = policies.filter(reduce(operator.and_, map(_tag_holds, query.tags)))
    if query.tags_any:
        policies = policies.filter(reduce(operator.or_, map(_tag_holds, query.tags_any)))
    if query.not_tags:
        policies = policies.exclude(reduce(operator.and_, map(_tag_holds, query.not_tags)))
    if query.not_tags_any:
        policies = policies.exclude(reduce(operator.or_, map(_tag_holds, query.not_tags_any)))
    for part in query.name_contains:
        policies = policies.filter(name__icontains=part)
    return policies


def volume_list_for_tenant(*, tenant: Tenant) -> QuerySet[Volume]:
    return Volume.objects.filter(tenant=tenant).order_by("name", "resource_id")


def volume_list_for_tenants(*, tenants) -> QuerySet[Volume]:
    """Return the volumes of the given tenants, by project then name."""
    return (
        Volume.objects.filter(tenant__in=tenants)
        .select_related("tenant")
        .order_by("tenant__project_id", "name", "resource_id")
    )


def volume_list_all_for_staff() -> QuerySet[Volume]:
    """Return every tenant's volumes (staff only: the caller checks), by project then name."""
    return Volume.objects.select_related("tenant").order_by("tenant__project_id", "name", "resource_id")


def volumes_of_policy(*, policy: BackupPolicy) -> QuerySet[Volume]:
    return Volume.objects.filter(tenant_id=policy.tenant_id, policy=policy).order_by("name", "resource_id")


def policies_with_resource_count(queryset: QuerySet[BackupPolicy]) -> QuerySet[BackupPolicy]:
    """Annotate each policy with ``resource_count``, its number of volumes, in the same query."""
    # An aggregate drops Meta.ordering (Django does not order a GROUP BY by it): keep it explicit.
    return queryset.annotate(resource_count=Count("volumes", distinct=True)).order_by(
        *BackupPolicy._meta.ordering
    )


def policies_with_run_summary(queryset: QuerySet[BackupPolicy]) -> QuerySet[BackupPolicy]:
    """Annotate each policy with its volume count and its last finished task's status (no N+1)."""
    last = BackupTask.objects.filter(policy=OuterRef("pk"), status__in=BackupTask.FINISHED).order_by(
        "-created_at", "-job_id"
    )
    return queryset.annotate(
        resource_count=Count("volumes", distinct=True),
        last_run_status=Subquery(last.values("status")[:1]),
        last_run_at=Subquery(last.values("finished_at")[:1]),
    ).order_by(*BackupPolicy._meta.ordering)


def tasks_of_policy(*, policy: BackupPolicy) -> QuerySet[BackupTask]:
    return BackupTask.objects.filter(tenant_id=policy.tenant_id, policy=policy)


def run_in_progress(*, policy: BackupPolicy) -> bool:
    return tasks_of_policy(policy=policy).filter(status__in=BackupTask.ACTIVE).exists()


def volume_for_tenant(*, tenant: Tenant, volume_id) -> Volume | None:
    try:
        found = uuid.UUID(str(volume_id))
    except ValueError:
        return None
    return (
        Volume.objects.filter(tenant=tenant, resource_id=found).exclude(status=Volume.Status.DELETED).first()
    )


def webhook_list_for_tenant(*, tenant: Tenant) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(tenant=tenant).order_by("created_at", "id")


def webhook_for_tenant(*, tenant: Tenant, webhook_id) -> WebhookEndpoint | None:
    """The tenant's endpoint; None for another project's, an unknown or a malformed ID."""
    try:
        found = uuid.UUID(str(webhook_id))
    except ValueError:
        return None
    return WebhookEndpoint.objects.select_related("tenant").filter(tenant=tenant, pk=found).first()


def recipient_list_for_tenant(*, tenant: Tenant) -> QuerySet[EmailRecipient]:
    return EmailRecipient.objects.filter(tenant=tenant).order_by("address")


def recipient_for_tenant(*, tenant: Tenant, recipient_id) -> EmailRecipient | None:
    try:
        found = uuid.UUID(str(recipient_id))
    except ValueError:
        return None
    return EmailRecipient.objects.select_related("tenant").filter(tenant=tenant, pk=found).first()


def delivery_list_for_tenant(*, tenant: Tenant, limit: int = 20) -> list[Delivery]:
    """The project's latest deliveries, newest first, with their event and destination."""
    return list(
        Delivery.objects.filter(tenant=tenant)
        .select_related("event", "endpoint", "recipient")
        .order_by("-created_at", "-id")[:limit]
    )


def deliveries_pending_for_tenant(*, tenant: Tenant, within) -> bool:
    """Whether the project has events not fanned out yet, or a delivery due before ``within``."""
    return (
        Event.objects.filter(tenant=tenant, dispatched_at__isnull=True).exists()
        or Delivery.objects.filter(tenant=tenant, next_attempt_at__lte=within).exists()
    )
