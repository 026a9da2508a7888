"""The admin site: staff run the service here, under the rules of the API.

Every write of a policy or its tags goes through ``policies.services`` with ``Actor.admin``: the
contract's rules (the core, read by ``admin_forms``), the ten-policy quota and unique names hold
here as at the API, and each change leaves an audit record. The audit trail itself is read-only.
"""

from __future__ import annotations

import contextlib
import secrets
import uuid
from dataclasses import replace
from datetime import UTC
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import construct_change_message
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import Count, OuterRef, Prefetch, Subquery
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.template.response import TemplateResponse
from django.urls import path as url_path
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.text import Truncator

from . import live_preview, selectors, services
from .admin_forms import (
    ApiTokenIssueForm,
    BackupPolicyAdminForm,
    PolicyTagFormSet,
    PolicyTagInlineForm,
)
from .domain import codes, contract, specs, words
from .domain.changes import ordered_changes
from .models import ApiToken, AuditEvent, BackupPolicy, Membership, PolicyTag, Tenant

AUDIT_VIEW_PERM = "policies.view_auditevent"

admin.site.site_header = "Backup Policy Console administration"
admin.site.site_title = "Backup Policy Console admin"
admin.site.index_title = "Projects, policies, API tokens and the audit trail"
# The list of models is on the index page and in the breadcrumbs: without the side bar a policy
# list's seven columns fit a 1280 px screen.
admin.site.enable_nav_sidebar = False


def _tenant_or_none(pk: str | None) -> Tenant | None:
    try:
        return Tenant.objects.filter(pk=int(pk)).first() if pk else None
    except ValueError:
        return None


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def _audit_list_url(**params: Any) -> str:
    return reverse("admin:policies_auditevent_changelist") + "?" + urlencode(params)


# --- Audit records, in words ------------------------------------------------------------------


def _short_path(path: str) -> str:
    return path.removeprefix("scheduled_policy.")


def _value_words(value: Any) -> str:
    """Show one stored value of an audit record for people: tags as key=value, absent as "—"."""
    if value is None:
        return "—"
    if isinstance(value, list):
        if not value:
            return "(none)"
        if all(isinstance(item, dict) and set(item) == {"key", "value"} for item in value):
            return ", ".join(f"{item['key']}={item['value']}" for item in value)
        return ", ".join(str(item) for item in value)
    return str(value)


def change_summary(event: AuditEvent, limit: int = 120) -> str:
    """Say what a record changed: for a change, each field (with before and after when short)."""
    if event.action == AuditEvent.Action.CREATE:
        return "new policy"
    if event.action == AuditEvent.Action.DELETE:
        return "policy deleted"
    if event.action == AuditEvent.Action.TOKEN_ISSUE:
        return f"API token {event.token_prefix}… issued"
    if event.action == AuditEvent.Action.TOKEN_REVOKE:
        return f"API token {event.token_prefix}… revoked"
    parts = []
    for path, before, after in ordered_changes(event.changes):
        name = _short_path(path)
        before, after = _value_words(before), _value_words(after)
        parts.append(f"{name}: {before} → {after}" if len(before) + len(after) <= 40 else name)
    return Truncator("; ".join(parts)).chars(limit)


def when_words(event: AuditEvent) -> str:
    # The one date format of the product (config/formats): what every datetime column shows too.
    return date_format(event.at.astimezone(UTC), "DATETIME_FORMAT")


def who_words(event: AuditEvent) -> str:
    who = event.username or "(no user)"
    return f"{who} (token {event.token_prefix}…)" if event.token_prefix else who


def changes_table(changes: dict) -> str:
    rows = format_html_join(
        "",
        '<tr><th scope="row"><code>{}</code></th><td>{}</td><td>{}</td></tr>',
        (
            (path, _value_words(before), _value_words(after))
            for path, before, after in ordered_changes(changes)
        ),
    )
    return format_html(
        '<table class="audit-changes"><thead><tr><th scope="col">Field</th><th scope="col">Before</th>'
        '<th scope="col">After</th></tr></thead><tbody>{}</tbody></table>',
        rows,
    )


