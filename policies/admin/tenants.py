"""Projects (tenants) with their members, and API tokens: issued once, revoked, never edited."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.html import format_html

from policies import accounts, audit
from policies.dashboard import tickets

from ..models import ApiToken, Membership, Tenant
from .words import plural

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

    # A project's ID names its volume and backup folders and is in every API path and token
    # scope: changed, its volumes and backups would belong to nobody. Set once, at creation.
    def get_readonly_fields(self, request: HttpRequest, obj: Tenant | None = None):
        readonly = list(super().get_readonly_fields(request, obj))
        return readonly if obj is None else [*readonly, "project_id"]

    @admin.display(description="Policies", ordering="policy_count")
    def policy_count(self, obj: Tenant) -> str:
        url = reverse("admin:policies_backuppolicy_changelist") + f"?tenant__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, obj.policy_count)

    # A tenant's policies go through the service, so that each deletion is in the audit trail.
    def delete_model(self, request: HttpRequest, obj: Tenant) -> None:
        accounts.tenant_delete(tenant=obj, actor=audit.Actor.admin(request.user))

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        for tenant in queryset:
            self.delete_model(request, tenant)


# --- API tokens -------------------------------------------------------------------------------


class ApiTokenIssueForm(forms.ModelForm):
    """Issue a token: pick a user and, optionally, when it expires."""

    # One use per page drawn: a reload of the "issued" answer resends the POST, and must not
    # issue a second token (ApiTokenAdmin checks it against the session).
    issue_ticket = forms.CharField(widget=forms.HiddenInput, required=False)
    expires_in_days = forms.IntegerField(
        label="Expires in (days)",
        required=False,
        min_value=1,
        max_value=3650,
        help_text="Leave empty for a token that does not expire; revoke it here when it is no longer needed.",
    )

    class Meta:
        model = ApiToken
        fields = ["user"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A deactivated user's token is refused by the API: issuing one would only mislead.
        self.fields["user"].queryset = get_user_model().objects.filter(is_active=True)

    @property
    def expires_in(self) -> timedelta | None:
        days = self.cleaned_data.get("expires_in_days")
        return timedelta(days=days) if days else None


TOKEN_FIELDS = ["user", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at"]
RAW_TOKEN_ATTR = "_raw_token_shown_once"


ISSUE_TICKETS_KEY = "policies.token_issue_tickets"


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
        ticket = tickets.issue(request, ISSUE_TICKETS_KEY)
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
            and not tickets.is_open(request, ISSUE_TICKETS_KEY, request.POST.get("issue_ticket"))
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
        tickets.spend(request, ISSUE_TICKETS_KEY, form.cleaned_data["issue_ticket"])
        token, raw = accounts.token_issue(
            user=form.cleaned_data["user"],
            expires_in=form.expires_in,
            actor=audit.Actor.admin(request.user),
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
                accounts.token_revoke(token=token, actor=audit.Actor.admin(request.user))
                count += 1
        them = "it stops" if count == 1 else "they stop"
        self.message_user(request, f"Revoked {plural(count, 'token')}; {them} working at once.")
