"""Who may act: tenants (projects), their members, users and API tokens.

The writes of these, each in one transaction like the policy writes in ``services``. Issuing and
revoking a token are recorded in the audit trail when an entrance passes its ``Actor``; a
tenant's delete records the delete of each of its policies.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from .audit import Actor, record_change
from .models import ApiToken, AuditEvent, BackupPolicy, Membership, Tenant, hash_token
from .services import lock_tenant

logger = logging.getLogger(__name__)


def tenant_get_or_create(*, project_id: str, name: str = "") -> tuple[Tenant, bool]:
    """Create the tenant if it does not exist; an existing one is left as it is."""
    tenant = Tenant(project_id=project_id, name=name)
    tenant.full_clean(validate_unique=False)
    return Tenant.objects.get_or_create(project_id=project_id, defaults={"name": name})


def membership_add(*, user, tenant: Tenant) -> None:
    Membership.objects.get_or_create(user=user, tenant=tenant)


TOKEN_PREFIX = "bpc_"


def _record_token(actor: Actor, action: str, token: ApiToken, tenant: Tenant | None = None) -> AuditEvent:
    user = actor.user if actor.user is not None and actor.user.is_authenticated else None
    return AuditEvent.objects.create(
        user=user,
        username=user.get_username() if user else "",
        token=token,
        token_prefix=token.prefix,
        entrance=actor.entrance,
        action=action,
        tenant=tenant,
        project_id=tenant.project_id if tenant else "",
    )


def token_issue(
    *,
    user,
    expires_in: timedelta | None = None,
    actor: Actor | None = None,
    tenant: Tenant | None = None,
) -> tuple[ApiToken, str]:
    """Issue a new API token; return it with the raw token, which is stored nowhere.

    Every entrance passes its ``actor``, and the issue is recorded in the audit trail; without one
    (test fixtures, benchmarks) nothing is recorded. ``tenant``: the project it was issued from
    (the dashboard's example request), for the record; a token acts as its user on every project
    the user is a member of.
    """
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            digest=hash_token(raw),
            prefix=raw[:10],
            created_at=now,
            expires_at=now + expires_in if expires_in else None,
        )
        if actor is not None:
            _record_token(actor, AuditEvent.Action.TOKEN_ISSUE, token, tenant)
    return token, raw


# Recording every use of a token would turn each API read into a write; once a minute is enough
# to tell an operator which tokens are alive.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def token_record_use(*, token: ApiToken, now) -> None:
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


def token_revoke(*, token: ApiToken, actor: Actor | None = None) -> bool:
    """Revoke the token (it stops working at once); False if it already was.

    Recorded in the audit trail when an ``actor`` is given, as every entrance does.
    """
    with transaction.atomic():
        # The row, not the copy in hand: two revokes at once record one event.
        revoked = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        token.refresh_from_db(fields=["revoked_at"])
        if revoked and actor is not None:
            _record_token(actor, AuditEvent.Action.TOKEN_REVOKE, token)
    return bool(revoked)


def user_get_or_create(*, username: str):
    user_model = get_user_model()
    user, _ = user_model.objects.get_or_create(username=username)
    return user


def tenant_delete(*, tenant: Tenant, actor: Actor) -> int:
    """Delete the tenant with its policies, recording each policy's delete; return how many."""
    with transaction.atomic():
        lock_tenant(tenant)
        policies = list(BackupPolicy.objects.filter(tenant=tenant).select_related("tenant"))
        for policy in policies:
            record_change(actor, AuditEvent.Action.DELETE, policy, policy.to_spec(), None)
        tenant.delete()
    logger.info("project %s deleted with %d policies", tenant.project_id, len(policies))
    return len(policies)
