"""The Backups page of a project: its backups filtered by volume and policy, restore, delete, a restore's progress.

Every write is the service an API client's request calls (``policies.backups``: the same body read
by the core, the same refusals, the same audit record, with the dashboard as the entrance). The
pages work without JavaScript (forms post and redirect, a confirmation is its own page, a restore's
page has a refresh link); htmx swaps the table when a filter changes, shows the overwrite
confirmation in place and polls a restore's status until it settles.
"""

import uuid

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from policies import audit, backup_selectors, backups, selectors, services
from policies.dashboard.problem_display import BACKUPS, sentence
from policies.dashboard.views.shared import tenant_or_404
from policies.domain.contract import backups as rules
from policies.models import Backup, Restore, Tenant, Volume

LIST_TEMPLATE = "policies/backup_list.html"
RESTORE_TEMPLATE = "policies/backup_restore.html"
DELETE_TEMPLATE = "policies/backup_delete.html"
RESTORE_STATUS_TEMPLATE = "policies/restore_detail.html"
PAGE_SIZE = 50
RECENT_RESTORES = 5

# A restore's status as the page says it; "Restored" is the state a finished restore settles in.
RESTORE_STATUS_WORDS = {
    Restore.Status.WAITING.value: "Waiting for the worker",
    Restore.Status.RUNNING.value: "Restoring",
    Restore.Status.SUCCEEDED.value: "Restored",
    Restore.Status.FAILED.value: "Failed",
}


class BackupFilterForm(forms.Form):
    """The list's filters: a volume (by its ID, so a deleted volume's backups stay findable) and a policy."""

    volume = forms.ChoiceField(label="Volume", required=False)
    policy = forms.ChoiceField(label="Policy", required=False)

    def __init__(self, data, *, tenant: Tenant) -> None:
        super().__init__(data, label_suffix="")
        self.fields["volume"].choices = [("", "All volumes")] + [
            (str(v.resource_id), f"{v}{' (deleted)' if v.status == Volume.Status.DELETED else ''}")
            for v in selectors.volume_list_for_tenant(tenant=tenant)
        ]
        self.fields["policy"].choices = [("", "All policies")] + [
            (str(p.pk), p.name) for p in selectors.policy_list_for_tenant(tenant=tenant)
        ]

    def chosen(self, name: str) -> uuid.UUID | None:
        """The valid choice of one filter (a value not among the choices is shown as an error, and not applied)."""
        self.is_valid()
        value = self.cleaned_data.get(name)
        return uuid.UUID(value) if value else None


def _list_url(tenant: Tenant, **filters) -> str:
    url = reverse("policies:backup_list", kwargs={"project_id": tenant.project_id})
    given = {name: value for name, value in filters.items() if value}
    return f"{url}?{urlencode(given)}" if given else url


