"""Every write of the product, each in one transaction.

Services take a valid :class:`schedule.PolicySpec` (the core has already checked every field
rule) and enforce what needs the database: the ten-policy quota and unique names per tenant.
"""

import logging
import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from . import schedule
from .models import ApiToken, BackupPolicy, Membership, PolicyTag, Tenant, hash_token

logger = logging.getLogger(__name__)


class ServiceError(Exception):
    """A write refused by a rule that needs the database; carries the contract's problem."""

    def __init__(self, problem: schedule.Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


class PolicyQuotaExceeded(ServiceError):
    pass


class PolicyNameTaken(ServiceError):
    pass


def quota_problem() -> schedule.Problem:
    return schedule.Problem(
        "backup_policy_name",
        schedule.QUOTA,
        f"the project already holds {schedule.MAX_POLICIES_PER_TENANT} backup policies, the most it may "
        "hold; a policy must be deleted before another can be created",
    )


def name_taken_problem(name: str, existing: str | None = None) -> schedule.Problem:
    # Name the stored policy: "Prod" clashes with "prod", and the person should see which.
    clash = repr(name) if existing in (None, name) else f"{existing!r}, which {name!r} matches"
    return schedule.Problem(
        "backup_policy_name",
        schedule.NAME_TAKEN,
        f"backup_policy_name: the project already has a policy named {clash} (names are compared "
        "ignoring case); choose another name",
    )


def _lock_tenant(tenant: Tenant) -> None:
    # PostgreSQL: a row lock on the tenant serialises the quota check and insert of concurrent
    # creates. SQLite ignores FOR UPDATE; there the IMMEDIATE transaction (settings) already holds
    # the database's write lock from its first statement.
    Tenant.objects.select_for_update().only("pk").get(pk=tenant.pk)


def policy_create(*, tenant: Tenant, spec: schedule.PolicySpec) -> BackupPolicy:
    """Store a new policy and its tags; refuse past the quota or on a name already used."""
    try:
        with transaction.atomic():
            _lock_tenant(tenant)
            if BackupPolicy.objects.filter(tenant=tenant).count() >= schedule.MAX_POLICIES_PER_TENANT:
                raise PolicyQuotaExceeded(quota_problem())
            existing = (
                BackupPolicy.objects.filter(tenant=tenant, name__iexact=spec.name)
                .values_list("name", flat=True)
                .first()
            )
            if existing is not None:
                raise PolicyNameTaken(name_taken_problem(spec.name, existing))
            policy = BackupPolicy.objects.create(tenant=tenant, **BackupPolicy.fields_from_spec(spec))
            PolicyTag.objects.bulk_create(
                PolicyTag(policy=policy, key=tag.key, value=tag.value, position=index)
                for index, tag in enumerate(spec.tags)
            )
    except IntegrityError as exc:
        # The lock makes this unreachable for names; kept so a race never surfaces as a 500.
        if "uniq_policy_name_per_tenant_ci" in str(exc) or "UNIQUE" in str(exc).upper():
            raise PolicyNameTaken(name_taken_problem(spec.name)) from exc
        raise
    logger.info("policy %s (%s) created in project %s", policy.pk, policy.name, tenant.project_id)
    return policy


# --- Tenants and tokens ---------------------------------------------------------------------


def tenant_get_or_create(*, project_id: str, name: str = "") -> tuple[Tenant, bool]:
    """Create the tenant if it does not exist; an existing one is left as it is."""
    tenant = Tenant(project_id=project_id, name=name)
    tenant.full_clean(validate_unique=False)
    return Tenant.objects.get_or_create(project_id=project_id, defaults={"name": name})


def membership_add(*, user, tenant: Tenant) -> None:
    Membership.objects.get_or_create(user=user, tenant=tenant)


TOKEN_PREFIX = "bpc_"


def token_issue(*, user, expires_in: timedelta | None = None) -> tuple[ApiToken, str]:
    """Issue a new API token; return it with the raw token, which is not stored anywhere."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = timezone.now()
    token = ApiToken.objects.create(
        user=user,
        digest=hash_token(raw),
        prefix=raw[:10],
        created_at=now,
        expires_at=now + expires_in if expires_in else None,
    )
    return token, raw


# Recording every use of a token would turn each API read into a write; once a minute is enough
# to tell an operator which tokens are alive.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def token_record_use(*, token: ApiToken, now) -> None:
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


def token_revoke(*, token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])


def user_get_or_create(*, username: str):
    user_model = get_user_model()
    user, _ = user_model.objects.get_or_create(username=username)
    return user
