"""Dashboard views: small, htmx-aware, tenant-scoped in the view (never only in a template)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django.views.generic import RedirectView
from django_htmx.http import HttpResponseClientRedirect

from policies import audit, selectors, services
from policies.dashboard import preview
from policies.dashboard.forms.mapping import form_data_from_payload
from policies.dashboard.forms.policy import PolicyForm
from policies.dashboard.problem_display import DASHBOARD, sentence
from policies.dashboard.views.shared import (
    RUN_STATUS_WORDS,
    PolicyRow,
    policy_or_404,
    protection_rows,
    tenant_and_policy_or_404,
    tenant_or_404,
)
from policies.domain.contract import changes, limits
from policies.models import BackupPolicy, Tenant

FORM_TEMPLATE = "policies/policy_form.html"
LIST_TEMPLATE = "policies/policy_list.html"
DELETE_TEMPLATE = "policies/policy_delete.html"


def _list_url(tenant: Tenant) -> str:
    return reverse("policies:policy_list", kwargs={"project_id": tenant.project_id})


def _to_list(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    url = _list_url(tenant)
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _quota(count: int) -> dict:
    return {
        "policy_count": count,
        "policy_max": limits.MAX_POLICIES_PER_TENANT,
        "at_quota": count >= limits.MAX_POLICIES_PER_TENANT,
    }


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    tenants = list(selectors.tenant_overview_for_user(user=request.user))
    for tenant in tenants:
        tenant.last_run_words = RUN_STATUS_WORDS.get(tenant.last_run_status, "")
    staff = request.user.is_staff
    # A member of one project goes straight to it; staff stay, for the summary of every project.
    if len(tenants) == 1 and not staff:
        return redirect("policies:policy_list", project_id=tenants[0].project_id)
    context = {
        "tenants": tenants,
        "policy_max": limits.MAX_POLICIES_PER_TENANT,
        "volume_rows": protection_rows(selectors.volume_list_for_tenants(tenants=tenants)),
        "staff_summary": _staff_summary() if staff else None,
    }
    return render(request, "policies/home.html", context)


def _staff_summary() -> dict:
    """Every project's volumes, counted by protection: how many are at risk, and where."""
    projects: dict[str, dict] = {}
    totals = {"protected": 0, "at_risk": 0, "unprotected": 0}
    for row in protection_rows(selectors.volume_list_all_for_staff()):
        tenant = row.volume.tenant
        counts = projects.setdefault(
            tenant.project_id,
            {"tenant": tenant, "protected": 0, "at_risk": 0, "unprotected": 0, "at_risk_names": []},
        )
        counts[row.state] += 1
        totals[row.state] += 1
        if row.state == "at_risk":
            counts["at_risk_names"].append(row.volume.name or str(row.volume.resource_id))
    at_risk = [counts for counts in projects.values() if counts["at_risk"]]
    return {"totals": totals, "projects_at_risk": at_risk, "project_count": len(projects)}


@require_GET
@login_required
@vary_on_headers("HX-Request")
def policy_list(request: HttpRequest, project_id: str) -> HttpResponse:
    tenant = tenant_or_404(request, project_id)
    # The tags are prefetched: PolicyRow.of reads the cache, no query per policy.
    policies = selectors.policies_with_run_summary(selectors.policy_list_for_tenant(tenant=tenant))
    rows = [PolicyRow.of(policy) for policy in policies]
    context = {
        "tenant": tenant,
        "rows": rows,
        **_quota(len(rows)),
    }
    if not request.htmx:  # the partial is the policy table alone
        context["volume_rows"] = protection_rows(selectors.volume_list_for_tenant(tenant=tenant))
    template = f"{LIST_TEMPLATE}#policy-table" if request.htmx else LIST_TEMPLATE
    return render(request, template, context)


def _form_context(
    request: HttpRequest,
    tenant: Tenant,
    form: PolicyForm,
    *,
    pristine: bool = False,
    policy: BackupPolicy | None = None,
    quota: bool = True,
) -> dict:
    answer = preview.answer_of(form, tenant=tenant, policy=policy, pristine=pristine)
    context = {
        "tenant": tenant,
        "form": form,
        "preview": answer.preview,
        "policy": policy,
    }
    if policy is None:
        context["form_action"] = reverse("policies:policy_create", kwargs={"project_id": tenant.project_id})
        context["preview_url"] = reverse("policies:policy_preview", kwargs={"project_id": tenant.project_id})
        if quota:
            context.update(_quota(selectors.policy_count_for_tenant(tenant=tenant)))
    else:
        ids = {"project_id": tenant.project_id, "policy_id": policy.pk}
        context["form_action"] = reverse("policies:policy_edit", kwargs=ids)
        context["preview_url"] = reverse("policies:policy_edit_preview", kwargs=ids)
        context["delete_url"] = reverse("policies:policy_delete", kwargs=ids)
        context["list_url"] = _list_url(tenant)
        context["changes"] = answer.changes
    return context