def _to_list(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    url = _list_url(tenant)
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _backup_or_404(request: HttpRequest, project_id: str, backup_id: str) -> tuple[Tenant, Backup]:
    tenant = tenant_or_404(request, project_id)
    # Another project's backup, an unknown one and a malformed ID look the same: 404, nothing written.
    backup = backup_selectors.backup_for_tenant(tenant=tenant, backup_id=backup_id)
    if backup is None:
        raise Http404("No such backup in this project.")
    return tenant, backup


@require_GET
@login_required
@vary_on_headers("HX-Request")
def backup_list(request: HttpRequest, project_id: str) -> HttpResponse:
    tenant = tenant_or_404(request, project_id)
    form = BackupFilterForm(request.GET, tenant=tenant)
    volume_id, policy_id = form.chosen("volume"), form.chosen("policy")
    found = backup_selectors.backup_list_for_tenant(tenant=tenant, volume_id=volume_id, policy_id=policy_id)
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    filters = {"volume": volume_id or "", "policy": policy_id or ""}
    context = {
        "tenant": tenant,
        "form": form,
        "page": page,
        "filtered": bool(volume_id or policy_id),
        "page_query": urlencode({k: v for k, v in filters.items() if v}),
        "restores": backup_selectors.restore_list_for_tenant(tenant=tenant)[:RECENT_RESTORES],
        "restore_words": RESTORE_STATUS_WORDS,
        "nav_section": "backups",
    }
    template = f"{LIST_TEMPLATE}#backup-table" if request.htmx else LIST_TEMPLATE
    return render(request, template, context)


def _original(backup: Backup) -> Volume | None:
    """The volume the backup was taken of, while it exists: the one "restore over" offers."""
    volume = backup.volume
    return volume if volume is not None and volume.status != Volume.Status.DELETED else None


def _restore_payload(post) -> dict:
    """The body an API client sends for the choice posted: over a volume, or into a new one."""
    if post.get("target") == "original":
        return {"restore": {"volume_id": post.get("volume_id", "")}}
    name = post.get("name", "").strip()
    return {"restore": {"name": name} if name else {}}


@require_http_methods(["GET", "POST"])
@login_required
@vary_on_headers("HX-Request")
def backup_restore(request: HttpRequest, project_id: str, backup_id: str) -> HttpResponse:
    """Restore into a new volume, or over the original after a confirmation naming both it and the backup's time."""
    tenant, backup = _backup_or_404(request, project_id, backup_id)
    problems = []
    confirming = request.GET.get("over") == "original"
    if request.method == "POST":
        confirming = request.POST.get("target") == "original"
        body, problems = rules.parse_restore_body(_restore_payload(request.POST))
        if body is not None:
            try:
                restore = backups.restore_start(
                    backup=backup, body=body, actor=audit.Actor.dashboard(request.user)
                )
            except backups.BackupNotFound:
                messages.info(request, f"Backup “{backup.name}” was deleted meanwhile: nothing was restored.")
                return _to_list(request, tenant)
            except services.ServiceError as exc:
                problems = [exc.problem]
            else:
                messages.success(request, f"Restore of “{backup.name}” into “{restore.volume_name}” queued.")
                url = reverse(
                    "policies:restore_detail",
                    kwargs={"project_id": tenant.project_id, "restore_id": restore.pk},
                )
                return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    name_errors, refusals = [], []
    for problem in problems:
        field = BACKUPS.field_for(problem)
        said = sentence(problem, BACKUPS.subjects.get(field, BACKUPS.subjects[None]))
        (name_errors if field == "name" else refusals).append(said)
    context = {
        "tenant": tenant,
        "backup": backup,
        "original": _original(backup),
        "confirming": confirming,
        "name": request.POST.get("name", rules.default_volume_name(backup.name)),
        "name_errors": name_errors,
        "refusals": refusals,
        "nav_section": "backups",
    }
    template = f"{RESTORE_TEMPLATE}#restore-form" if request.htmx else RESTORE_TEMPLATE
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
@login_required
@vary_on_headers("HX-Request")
def backup_delete(request: HttpRequest, project_id: str, backup_id: str) -> HttpResponse:
    tenant, backup = _backup_or_404(request, project_id, backup_id)
    if request.method == "POST":
        try:
            backups.backup_delete(backup=backup, actor=audit.Actor.dashboard(request.user))
        except backups.BackupNotFound:
            messages.info(request, f"Backup “{backup.name}” was already deleted.")
        except services.ServiceError as exc:
            messages.error(
                request,
                f"Backup “{backup.name}” was not deleted. {sentence(exc.problem, BACKUPS.subjects[None])}",
            )
        else:
            messages.success(request, f"Backup “{backup.name}” deleted.")
        return _to_list(request, tenant)
    context = {"tenant": tenant, "backup": backup, "nav_section": "backups"}
    template = f"{DELETE_TEMPLATE}#delete-confirm" if request.htmx else DELETE_TEMPLATE
    return render(request, template, context)


@require_GET
@login_required
@vary_on_headers("HX-Request")
def restore_detail(request: HttpRequest, project_id: str, restore_id: str) -> HttpResponse:
    """A restore's progress: htmx asks for the status alone every second until it has settled."""
    tenant = tenant_or_404(request, project_id)
    restore = backup_selectors.restore_for_tenant(tenant=tenant, restore_id=restore_id)
    if restore is None:
        raise Http404("No such restore in this project.")
    context = {
        "tenant": tenant,
        "restore": restore,
        "active": restore.status in Restore.ACTIVE,
        "words": RESTORE_STATUS_WORDS[restore.status],
        "nav_section": "backups",
    }
    template = f"{RESTORE_STATUS_TEMPLATE}#restore-status" if request.htmx else RESTORE_STATUS_TEMPLATE
    return render(request, template, context)
