"""What the dashboard's page groups share: the project and policy a path names, a policy's row, a volume's protection."""

import functools
from dataclasses import dataclass

from django.http import Http404, HttpRequest
from django.utils import timezone

from policies import protection, selectors
from policies.domain import words
from policies.domain.contract import specs
from policies.domain.schedule import localtimes, nextruns, offsets
from policies.domain.schedule.instants import NextRun
from policies.models import BackupPolicy, BackupTask, Tenant, Volume

# A run's status in words ("Succeeded"); the pages keep the API's code in a tooltip.
RUN_STATUS_WORDS = dict(BackupTask.Status.choices)


def tenant_or_404(request: HttpRequest, project_id: str) -> Tenant:
    """The project the path names, among the signed-in person's (else 404)."""
    # Another tenant's project and a project that does not exist look the same: 404.
    tenant = selectors.tenant_for_user(user=request.user, project_id=project_id)
    if tenant is None:
        raise Http404("No such project among yours.")
    return tenant


def policy_or_404(tenant: Tenant, policy_id: str) -> BackupPolicy:
    """The policy the path names, in that project (else 404)."""
    # Another tenant's policy, an unknown one and a malformed ID look the same: 404, nothing written.
    policy = selectors.policy_for_tenant(tenant=tenant, policy_id=policy_id)
    if policy is None:
        raise Http404("No such policy in this project.")
    return policy


def tenant_and_policy_or_404(
    request: HttpRequest, project_id: str, policy_id: str
) -> tuple[Tenant, BackupPolicy]:
    """The project and its policy that a policy page's path names (either unknown: 404)."""
    tenant = tenant_or_404(request, project_id)
    return tenant, policy_or_404(tenant, policy_id)


@dataclass
class PolicyRow:
    """A policy as the list and its detail page show it: its schedule in words, its zone's news, its runs."""

    policy: BackupPolicy
    spec: specs.PolicySpec

    @property
    def schedule_words(self) -> tuple[str, str]:
        return words.schedule_in_words(self.spec)

    @property
    def local_words(self) -> str:
        return self.schedule_words[0]

    @property
    def utc_words(self) -> str:
        return self.schedule_words[1]

    @functools.cached_property
    def coming_rebase(self) -> localtimes.PlannedRebase | None:
        """The re-base of the next 30 days: the UTC times move, the local times stay."""
        return localtimes.runs_moving_within(self.spec, now=timezone.now())

    @functools.cached_property
    def stale_offset(self) -> bool:
        """The stored offset is not the named zone's at the next run: a re-base is overdue."""
        return localtimes.stale_offset(self.spec, now=timezone.now())

    @property
    def zone_flag(self) -> str:
        """What the list says of a policy whose runs move (in UTC) within 30 days, or are stale."""
        spec, name = self.spec, self.spec.time_zone_name
        if name is None:
            return ""
        chosen = ", ".join(offsets.format_minutes(m) for m in localtimes.chosen_local_minutes(spec))
        if self.stale_offset:
            rebased = localtimes.rebase(spec, now=timezone.now())
            target = rebased.time_zone if rebased is not None else "another offset"
            return (
                f"Stored offset {spec.time_zone} is not {name}'s at the next run ({target}): the "
                "re-base is due; the scheduler (or manage.py rebase_zones) makes it."
            )
        plan = self.coming_rebase
        if plan is None:
            return ""
        local = plan.before.astimezone(localtimes.zone(name))
        return (
            f"Runs move in UTC from {local:%a %d %b}: {name} changes its offset, and the policy is "
            f"re-based to {plan.time_zone} (UTC start times {plan.start_time}) so that they stay at {chosen} "
            "local time."
        )

    @property
    def next_run(self) -> NextRun | None:
        """The next run, None when the policy is off: computed from the spec in hand, no query."""
        return nextruns.next_run(self.spec, start=timezone.now())

    @property
    def volume_count(self) -> int:
        # Annotated by the list's query; a row rendered alone (after a toggle) counts once.
        count = getattr(self.policy, "resource_count", None)
        return self.policy.volumes.count() if count is None else count

    @property
    def last_run_status(self) -> str | None:
        if hasattr(self.policy, "last_run_status"):
            return self.policy.last_run_status
        last = self.policy.backup_tasks.filter(status__in=BackupTask.FINISHED).order_by("-created_at").first()
        return last.status if last else None

    @property
    def last_run_at(self):
        """When the last run finished (annotated by the list's query; a row alone asks once)."""
        if hasattr(self.policy, "last_run_at"):
            return self.policy.last_run_at
        last = self.policy.backup_tasks.filter(status__in=BackupTask.FINISHED).order_by("-created_at").first()
        return last.finished_at if last else None

    @property
    def last_run_words(self) -> str:
        """The last run's status in words ("Succeeded"); the list keeps the API's code in a tooltip."""
        status = self.last_run_status
        return RUN_STATUS_WORDS.get(status, status or "")

    @classmethod
    def of(cls, policy: BackupPolicy) -> "PolicyRow":
        return cls(policy, policy.to_spec(tags=list(policy.tags.all())))


@dataclass(frozen=True)
class VolumeRow:
    """A volume as the protection tables show it: its state and why, and its last good backup's age."""

    volume: Volume
    state: str  # protected, at_risk, unprotected (the CSS class too)
    label: str
    reason: str
    age: str  # "" without a good backup


def protection_rows(volumes, *, now=None) -> list[VolumeRow]:
    """The rows of the volumes (a queryset), their facts read in one query, the rule the core's."""
    now = now or timezone.now()
    rows = []
    for volume, found in protection.protections(protection.with_protection_facts(volumes), now=now):
        age = found.age(now)
        rows.append(
            VolumeRow(
                volume=volume,
                state=found.state.value,
                label=words.PROTECTION_WORDS[found.state.value],
                reason=words.PROTECTION_REASON_WORDS[found.reason.value],
                age="" if age is None else words.age_words(int(age.total_seconds() // 60)),
            )
        )
    return rows
