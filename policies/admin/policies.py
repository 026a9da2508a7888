"""Backup policies in the admin: the list, the change page with its tags, the live preview.

Every write of a policy or its tags goes through ``policies.services`` with ``Actor.admin``: the
contract's rules (the core, asked by ``policy_forms``), the ten-policy quota and unique names hold
here as at the API, and each change leaves an audit record. Each ModelAdmin method overridden
here is one Django documents for the purpose, and says why in its docstring.
"""

from __future__ import annotations

import contextlib
from dataclasses import replace

from django.contrib import admin, messages
from django.contrib.admin.utils import construct_change_message
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import OuterRef, Prefetch, Subquery
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path as url_path
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from policies import audit, selectors, services
from policies.dashboard import preview
from policies.dashboard.problem_display import ADMIN, admin_sentence
from policies.domain import words
from policies.domain.contract import limits, specs

from ..models import AuditEvent, BackupPolicy, PolicyTag, Tenant
from .audit import AUDIT_VIEW_PERM, audit_list_url, change_summary, when_words, who_words
from .filters import RetentionKindFilter, ScheduleKindFilter
from .policy_forms import BackupPolicyAdminForm, PolicyTagFormSet, PolicyTagInlineForm
from .words import plural


def _tenant_or_none(pk: str | None) -> Tenant | None:
    try:
        return Tenant.objects.filter(pk=int(pk)).first() if pk else None
    except ValueError:
        return None


class PolicyTagInline(admin.TabularInline):
    model = PolicyTag
    verbose_name = "tag"
    verbose_name_plural = "tags"
    form = PolicyTagInlineForm
    formset = PolicyTagFormSet
    fields = ["key", "value"]
    extra = 1
    # The most the "Add another" link offers; the limit itself is the core's (AutoBackup.0215).
    max_num = limits.MAX_TAGS

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


