"""Dashboard views: small, htmx-aware, tenant-scoped in the view (never only in a template)."""

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django.views.generic import RedirectView
from django_htmx.http import HttpResponseClientRedirect

from . import schedule, selectors, services
from .forms import PolicyForm
from .models import BackupPolicy, Tenant

FORM_TEMPLATE = "policies/policy_form.html"


def _tenant_or_404(request: HttpRequest, project_id: str) -> Tenant:
    # Another tenant's project and a project that does not exist look the same: 404.
    tenant = selectors.tenant_for_user(user=request.user, project_id=project_id)
    if tenant is None:
        raise Http404("No such project among yours.")
    return tenant


@dataclass
class PolicyRow:
    policy: BackupPolicy
    spec: schedule.PolicySpec

    @property
    def schedule_words(self) -> tuple[str, str]:
        return schedule.schedule_in_words(self.spec)

    @property
    def local_words(self) -> str:
        return self.schedule_words[0]

    @property
    def utc_words(self) -> str:
        return self.schedule_words[1]


def _quota(count: int) -> dict:
    return {
        "policy_count": count,
        "policy_max": schedule.MAX_POLICIES_PER_TENANT,
        "at_quota": count >= schedule.MAX_POLICIES_PER_TENANT,
    }


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    tenants = list(selectors.tenants_for_user(user=request.user))
    if len(tenants) == 1:
        return redirect("policies:policy_list", project_id=tenants[0].project_id)
    return render(request, "policies/home.html", {"tenants": tenants})


@require_GET
@login_required
@vary_on_headers("HX-Request")
def policy_list(request: HttpRequest, project_id: str) -> HttpResponse:
    tenant = _tenant_or_404(request, project_id)
    rows = [
        # The tags are prefetched: list(...all()) reads the cache, no query per policy.
        PolicyRow(policy, policy.to_spec(tags=list(policy.tags.all())))
        for policy in selectors.policy_list_for_tenant(tenant=tenant)
    ]
    context = {
        "tenant": tenant,
        "tenants": selectors.tenants_for_user(user=request.user),
        "rows": rows,
        **_quota(len(rows)),
    }
    template = "policies/policy_list.html#policy-table" if request.htmx else "policies/policy_list.html"
    return render(request, template, context)


def _form_context(request: HttpRequest, tenant: Tenant, form: PolicyForm, *, pristine: bool = False) -> dict:
    return {
        "tenant": tenant,
        "tenants": selectors.tenants_for_user(user=request.user),
        "form": form,
        "preview": form.preview(pristine=pristine),
        **_quota(selectors.policy_count_for_tenant(tenant=tenant)),
    }


@require_http_methods(["GET", "POST"])
@login_required
@vary_on_headers("HX-Request")
def policy_create(request: HttpRequest, project_id: str) -> HttpResponse:
    tenant = _tenant_or_404(request, project_id)
    now = timezone.now()
    if request.method == "POST":
        form = PolicyForm(request.POST, now=now)
        # "Preview" (the no-JavaScript way to see the preview) never saves, and neither do start
        # times re-read at a zone the person has not seen the hour grid drawn for.
        if "preview" not in request.POST and not form.hold_if_grid_moved() and form.is_valid():
            assert form.spec is not None
            try:
                policy = services.policy_create(
                    tenant=tenant, spec=form.spec, actor=services.Actor.dashboard(request.user)
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
    tenant = _tenant_or_404(request, project_id)
    form = PolicyForm(request.POST, now=timezone.now())
    if not request.htmx:
        return render(request, FORM_TEMPLATE, _form_context(request, tenant, form))
    # The script sends "pristine" while the person has changed nothing (it only preselected
    # their zone): what is missing then reads as still to do, not as mistakes in red.
    context = _form_context(request, tenant, form, pristine="pristine" in request.POST)
    html = render_to_string(f"{FORM_TEMPLATE}#utc-preview", context, request=request)
    # The phone's summary bar sits outside the preview; it follows it out of band.
    html += render_to_string(f"{FORM_TEMPLATE}#preview-bar", {**context, "bar_oob": True}, request=request)
    if form.grid_moved:
        # The zone's offset changed: the hour labels change too (ticks keep their local time).
        context["grid_oob"] = True
        html += render_to_string(f"{FORM_TEMPLATE}#hour-grid", context, request=request)
    return HttpResponse(html)


class FaviconView(RedirectView):
    """Answer browsers and tools that ask for /favicon.ico without reading the page's icon link."""

    permanent = False

    def get_redirect_url(self, *args: object, **kwargs: object) -> str:
        # Resolved per request: with hashed static names the manifest is read only when needed.
        return static("favicon.svg")
