"""The writes of policies and their tags, each in one transaction with its audit record.

Services take a valid :class:`specs.PolicySpec` (the core has already checked every field
rule) and enforce what needs the database: the ten-policy quota and unique names per tenant.
Every write takes its locks in one order, tenant then policy (``lock_tenant``, ``lock_policy``),
which the other writers (``accounts``, ``volumes``, ``zone_rebase``) take through here too.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from policies.domain.contract import codes, limits, parse, specs, tag_bodies
from policies.domain.contract.changes import audit_changes

from . import selectors
from .audit import Actor
from .audit import record_change as _record
from .models import AuditEvent, BackupPolicy, PolicyTag, Tenant

logger = logging.getLogger(__name__)


class ServiceError(Exception):
    """A write refused by a rule that needs the database; carries the contract's problem."""

    def __init__(self, problem: codes.Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


class PolicyQuotaExceeded(ServiceError):
    pass


class PolicyNameTaken(ServiceError):
    pass


def quota_problem() -> codes.Problem:
    # The project is what is full, not the name: the path's project_id is the field at fault.
    return codes.Problem(
        "project_id",
        codes.QUOTA,
        f"the project already holds {limits.MAX_POLICIES_PER_TENANT} backup policies, the most it may "
        "hold; a policy must be deleted before another can be created",
        codes.REQUEST,
    )


def name_taken_problem(name: str, existing: str | None = None) -> codes.Problem:
    # Name the stored policy: "Prod" clashes with "prod", and the person should see which.
    clash = repr(name) if existing in (None, name) else f"{existing!r}, which {name!r} matches"
    return codes.Problem(
        "backup_policy_name",
        codes.NAME_TAKEN,
        f"the project already has a policy named {clash} (names are compared ignoring case); "
        "choose another name",
        codes.STATEMENT,
    )


def policy_save_problems(*, tenant, spec: specs.PolicySpec, policy=None) -> list[codes.Problem]:
    """Say before saving what saving would refuse: a full project, else a name taken (ignoring case).

    Read-only questions to the selectors, for a form to show at its fields, in the order the
    services ask them (a new policy in a full project is refused for that alone). policy_create
    and policy_update ask again under the tenant's lock, so a policy saved meanwhile is still refused.
    """
    if policy is None:
        # A new policy: the quota and the name in one query, the very one policy_create asks.
        count, clash = _count_and_name_clash(tenant, spec.name)
        if count >= limits.MAX_POLICIES_PER_TENANT:
            return [quota_problem()]
    else:
        clash = _name_clash(tenant, spec.name, exclude=policy.pk)
    return [] if clash is None else [name_taken_problem(spec.name, clash)]


class PolicyNotFound(ServiceError):
    pass


class TagNotFound(ServiceError):
    pass


class TagLimitExceeded(ServiceError):
    pass


class PolicyInvalid(ServiceError):
    """A modify whose merged result the core refuses; carries every problem."""

    def __init__(self, problems) -> None:
        super().__init__(problems[0])
        self.problems = tuple(problems)


# The stored fields that decide when a policy runs: a change of any of them moves next_run_at.
SCHEDULE_MODEL_FIELDS = frozenset({"start_time", "frequency", "week_frequency", "status", "time_zone"})


# --- Policies --------------------------------------------------------------------------------


def lock_tenant(tenant: Tenant) -> None:
    # PostgreSQL: a row lock on the tenant serialises every write of the tenant's policies: the
    # quota check and insert of concurrent creates, renames, tag changes. NO KEY UPDATE, so that
    # the foreign-key checks of the rows written meanwhile (KEY SHARE) do not wait on it. SQLite
    # ignores FOR UPDATE; there the IMMEDIATE transaction (settings) already holds the database's
    # write lock from its first statement, so the statement is not even sent.
    if connection.features.has_select_for_update:
        Tenant.objects.select_for_update(no_key=True).only("pk").get(pk=tenant.pk)


def lock_policy(policy: BackupPolicy) -> BackupPolicy:
    """Return the policy re-read under a row lock, with its tags; refuse if it is gone.

    The tenant is locked first, always: every write takes the two locks in the same order, so
    two writes of one policy wait for each other instead of deadlocking.
    """
    lock_tenant(policy.tenant)
    locked = (
        BackupPolicy.objects.select_for_update(of=("self",))
        .select_related("tenant")
        .filter(pk=policy.pk, tenant_id=policy.tenant_id)
        .first()
    )
    if locked is None:
        raise PolicyNotFound(codes.policy_not_found_problem(policy.pk))
    return locked


def _name_clash(tenant: Tenant, name: str, exclude=None) -> str | None:
    # The preview's question too (selectors): asked here again under the tenant's lock.
    return selectors.name_clash_for_tenant(tenant=tenant, name=name, exclude=exclude)


def _count_and_name_clash(tenant: Tenant, name: str) -> tuple[int, str | None]:
    # The preview's two save checks too (selectors): asked here again under the tenant's lock.
    return selectors.policy_count_and_name_clash_for_tenant(tenant=tenant, name=name)


def _is_name_constraint(exc: IntegrityError) -> bool:
    return "uniq_policy_name_per_tenant_ci" in str(exc) or "UNIQUE" in str(exc).upper()


def policy_create(*, tenant: Tenant, spec: specs.PolicySpec, actor: Actor) -> BackupPolicy:
    """Store a new policy and its tags; refuse past the quota or on a name already used."""
    # What needs no database is worked out before the transaction: its locks are held only for
    # the lock, one query for the quota and the name, and the three inserts.
    fields = BackupPolicy.fields_from_spec(spec)
    changes = audit_changes(None, spec)
    try:
        with transaction.atomic():
            lock_tenant(tenant)
            count, existing = _count_and_name_clash(tenant, spec.name)
            if count >= limits.MAX_POLICIES_PER_TENANT:
                raise PolicyQuotaExceeded(quota_problem())
            if existing is not None:
                raise PolicyNameTaken(name_taken_problem(spec.name, existing))
            policy = BackupPolicy(tenant=tenant, **fields)
            policy.next_run_at = policy.first_run_from(timezone.now())
            policy.save(force_insert=True)
            _store_tags(policy, spec.tags)
            _record(actor, AuditEvent.Action.CREATE, policy, None, spec, changes)
    except IntegrityError as exc:
        # The lock makes this unreachable for names; kept so a race never surfaces as a 500.
        if _is_name_constraint(exc):
            raise PolicyNameTaken(name_taken_problem(spec.name)) from exc
        raise
    logger.info("policy %s (%s) created in project %s", policy.pk, policy.name, tenant.project_id)
    return policy


@dataclass(frozen=True)
class PolicyChange:
    """What a change did: the policy as stored, and the fields it changed (empty: nothing)."""

    policy: BackupPolicy
    changed: tuple[str, ...]


def policy_update(*, policy: BackupPolicy, spec: specs.PolicySpec, actor: Actor) -> PolicyChange:
    """Store ``spec`` (already merged and checked by the core), tags included, over the policy.

    The tags are the spec's: a modify's spec carries the stored ones, a form's the list it shows.
    A rename onto another policy's name is refused; a change that changes nothing writes nothing
    and records nothing.
    """
    try:
        with transaction.atomic():
            current = lock_policy(policy)  # the tenant too: a rename must not race a create
            before = current.to_spec()
            existing = _name_clash(current.tenant, spec.name, exclude=current.pk)
            if existing is not None:
                raise PolicyNameTaken(name_taken_problem(spec.name, existing))
            if len(spec.tags) > limits.MAX_TAGS:
                raise TagLimitExceeded(tag_bodies.tag_count_problem(len(spec.tags)))
            changed = _store_change(current, before, spec)
            if changed:
                _record(actor, AuditEvent.Action.CHANGE, current, before, spec)
    except IntegrityError as exc:
        if _is_name_constraint(exc):
            raise PolicyNameTaken(name_taken_problem(spec.name)) from exc
        raise
    if changed:
        logger.info("policy %s changed (%s)", current.pk, ", ".join(changed))
    return PolicyChange(current, changed)


def _store_change(
    current: BackupPolicy, before: specs.PolicySpec, after: specs.PolicySpec
) -> tuple[str, ...]:
    """Write the fields (and the tags) that differ; return their names."""
    fields = BackupPolicy.fields_from_spec(after)
    changed = [name for name, value in fields.items() if getattr(current, name) != value]
    if changed:
        for name in changed:
            setattr(current, name, fields[name])
    if after.tags != before.tags:
        PolicyTag.objects.filter(policy=current).delete()
        _store_tags(current, after.tags)
    saved = [*changed, "updated_at"]
    if SCHEDULE_MODEL_FIELDS.intersection(changed):
        # A new schedule (or OFF, or ON again) counts from now: the scheduler's next tick sees it,
        # and a run of the old schedule is not made.
        current.next_run_at = current.first_run_from(timezone.now())
        saved.append("next_run_at")
    if changed or after.tags != before.tags:
        current.save(update_fields=saved)
    return (*changed, *(("tags",) if after.tags != before.tags else ()))


def policy_modify(*, policy: BackupPolicy, body: Any, actor: Actor, now=None) -> PolicyChange:
    """Apply a contract modify body (``{"scheduled_policy": {"status": "OFF"}}``) to the policy.

    The merge reads the policy under its lock, so two modifies at once each keep the other's
    fields: the second merges over what the first stored, not over what both read before.
    """
    # The time of the request: a time_zone_name sent alone takes the zone's offset then.
    now = now or timezone.now()
    policy_id = str(policy.pk)
    return _change_locked(
        policy, actor, lambda stored: parse.parse_policy_update(body, stored, policy_id=policy_id, now=now)
    )


def policy_set_status(*, policy: BackupPolicy, status: Any, actor: Actor, now) -> PolicyChange:
    """Turn the policy on (``"ON"``) or off (``"OFF"``); any other value is the core's refusal.

    ``now`` is the time of the request, which the entrance passes in (a named zone is read then).
    """
    return _change_locked(policy, actor, lambda stored: parse.parse_status_change(status, stored, now=now))


def _change_locked(
    policy: BackupPolicy, actor: Actor, read: Callable[[specs.PolicySpec], specs.ParseResult]
) -> PolicyChange:
    """Have the core read a change against the policy as stored under its lock, then store it."""
    with transaction.atomic():
        current = lock_policy(policy)
        result = read(current.to_spec())
        if not result.ok:
            raise PolicyInvalid(result.problems)
        return policy_update(policy=current, spec=result.spec, actor=actor)


def policy_delete(*, policy: BackupPolicy, actor: Actor) -> None:
    """Delete the policy and its tags."""
    with transaction.atomic():
        current = lock_policy(policy)
        before = current.to_spec()
        _record(actor, AuditEvent.Action.DELETE, current, before, None)
        current.delete()
    logger.info("policy %s (%s) deleted", policy.pk, before.name)


# --- Tags ------------------------------------------------------------------------------------


def _store_tags(policy: BackupPolicy, tags: tuple[specs.Tag, ...] | list[specs.Tag]) -> None:
    PolicyTag.objects.bulk_create(
        PolicyTag(policy=policy, key=tag.key, value=tag.value, position=index)
        for index, tag in enumerate(tags)
    )


def _change_tags(policy: BackupPolicy, actor: Actor, change) -> BackupPolicy:
    """Apply ``change`` (old tag list -> new tag list) under the policy's row lock.

    The ten-tag limit is checked on the result, whichever route asked; nothing is written when
    the list does not change.
    """
    with transaction.atomic():
        current = lock_policy(policy)
        before = current.to_spec()
        tags = list(change(list(before.tags)))
        if len(tags) > limits.MAX_TAGS:
            raise TagLimitExceeded(tag_bodies.tag_count_problem(len(tags)))
        if tags != list(before.tags):
            PolicyTag.objects.filter(policy=current).delete()
            _store_tags(current, tags)
            current.save(update_fields=["updated_at"])
            _record(actor, AuditEvent.Action.CHANGE, current, before, replace(before, tags=tuple(tags)))
    return current


def policy_tag_put(*, policy: BackupPolicy, tag: specs.Tag, actor: Actor) -> BackupPolicy:
    """Add the tag, or replace the value of the tag with its key (keeping its place)."""

    def change(tags: list[specs.Tag]) -> list[specs.Tag]:
        if any(old.key == tag.key for old in tags):
            return [tag if old.key == tag.key else old for old in tags]
        return [*tags, tag]

    return _change_tags(policy, actor, change)


def policy_tag_remove(*, policy: BackupPolicy, key: str, actor: Actor) -> BackupPolicy:
    """Remove the tag with this key; refuse (0216) when the policy has none."""

    def change(tags: list[specs.Tag]) -> list[specs.Tag]:
        if not any(tag.key == key for tag in tags):
            raise TagNotFound(tag_bodies.tag_not_found_problem(key, (tag.key for tag in tags)))
        return [tag for tag in tags if tag.key != key]

    return _change_tags(policy, actor, change)


def policy_tags_batch(*, policy: BackupPolicy, batch: specs.TagAction, actor: Actor) -> BackupPolicy:
    """The batch route: ``create``/``update`` add or replace each tag; ``delete`` removes keys.

    A delete whose value is given removes the tag only when the value matches; absent keys are
    ignored, as the contract says.
    """

    def change(tags: list[specs.Tag]) -> list[specs.Tag]:
        if batch.upserts:
            for tag in batch.tags:
                index = next((i for i, old in enumerate(tags) if old.key == tag.key), None)
                if index is None:
                    tags.append(tag)
                else:
                    tags[index] = tag
            return tags
        doomed = {tag.key for tag in batch.tags if tag.key in batch.any_value}
        doomed_pairs = {tag for tag in batch.tags if tag.key not in batch.any_value}
        return [tag for tag in tags if tag.key not in doomed and tag not in doomed_pairs]

    return _change_tags(policy, actor, change)