@require_http_methods(["GET", "POST"])
@login_required
@vary_on_headers("HX-Request")
def policy_create(request: HttpRequest, project_id: str) -> HttpResponse:
    tenant = tenant_or_404(request, project_id)
    now = timezone.now()
    if request.method == "POST":
        form = PolicyForm(request.POST, now=now)
        # "Preview" (the no-JavaScript way to see the preview) never saves, and neither do start
        # times re-read at a zone the person has not seen the hour grid drawn for.
        if "preview" not in request.POST and not form.hold_if_grid_moved() and form.is_valid():
            assert form.spec is not None
            try:
                policy = services.policy_create(
                    tenant=tenant, spec=form.spec, actor=audit.Actor.dashboard(request.user)
                )
            except services.ServiceError as exc:
                form.add_problem(exc.problem)
            else:
                messages.success(request, f"Policy “{policy.name}” created.")
                url = reverse("policies:policy_list", kwargs={"project_id": tenant.project_id})
                return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    else:
        form = PolicyForm(now=now)
    template = f"{FORM_TEMPLATE}#policy-form" if request.htmx else FORM_TEMPLATE
    return render(request, template, _form_context(request, tenant, form))


@require_POST
@login_required
@vary_on_headers("HX-Request")
def policy_preview(request: HttpRequest, project_id: str) -> HttpResponse:
    tenant = tenant_or_404(request, project_id)
    form = PolicyForm(request.POST, now=timezone.now())
    return _preview_response(request, tenant, form)


def _preview_response(
    request: HttpRequest, tenant: Tenant, form: PolicyForm, policy: BackupPolicy | None = None
) -> HttpResponse:
    if not request.htmx:
        return render(request, FORM_TEMPLATE, _form_context(request, tenant, form, policy=policy))
    # The script sends "pristine" while the person has changed nothing (it only preselected
    # their zone): what is missing then reads as still to do, not as mistakes in red.
    # The partials of the answer show no quota: its count is not read.
    context = _form_context(
        request, tenant, form, pristine="pristine" in request.POST, policy=policy, quota=False
    )
    return preview.live_answer(request, context, parts_urls=_parts_urls(tenant, policy))


def _parts_urls(tenant: Tenant, policy: BackupPolicy | None) -> dict[str, str]:
    if policy is None:
        name, ids = "policies:policy_preview_part", {"project_id": tenant.project_id}
    else:
        name, ids = (
            "policies:policy_edit_preview_part",
            {"project_id": tenant.project_id, "policy_id": policy.pk},
        )
    return {part: reverse(name, kwargs={**ids, "part": part}) for part in preview.FORECAST_PARTS}


@require_POST
@login_required
def policy_preview_part(request: HttpRequest, project_id: str, part: str) -> HttpResponse:
    """A part of the live preview's forecast the page asks for (the calendar, the table of days)."""
    tenant_or_404(request, project_id)
    return preview.forecast_part_answer(request, PolicyForm(request.POST, now=timezone.now()), part)


@require_POST
@login_required
def policy_edit_preview_part(
    request: HttpRequest, project_id: str, policy_id: str, part: str
) -> HttpResponse:
    tenant = tenant_or_404(request, project_id)
    # The stored policy matters: "no time zone" while editing one that has one reads as UTC+00:00.
    form = PolicyForm(request.POST, now=timezone.now(), current=policy_or_404(tenant, policy_id).to_spec())
    return preview.forecast_part_answer(request, form, part)


@require_http_methods(["GET", "POST"])
@login_required
@vary_on_headers("HX-Request")
def policy_edit(request: HttpRequest, project_id: str, policy_id: str) -> HttpResponse:
    tenant, policy = tenant_and_policy_or_404(request, project_id, policy_id)
    current = policy.to_spec()
    now = timezone.now()
    stored = changes.seen_mark(current)
    seen = stored
    if request.method == "POST":
        form = PolicyForm(request.POST, now=now, current=current)
        # The form sends every field, so a save from a page drawn before another change would
        # undo it unseen: such a save is held once, the page then drawn from the policy as stored.
        seen = request.POST.get("seen") or stored
        if "preview" not in request.POST and changes.changed_since_seen(seen, current):
            seen = stored
            if form.is_valid():
                form.add_error(None, changes.CHANGED_MEANWHILE)
        elif "preview" not in request.POST and not form.hold_if_grid_moved() and form.is_valid():
            assert form.spec is not None
            try:
                # The merged spec with the tags the core read from the form, in one transaction.
                change = services.policy_update(
                    policy=policy, spec=form.spec, actor=audit.Actor.dashboard(request.user)
                )
            except services.PolicyNotFound:
                messages.error(request, f"Policy “{policy.name}” was deleted meanwhile: nothing was saved.")
                return _to_list(request, tenant)
            except services.ServiceError as exc:
                form.add_problem(exc.problem)  # a rename onto another policy's name: at the name
            else:
                if change.changed:
                    messages.success(request, f"Policy “{form.spec.name}” saved.")
                else:
                    messages.info(request, f"Policy “{form.spec.name}” is unchanged: nothing to save.")
                return _to_list(request, tenant)
    else:
        form = PolicyForm(form_data_from_payload(current.to_payload(), now=now), now=now, current=current)
    template = f"{FORM_TEMPLATE}#policy-form" if request.htmx else FORM_TEMPLATE
    return render(request, template, {**_form_context(request, tenant, form, policy=policy), "seen": seen})


