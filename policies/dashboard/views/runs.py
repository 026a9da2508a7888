"""Dashboard pages of a policy's volumes and runs: associate, remove, run now, the task history.

Every write is the service an API client's request calls (the same rules, the same audit); the
page works without JavaScript (forms post and redirect back), and htmx swaps only the parts.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from policies import audit, selectors, services, volumes
from policies.dashboard.views.shared import PolicyRow, tenant_and_policy_or_404
from policies.domain.contract import volumes as domain_volumes
from policies.domain.contract.volumes import ResourceItem
from policies.models import BackupTask, Volume

DETAIL_TEMPLATE = "policies/policy_detail.html"
HISTORY_ROWS = 50


def _detail_url(tenant, policy) -> str:
    return reverse("policies:policy_detail", kwargs={"project_id": tenant.project_id, "policy_id": policy.pk})


def _context(request, tenant, policy) -> dict:
    held = list(selectors.volumes_of_policy(policy=policy))
    # The backup too: each run links its backup on the Backups page, with no query per row.
    tasks = list(selectors.tasks_of_policy(policy=policy).select_related("volume", "backup")[:HISTORY_ROWS])
    return {
        "tenant": tenant,
        "tenants": None,
        "row": PolicyRow.of(policy),
        "volumes": held,
        "candidates": [
            volume
            for volume in selectors.volume_list_for_tenant(tenant=tenant).select_related("policy")
            if volume.policy_id != policy.pk
        ],
        "tasks": tasks,
        "active": any(task.status in BackupTask.ACTIVE for task in tasks),
    }


@require_GET
@login_required
@vary_on_headers("HX-Request")
def policy_detail(request: HttpRequest, project_id: str, policy_id: str) -> HttpResponse:
    tenant, policy = tenant_and_policy_or_404(request, project_id, policy_id)
    context = _context(request, tenant, policy)
    # The history polls itself (htmx) while a task is waiting or running; the partial alone then.
    template = f"{DETAIL_TEMPLATE}#task-history" if request.htmx else DETAIL_TEMPLATE
    return render(request, template, context)


def _back(request, tenant, policy, notice: str, *, ok: bool) -> HttpResponse:
    (messages.success if ok else messages.error)(request, notice)
    return redirect(_detail_url(tenant, policy))


@require_POST
@login_required
def policy_volumes_add(request: HttpRequest, project_id: str, policy_id: str) -> HttpResponse:
    tenant, policy = tenant_and_policy_or_404(request, project_id, policy_id)
    chosen = request.POST.getlist("resource_id")
    if not chosen:
        return _back(request, tenant, policy, "Choose at least one volume to add.", ok=False)
    items = [ResourceItem(rid, "volume") for rid in dict.fromkeys(chosen)]
    try:
        result = volumes.policy_volumes_associate(
            policy=policy, items=items, actor=audit.Actor.dashboard(request.user), sync_unknown=False
        )
    except services.ServiceError as exc:
        return _back(
            request,
            tenant,
            policy,
            f"No volume was added: {exc.problem.message} ({exc.problem.code})",
            ok=False,
        )
    for failure in result.failures:
        messages.error(
            request, f"Volume {failure.resource_id} was not added: {failure.message} ({failure.code})"
        )
    if result.success:
        names = ", ".join(volume.name for volume in result.success)
        messages.success(request, f"Protected by “{policy.name}” now: {names}.")
    return redirect(_detail_url(tenant, policy))


@require_POST
@login_required
def policy_volumes_remove(request: HttpRequest, project_id: str, policy_id: str) -> HttpResponse:
    tenant, policy = tenant_and_policy_or_404(request, project_id, policy_id)
    rid = request.POST.get("resource_id", "")
    result = volumes.policy_volumes_disassociate(
        policy=policy, items=[ResourceItem(rid, "volume")], actor=audit.Actor.dashboard(request.user)
    )
    if result.success:
        volume = Volume.objects.filter(tenant=tenant, resource_id=rid).first()
        return _back(
            request, tenant, policy, f"“{volume}” is no longer protected by “{policy.name}”.", ok=True
        )
    return _back(request, tenant, policy, "That volume is not in this policy (removed meanwhile?).", ok=False)


# Why "Run now" did not start, in the dashboard's words (the API's say the route and the code).
RUN_REFUSALS = {
    domain_volumes.NO_RESOURCES: "the policy has no volumes to back up; associate volumes first (below)",
    domain_volumes.RUN_IN_PROGRESS: "a run of this policy is still going (tasks waiting or running); "
    "try again when it has ended",
}


@require_POST
@login_required
def policy_run(request: HttpRequest, project_id: str, policy_id: str) -> HttpResponse:
    tenant, policy = tenant_and_policy_or_404(request, project_id, policy_id)
    try:
        tasks = volumes.policy_execute(policy=policy, actor=audit.Actor.dashboard(request.user))
    except services.ServiceError as exc:
        said = RUN_REFUSALS.get(exc.problem.code, exc.problem.detail)
        return _back(request, tenant, policy, f"Not started: {said}.", ok=False)
    plural = "s" if len(tasks) != 1 else ""
    return _back(request, tenant, policy, f"Run started: {len(tasks)} backup task{plural} queued.", ok=True)