class PolicyChangeList(ChangeList):
    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        # The page's last audit records in one query (the IDs come from a subquery annotation).
        ids = [policy.last_event_id for policy in self.result_list if policy.last_event_id]
        events = AuditEvent.objects.in_bulk(ids) if ids else {}
        for policy in self.result_list:
            policy.last_event = events.get(policy.last_event_id)


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
            kept = plural(obj.retention_num, "backup")
        else:
            kept = plural(obj.retention_day or 0, "day")
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
        head = (
            ["backup_policy_id", "tenant", "name", "status", "seen"] if obj else ["tenant", "name", "status"]
        )
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
            audit_list_url(policy_id=obj.pk),
        )

    def history_view(self, request: HttpRequest, object_id: str, extra_context=None) -> HttpResponse:
        # The admin's own history knows only the admin's saves; the audit trail knows every entrance.
        if request.user.has_perm(AUDIT_VIEW_PERM) and self.get_object(request, object_id) is not None:
            return HttpResponseRedirect(audit_list_url(policy_id=object_id))
        return super().history_view(request, object_id, extra_context)

    # -- the live preview: the dashboard's own (preview.payload_preview_html) of this form's payload

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        view = self.admin_site.admin_view(self.preview_view)
        # Before the default routes: "<object_id>/" would otherwise swallow "preview/".
        return [
            url_path("preview/", view, name="{}_{}_preview".format(*info)),
            url_path("<path:object_id>/preview/", view, name="{}_{}_preview_change".format(*info)),
            *super().get_urls(),
        ]

    def preview_view(self, request: HttpRequest, object_id: str | None = None) -> HttpResponse:
        """Answer the change form's fields with the preview of their payload, the dashboard's own."""
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
        payload = dict(admin_form.payload or {})
        # The tag rows as typed, as saving joins them to the fields (else the stored tags): a
        # changed tag is a change to save, and an eleventh row a problem, before saving.
        tag_rows = self._tag_rows(request, policy)
        if tag_rows is not None:
            payload["tags"] = tag_rows
        tenant = policy.tenant if policy else _tenant_or_none(request.POST.get("tenant"))
        html = preview.payload_preview_html(
            request,
            payload,
            current=policy.to_spec() if policy else None,
            tenant=tenant,
            policy=policy,
            now=admin_form.now,
        )
        return HttpResponse(html)

    def _tag_rows(self, request: HttpRequest, policy: BackupPolicy | None) -> list[dict[str, str]] | None:
        """The tag rows the page posted, for the payload's ``tags``; None when it has none to edit."""
        for formset_class, inline in self.get_formsets_with_inlines(request, policy):
            if isinstance(inline, PolicyTagInline) and inline.has_change_permission(request, policy):
                formset = formset_class(
                    request.POST,
                    instance=policy or BackupPolicy(),
                    prefix=formset_class.get_default_prefix(),
                )
                formset.is_valid()
                return formset.sent
        return None

    # -- writing, through the services. Django saves the policy (save_model), then what relates to
    # it (save_related). The contract writes a policy and its tags together, in one transaction
    # and one audit record: save_related, which Django hands the form and the tag formset, does
    # that one write, and save_model writes nothing.

    def save_model(self, request: HttpRequest, obj: BackupPolicy, form: BackupPolicyAdminForm, change: bool):
        """Write nothing yet: the service writes the policy with its tags (save_related)."""

    def save_related(self, request: HttpRequest, form: BackupPolicyAdminForm, formsets, change: bool):
        """Create or update the policy and its tags through the service, in the admin's transaction."""
        assert form.spec is not None
        # The tag rows, when the page had them (their permissions are the policy's): else the
        # spec's own, the stored tags of a change.
        tags = next((f.tags for f in formsets if isinstance(f, PolicyTagFormSet)), form.spec.tags)
        spec, actor = replace(form.spec, tags=tags), audit.Actor.admin(request.user)
        obj = form.instance
        try:
            if change:
                stored = services.policy_update(policy=obj, spec=spec, actor=actor).policy
            else:
                stored = services.policy_create(tenant=obj.tenant, spec=spec, actor=actor)
        except services.ServiceError as exc:
            # Only a write made meanwhile gets here (the form asked the same questions before). The
            # service undid its own part; response_add / response_change undo the admin's part.
            request.policy_refusal = exc.problem
            return
        # The admin goes on with ``obj`` (log entry, message, redirect): make it the stored row.
        for field in BackupPolicy._meta.concrete_fields:
            setattr(obj, field.attname, getattr(stored, field.attname))
        obj._state.adding, obj._state.db = False, stored._state.db

    def construct_change_message(self, request, form, formsets, add=False):
        """Name the changed fields only: the tag rows were written by the service, not the formset."""
        return construct_change_message(form, [], add)

    def response_add(self, request: HttpRequest, obj: BackupPolicy, post_url_continue=None) -> HttpResponse:
        """After a refused write (a race, see save_related), the add page again, with the reason."""
        return self._refused(request) or super().response_add(request, obj, post_url_continue)

    def response_change(self, request: HttpRequest, obj: BackupPolicy) -> HttpResponse:
        """After a refused write, the change page again (the policy as stored), with the reason."""
        return self._refused(request) or super().response_change(request, obj)

    def _refused(self, request: HttpRequest) -> HttpResponse | None:
        problem = getattr(request, "policy_refusal", None)
        if problem is None:
            return None
        transaction.set_rollback(True)  # the admin's log entry of a save that did not happen
        subject = ADMIN.subjects.get(ADMIN.field_for(problem), ADMIN.subjects[None])
        self.message_user(
            request, format_html("Nothing was saved: {}", admin_sentence(problem, subject)), messages.ERROR
        )
        return HttpResponseRedirect(request.get_full_path())

    def delete_model(self, request: HttpRequest, obj: BackupPolicy) -> None:
        """Delete through the service (audited); deleted meanwhile: what was asked for is done."""
        with contextlib.suppress(services.PolicyNotFound):
            services.policy_delete(policy=obj, actor=audit.Actor.admin(request.user))

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        """Delete each policy through delete_model, so each deletion is audited."""
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
        actor, now = audit.Actor.admin(request.user), timezone.now()  # one time for the whole request
        changed, unchanged, refused = 0, 0, []
        for policy in queryset:
            try:
                change = services.policy_set_status(policy=policy, status=status, actor=actor, now=now)
            except services.ServiceError as exc:
                subject = ADMIN.subjects.get(ADMIN.field_for(exc.problem), ADMIN.subjects[None])
                refused.append(format_html("{}: {}", policy.name, admin_sentence(exc.problem, subject)))
                continue
            if change.changed:
                changed += 1
            else:
                unchanged += 1
        word = "Enabled" if status == "ON" else "Disabled"
        text = f"{word} {plural(changed, 'policy', 'policies')}."
        if unchanged:
            text += f" {unchanged} already {'on' if status == 'ON' else 'off'}, left as {'it was' if unchanged == 1 else 'they were'}."
        self.message_user(request, text, messages.SUCCESS)
        if refused:
            self.message_user(
                request,
                format_html("Not changed: {}", format_html_join("; ", "{}", ((r,) for r in refused))),
                messages.ERROR,
            )