@require_POST
@login_required
@vary_on_headers("HX-Request")
def policy_edit_preview(request: HttpRequest, project_id: str, policy_id: str) -> HttpResponse:
    tenant, policy = tenant_and_policy_or_404(request, project_id, policy_id)
    form = PolicyForm(request.POST, now=timezone.now(), current=policy.to_spec())
    return _preview_response(request, tenant, form, policy)


@require_http_methods(["GET", "POST"])
@login_required
@vary_on_headers("HX-Request")
def policy_delete(request: HttpRequest, project_id: str, policy_id: str) -> HttpResponse:
    tenant, policy = tenant_and_policy_or_404(request, project_id, policy_id)
    if request.method == "POST":
        try:
            services.policy_delete(policy=policy, actor=audit.Actor.dashboard(request.user))
        except services.PolicyNotFound:
            messages.info(request, f"Policy “{policy.name}” was already deleted.")
        else:
            messages.success(request, f"Policy “{policy.name}” deleted.")
        return _to_list(request, tenant)
    # What deleting leaves behind, said before it happens: the volumes lose their protection, the
    # backups stay under the rule the policy had (docs/api.md, V10).
    backups = policy.backups.order_by().values("manual").annotate(count=Count("pk"))
    context = {
        "tenant": tenant,
        "row": PolicyRow.of(policy),
        "volumes": list(policy.volumes.order_by("name").values_list("name", flat=True)),
        "backups": {("manual" if row["manual"] else "scheduled"): row["count"] for row in backups},
    }
    template = f"{DELETE_TEMPLATE}#delete-confirm" if request.htmx else DELETE_TEMPLATE
    return render(request, template, context)


STATUS_WORDS = {"ON": "on: it runs on schedule", "OFF": "off: it does not run until it is turned on"}


@require_POST
@login_required
@vary_on_headers("HX-Request")
def policy_toggle(request: HttpRequest, project_id: str, policy_id: str) -> HttpResponse:
    """Turn a policy on or off: the same merge and refusals as an API client's modify of the status."""
    tenant, policy = tenant_and_policy_or_404(request, project_id, policy_id)
    # The switch posts the status it turns to, not "toggle": a double submit cannot flip it back.
    problem = None
    try:
        services.policy_set_status(
            policy=policy,
            status=request.POST.get("status", ""),
            actor=audit.Actor.dashboard(request.user),
            now=timezone.now(),
        )
    except services.PolicyNotFound:
        return _toggle_answer(request, tenant, None, f"Policy “{policy.name}” was deleted meanwhile.")
    except services.ServiceError as exc:
        problem = exc.problem
    fresh = selectors.policy_for_tenant(tenant=tenant, policy_id=policy.pk)
    if fresh is None:
        return _toggle_answer(request, tenant, None, f"Policy “{policy.name}” was deleted meanwhile.")
    if problem is not None:
        return _toggle_answer(
            request,
            tenant,
            fresh,
            f"Policy “{fresh.name}” was not changed. {sentence(problem, DASHBOARD.subjects['status'])}",
        )
    return _toggle_answer(
        request, tenant, fresh, f"Policy “{fresh.name}” is {STATUS_WORDS[fresh.status]}.", ok=True
    )


def _toggle_answer(
    request: HttpRequest, tenant: Tenant, policy: BackupPolicy | None, notice: str, *, ok: bool = False
) -> HttpResponse:
    if not request.htmx:
        (messages.success if ok else messages.error)(request, notice)
        return redirect(_list_url(tenant))
    # Only the row is swapped (it carries the switch; a row deleted meanwhile goes); the notice
    # follows out of band into the page's messages, where a delete's confirmation shows too.
    context = {"tenant": tenant, "row": PolicyRow.of(policy) if policy else None, "notice": notice, "ok": ok}
    html = render_to_string(f"{LIST_TEMPLATE}#policy-row", context, request=request) if policy else ""
    html += render_to_string(f"{LIST_TEMPLATE}#toggle-notice", context, request=request)
    return HttpResponse(html)


class FaviconView(RedirectView):
    """Answer browsers and tools that ask for /favicon.ico without reading the page's icon link."""

    permanent = False

    def get_redirect_url(self, *args: object, **kwargs: object) -> str:
        # Resolved per request: with hashed static names the manifest is read only when needed.
        return static("favicon.svg")