# --- Tenants ----------------------------------------------------------------------------------


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["project_id", "name", "policy_count", "created_at"]
    search_fields = ["project_id", "name"]
    inlines = [MembershipInline]

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).annotate(policy_count=Count("policies"))

    @admin.display(description="Policies", ordering="policy_count")
    def policy_count(self, obj: Tenant) -> str:
        url = reverse("admin:policies_backuppolicy_changelist") + f"?tenant__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, obj.policy_count)

    # A tenant's policies go through the service, so that each deletion is in the audit trail.
    def delete_model(self, request: HttpRequest, obj: Tenant) -> None:
        services.tenant_delete(tenant=obj, actor=services.Actor.admin(request.user))

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        for tenant in queryset:
            self.delete_model(request, tenant)


# --- Backup policies --------------------------------------------------------------------------


class PolicyTagInline(admin.TabularInline):
    model = PolicyTag
    verbose_name = "tag"
    verbose_name_plural = "tags"
    form = PolicyTagInlineForm
    formset = PolicyTagFormSet
    fields = ["key", "value"]
    extra = 1
    # The most the "Add another" link offers; the limit itself is the core's (AutoBackup.0215).
    max_num = contract.MAX_TAGS

    # Tags are part of the policy (the contract writes them together): whoever may add or change
    # the policy may edit its tags, and no one else.
    def _may_edit(self, request: HttpRequest, obj) -> bool:
        perm = "add" if obj is None else "change"
        return request.user.has_perm(f"policies.{perm}_backuppolicy")

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._may_edit(request, obj)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._may_edit(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._may_edit(request, obj)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm("policies.view_backuppolicy") or self._may_edit(request, obj)


class ScheduleKindFilter(admin.SimpleListFilter):
    title = "schedule"
    parameter_name = "schedule"

    def lookups(self, request, model_admin):
        return [("weekdays", "Days of the week"), ("interval", "Every N days")]

    def queryset(self, request, queryset):
        if self.value() == "weekdays":
            return queryset.filter(frequency__isnull=True)
        if self.value() == "interval":
            return queryset.filter(frequency__isnull=False)
        return queryset


class RetentionKindFilter(admin.SimpleListFilter):
    title = "retention"
    parameter_name = "retention"

    def lookups(self, request, model_admin):
        return [("count", "A number of backups"), ("days", "A number of days")]

    def queryset(self, request, queryset):
        if self.value() == "count":
            return queryset.filter(retention_num__isnull=False)
        if self.value() == "days":
            return queryset.filter(retention_day__isnull=False)
        return queryset


class PolicyChangeList(ChangeList):
    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        # The page's last audit records in one query (the IDs come from a subquery annotation).
        ids = [policy.last_event_id for policy in self.result_list if policy.last_event_id]
        events = AuditEvent.objects.in_bulk(ids) if ids else {}
        for policy in self.result_list:
            policy.last_event = events.get(policy.last_event_id)


class PolicyRefused(Exception):
    """A service refused the admin's write; the form is drawn again with the problem."""

    def __init__(self, problem: codes.Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


REFUSAL_ATTR = "_policy_admin_refusal"


def _adopt(obj: BackupPolicy, stored: BackupPolicy) -> None:
    """Make the admin's instance the row the service wrote (the admin goes on with ``obj``)."""
    for field in BackupPolicy._meta.concrete_fields:
        setattr(obj, field.attname, getattr(stored, field.attname))
    obj._state.adding = False
    obj._state.db = stored._state.db


@admin.register(BackupPolicy)
class BackupPolicyAdmin(admin.ModelAdmin):
    form = BackupPolicyAdminForm
    inlines = [PolicyTagInline]
    list_display = [
        "name",
        "tenant",
        "schedule_shown",
        "retention",
        "status",
        "tags_shown",
        "last_change",
    ]
    list_select_related = ["tenant"]
    list_filter = ["status", "tenant", ScheduleKindFilter, RetentionKindFilter]
    # A policy carries several tags: Django removes the duplicates a tag search would give.
    search_fields = ["name", "tags__key", "tags__value", "tenant__project_id"]
    search_help_text = "Search by policy name, tag key or value, or project ID."
    actions = ["enable", "disable"]

    # -- reading

    def get_queryset(self, request: HttpRequest):
        latest = AuditEvent.objects.filter(policy_id=OuterRef("pk")).order_by("-at", "-id")
        return (
            super()
            .get_queryset(request)
            .select_related("tenant")
            .prefetch_related(Prefetch("tags", queryset=PolicyTag.objects.order_by("position", "id")))
            .annotate(
                last_change_at=Subquery(latest.values("at")[:1]),
                last_event_id=Subquery(latest.values("id")[:1]),
            )
        )

    def get_changelist(self, request: HttpRequest, **kwargs):
        return PolicyChangeList

    def get_list_display(self, request: HttpRequest):
        shown = list(super().get_list_display(request))
        if not request.user.has_perm(AUDIT_VIEW_PERM):
            shown.remove("last_change")
        return shown

    @staticmethod
    def _spec(policy: BackupPolicy) -> specs.PolicySpec:
        if not hasattr(policy, "_admin_spec"):
            # The tags are prefetched: no query per policy.
            policy._admin_spec = policy.to_spec(tags=list(policy.tags.all()))
        return policy._admin_spec

    @admin.display(description="Schedule (local, then UTC)")
    def schedule_shown(self, obj: BackupPolicy) -> str:
        local, utc = words.schedule_in_words(self._spec(obj))
        return format_html("{}<br><small>{}</small>", local, utc)

    @admin.display(description="Retention")
    def retention(self, obj: BackupPolicy) -> str:
        if obj.retention_num is not None:
            kept = _plural(obj.retention_num, "backup")
        else:
            kept = _plural(obj.retention_day or 0, "day")
        return f"{kept}, and the first of each month" if obj.keep_first_of_month else kept

    @admin.display(description="Tags")
    def tags_shown(self, obj: BackupPolicy) -> str:
        return ", ".join(f"{tag.key}={tag.value}" for tag in obj.tags.all()) or "—"

    @admin.display(description="Last change", ordering="last_change_at")
    def last_change(self, obj: BackupPolicy) -> str:
        event = getattr(obj, "last_event", None)
        if event is None:
            return "—"
        url = reverse("admin:policies_auditevent_change", args=[event.pk])
        return format_html(
            '{} via {}, <a href="{}">{}</a><br><small>{}</small>',
            who_words(event),
            event.get_entrance_display(),
            url,
            when_words(event),
            change_summary(event, limit=80),
        )

    # -- the change page

    def get_fieldsets(self, request: HttpRequest, obj=None):
        head = ["backup_policy_id", "tenant", "name", "status"] if obj else ["tenant", "name", "status"]
        when = ["start_time", "time_zone", "time_zone_name", "frequency", "week_frequency"]
        if obj:
            when.append("schedule_words")
        fieldsets = [
            (None, {"fields": head}),
            ("Schedule", {"fields": when}),
            ("Retention", {"fields": ["retention_num", "retention_day", "keep_first_of_month"]}),
        ]
        if obj:
            record = ["created_at", "updated_at"]
            if request.user.has_perm(AUDIT_VIEW_PERM):
                record.append("recent_changes")
            fieldsets.append(("Record", {"fields": record}))
        return fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        fields = ["backup_policy_id", "created_at", "updated_at", "schedule_words", "recent_changes"]
        if obj is not None:
            fields.append("tenant")  # a policy never moves to another project
        return fields

    @admin.display(description="ID (backup_policy_id)")
    def backup_policy_id(self, obj: BackupPolicy) -> str:
        return str(obj.pk)

    @admin.display(description="Runs")
    def schedule_words(self, obj: BackupPolicy) -> str:
        local, utc = words.schedule_in_words(self._spec(obj))
        return format_html("{}<br>{}", local, utc)

    @admin.display(description="History")
    def recent_changes(self, obj: BackupPolicy) -> str:
        events = list(selectors.audit_for_policy(policy_id=obj.pk)[:5])
        if not events:
            return "No change recorded."
        rows = format_html_join(
            "",
            '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
            (
                (
                    reverse("admin:policies_auditevent_change", args=[event.pk]),
                    when_words(event),
                    who_words(event),
                    event.get_entrance_display(),
                    event.get_action_display(),
                    change_summary(event),
                )
                for event in events
            ),
        )
        return format_html(
            '<table><thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">Via</th>'
            '<th scope="col">Action</th><th scope="col">Fields</th></tr></thead><tbody>{}</tbody></table>'
            '<p><a href="{}">Every record of this policy in the audit trail</a></p>',
            rows,
            _audit_list_url(policy_id=obj.pk),
        )

    def history_view(self, request: HttpRequest, object_id: str, extra_context=None) -> HttpResponse:
        # The admin's own history knows only the admin's saves; the audit trail knows every entrance.
        if request.user.has_perm(AUDIT_VIEW_PERM) and self.get_object(request, object_id) is not None:
            return HttpResponseRedirect(_audit_list_url(policy_id=object_id))
        return super().history_view(request, object_id, extra_context)

    # -- the live preview: the dashboard's own (live_preview.preview_html), for the payload of this form

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        preview = self.admin_site.admin_view(self.preview_view)
        # Before the default routes: "<object_id>/" would otherwise swallow "preview/".
        return [
            url_path("preview/", preview, name="{}_{}_preview".format(*info)),
            url_path("<path:object_id>/preview/", preview, name="{}_{}_preview_change".format(*info)),
            *super().get_urls(),
        ]

    def preview_view(self, request: HttpRequest, object_id: str | None = None) -> HttpResponse:
        """Answer the change form's fields with the dashboard's preview of the same payload."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        policy = self.get_object(request, object_id) if object_id is not None else None
        if object_id is not None and (
            policy is None or not self.has_view_or_change_permission(request, policy)
        ):
            raise Http404("No such policy.")
        if object_id is None and not self.has_add_permission(request):
            raise PermissionDenied
        admin_form = BackupPolicyAdminForm(request.POST, instance=policy or BackupPolicy())
        admin_form.is_valid()  # builds the payload an API client would send
        tenant = policy.tenant if policy else _tenant_or_none(request.POST.get("tenant"))
        try:
            form = live_preview.form_for_payload(
                admin_form.payload or {}, current=policy.to_spec() if policy else None
            )
        except ValueError as exc:
            # Both members of a pair, or no full hours: the fields' own errors say what is wrong.
            return render(
                request, "admin/policies/backuppolicy/preview_unavailable.html", {"reason": str(exc)}
            )
        return HttpResponse(live_preview.preview_html(request, form, tenant=tenant, policy=policy))

    def render_change_form(
        self, request: HttpRequest, context, add=False, change=False, form_url="", obj=None
    ):
        info = self.opts.app_label, self.opts.model_name
        if obj is not None:
            context["preview_url"] = reverse("admin:{}_{}_preview_change".format(*info), args=[obj.pk])
        else:
            context["preview_url"] = reverse("admin:{}_{}_preview".format(*info))
        return super().render_change_form(request, context, add, change, form_url, obj)

    # -- writing, through the services

    def get_form(self, request: HttpRequest, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.refusal = getattr(request, REFUSAL_ATTR, None)
        return form

    def changeform_view(self, request: HttpRequest, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except PolicyRefused as refused:
            # Raised inside the admin's transaction, which rolled back the policy, its tags and the
            # audit records alike. Draw the form again, with the service's problem at its field.
            setattr(request, REFUSAL_ATTR, refused.problem)
            return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request: HttpRequest, obj: BackupPolicy, form: BackupPolicyAdminForm, change: bool):
        assert form.spec is not None
        actor = services.Actor.admin(request.user)
        try:
            if change:
                # The tags (when the inline was sent) in the same transaction and audit record.
                spec = form.spec if form.tags_given else replace(form.spec, tags=form.current.tags)
                stored = services.policy_update(policy=obj, spec=spec, actor=actor).policy
            else:
                # The tags are written with the policy, in the service's one transaction.
                stored = services.policy_create(
                    tenant=form.cleaned_data["tenant"], spec=form.spec, actor=actor
                )
        except services.ServiceError as exc:
            raise PolicyRefused(exc.problem) from exc
        _adopt(obj, stored)

    def save_related(self, request: HttpRequest, form: BackupPolicyAdminForm, formsets, change: bool):
        # The tag rows are never saved by their formset: save_model gave the whole list to the
        # service with the policy.
        return

    def construct_change_message(self, request, form, formsets, add=False):
        # The formsets did not save (see save_related); the audit trail has the details.
        return construct_change_message(form, [], add)

    def delete_model(self, request: HttpRequest, obj: BackupPolicy) -> None:
        # Deleted meanwhile: what was asked for is done.
        with contextlib.suppress(services.PolicyNotFound):
            services.policy_delete(policy=obj, actor=services.Actor.admin(request.user))

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        for policy in queryset:
            self.delete_model(request, policy)

    # -- actions

    @admin.action(description="Enable selected policies", permissions=["change"])
    def enable(self, request: HttpRequest, queryset) -> None:
        self._set_status(request, queryset, "ON")

    @admin.action(description="Disable selected policies", permissions=["change"])
    def disable(self, request: HttpRequest, queryset) -> None:
        self._set_status(request, queryset, "OFF")

    def _set_status(self, request: HttpRequest, queryset, status: str) -> None:
        """Turn each policy on or off through the service; count what changed and what was already so."""
        actor = services.Actor.admin(request.user)
        changed, unchanged, refused = 0, 0, []
        for policy in queryset:
            try:
                change = services.policy_set_status(policy=policy, status=status, actor=actor)
            except services.ServiceError as exc:
                refused.append(f"{policy.name}: {exc.problem.message}")
                continue
            if change.changed:
                changed += 1
            else:
                unchanged += 1
        word = "Enabled" if status == "ON" else "Disabled"
        text = f"{word} {_plural(changed, 'policy', 'policies')}."
        if unchanged:
            text += f" {unchanged} already {'on' if status == 'ON' else 'off'}, left as {'it was' if unchanged == 1 else 'they were'}."
        self.message_user(request, text, messages.SUCCESS)
        if refused:
            self.message_user(request, "Not changed: " + "; ".join(refused), messages.ERROR)


# --- API tokens -------------------------------------------------------------------------------

TOKEN_FIELDS = ["user", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at"]
RAW_TOKEN_ATTR = "_raw_token_shown_once"


ISSUE_TICKETS_KEY = "policies.token_issue_tickets"
MAX_ISSUE_TICKETS = 20


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    # Never the digest, and never the raw token, which is not stored: it is shown once, when issued.
    list_display = ["prefix", "user", "created_at", "expires_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    list_select_related = ["user"]
    search_fields = ["prefix", "user__username"]
    autocomplete_fields = ["user"]
    actions = ["revoke"]

    def get_fields(self, request: HttpRequest, obj=None):
        return ["user", "expires_in_days", "issue_ticket"] if obj is None else TOKEN_FIELDS

    def get_changeform_initial_data(self, request: HttpRequest) -> dict:
        ticket = secrets.token_urlsafe(16)
        tickets = request.session.get(ISSUE_TICKETS_KEY, [])
        request.session[ISSUE_TICKETS_KEY] = [*tickets[-(MAX_ISSUE_TICKETS - 1) :], ticket]
        return {**super().get_changeform_initial_data(request), "issue_ticket": ticket}

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return [] if obj is None else TOKEN_FIELDS

    def get_form(self, request: HttpRequest, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ApiTokenIssueForm
        return super().get_form(request, obj, change, **kwargs)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        # A token is never edited: it is issued, then revoked with the action (which asks for this
        # permission without an object). Its page is read-only.
        return obj is None and super().has_change_permission(request)

    def add_view(self, request: HttpRequest, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "show_save_and_add_another": False}
        extra_context["show_save_and_continue"] = False
        if (
            request.method == "POST"
            and self.has_add_permission(request)
            and request.POST.get("issue_ticket") not in request.session.get(ISSUE_TICKETS_KEY, [])
        ):
            return self._already_issued(request)
        return super().add_view(request, form_url, extra_context)

    def _already_issued(self, request: HttpRequest) -> HttpResponse:
        self.message_user(
            request,
            "That issue form was already used (its token was shown once) or has expired: no token was "
            "issued now. Use “Add API token” to issue a new one.",
            messages.WARNING,
        )
        return redirect("admin:policies_apitoken_changelist")

    def save_model(self, request: HttpRequest, obj: ApiToken, form, change: bool) -> None:
        if change:
            return
        tickets = request.session.get(ISSUE_TICKETS_KEY, [])
        request.session[ISSUE_TICKETS_KEY] = [t for t in tickets if t != form.cleaned_data["issue_ticket"]]
        token, raw = services.token_issue(
            user=form.cleaned_data["user"],
            expires_in=form.expires_in,
            actor=services.Actor.admin(request.user),
        )
        for field in ApiToken._meta.concrete_fields:
            setattr(obj, field.attname, getattr(token, field.attname))
        obj._state.adding = False
        setattr(obj, RAW_TOKEN_ATTR, raw)  # in memory only, for the page below

    def response_add(self, request: HttpRequest, obj: ApiToken, post_url_continue=None) -> HttpResponse:
        raw = getattr(obj, RAW_TOKEN_ATTR, None)
        if raw is None:
            return super().response_add(request, obj, post_url_continue)
        # The raw token is in this answer and nowhere else: not in a message (stored in the session
        # or a cookie until shown), not in a redirect, not in any cache.
        context = {
            **self.admin_site.each_context(request),
            "title": "API token issued",
            "opts": self.opts,
            "token": obj,
            "raw_token": raw,
            "change_url": reverse("admin:policies_apitoken_change", args=[obj.pk]),
            "changelist_url": reverse("admin:policies_apitoken_changelist"),
        }
        response = TemplateResponse(request, "admin/policies/apitoken/issued.html", context)
        add_never_cache_headers(response)
        return response

    @admin.action(description="Revoke the selected tokens", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset) -> None:
        count = 0
        for token in queryset:
            if token.revoked_at is None:
                services.token_revoke(token=token, actor=services.Actor.admin(request.user))
                count += 1
        them = "it stops" if count == 1 else "they stop"
        self.message_user(request, f"Revoked {_plural(count, 'token')}; {them} working at once.")


# --- The audit trail --------------------------------------------------------------------------


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only for everyone, superusers included: a trail that can be edited proves nothing."""

    list_display = ["when", "who", "entrance", "action", "project", "policy_name", "summary"]
    list_filter = ["tenant", "entrance", "action"]
    search_fields = ["policy_name", "username", "token_prefix"]
    search_help_text = "Search by policy name, policy ID, username or token prefix."
    fields = [
        "when",
        "who",
        "entrance",
        "action",
        "project",
        "tenant",
        "policy",
        "policy_name",
        "changes_shown",
    ]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_search_results(self, request: HttpRequest, queryset, search_term: str):
        found, duplicates = super().get_search_results(request, queryset, search_term)
        # A policy ID is matched whole, as a UUID: its stored text differs between databases.
        ids = []
        for bit in search_term.split():
            try:
                ids.append(uuid.UUID(bit.strip("\"'")))
            except ValueError:
                continue
        if ids:
            # ``queryset`` already has the list filters applied: they keep applying.
            found = found | queryset.filter(policy_id__in=ids)
        return found, duplicates

    @admin.display(description="When", ordering="at")
    def when(self, obj: AuditEvent) -> str:
        return when_words(obj)

    @admin.display(description="Project ID", ordering="project_id")
    def project(self, obj: AuditEvent) -> str:
        return obj.project_id

    @admin.display(description="Who")
    def who(self, obj: AuditEvent) -> str:
        return who_words(obj)

    @admin.display(description="Changed fields")
    def summary(self, obj: AuditEvent) -> str:
        return change_summary(obj)

    @admin.display(description="Policy")
    def policy(self, obj: AuditEvent) -> str:
        if obj.policy_id is None:
            return f"none: API token {obj.token_prefix}…"
        every = _audit_list_url(policy_id=obj.policy_id)
        if BackupPolicy.objects.filter(pk=obj.policy_id).exists():
            url = reverse("admin:policies_backuppolicy_change", args=[obj.policy_id])
            return format_html(
                '<a href="{}">{}</a> (<a href="{}">every record of it</a>)', url, obj.policy_id, every
            )
        return format_html('{} (deleted; <a href="{}">every record of it</a>)', obj.policy_id, every)

    @admin.display(description="Changes")
    def changes_shown(self, obj: AuditEvent) -> str:
        return changes_table(obj.changes)


from . import admin_runs  # noqa: E402, F401 - registers the volumes, tasks and backups
