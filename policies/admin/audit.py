"""The audit trail in the admin: read-only for everyone, and the words other pages use for it."""

from __future__ import annotations

import uuid
from datetime import UTC
from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.text import Truncator

from policies.domain.contract.changes import ordered_changes

from ..models import AuditEvent, BackupPolicy

AUDIT_VIEW_PERM = "policies.view_auditevent"


def audit_list_url(**params: Any) -> str:
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
    if event.action == AuditEvent.Action.EXECUTE:
        # The record keeps the tasks' job IDs (the audit page shows them); the list says what happened.
        count = len((event.changes.get("backup_tasks") or {}).get("after") or [])
        return f"Run now: {count} backup task{'s' if count != 1 else ''} queued"
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
        every = audit_list_url(policy_id=obj.policy_id)
        if BackupPolicy.objects.filter(pk=obj.policy_id).exists():
            url = reverse("admin:policies_backuppolicy_change", args=[obj.policy_id])
            return format_html(
                '<a href="{}">{}</a> (<a href="{}">every record of it</a>)', url, obj.policy_id, every
            )
        return format_html('{} (deleted; <a href="{}">every record of it</a>)', obj.policy_id, every)

    @admin.display(description="Changes")
    def changes_shown(self, obj: AuditEvent) -> str:
        return changes_table(obj.changes)
