"""The admin site's view of volumes, backup tasks and backups.

Tasks are the run history: read-only for everyone. Volumes come from the provider (refreshed by
an action, never typed in); their association is changed on the dashboard or the API, through
the services. A backup may be deleted here, or restored into a new volume, through the services as
from the API.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone

from .. import audit, backups, protection, services
from ..domain import words
from ..domain.contract.backups import RestoreBody
from ..models import Backup, BackupTask, Volume
from ..runs import inventory


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Volume)
class VolumeAdmin(ReadOnly):
    list_display = [
        "name",
        "resource_id",
        "tenant",
        "size_gib",
        "status",
        "availability_zone",
        "policy",
        "protection_state",
        "synced_at",
    ]
    list_filter = ["status", "provider", "tenant"]
    search_fields = ["name", "resource_id"]
    list_select_related = ["tenant", "policy"]
    actions = ["refresh_inventory"]

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # a volume leaves the inventory when its provider stops listing it

    def get_queryset(self, request: HttpRequest):
        # The facts of each volume's protection, read in the list's own query.
        return protection.with_protection_facts(super().get_queryset(request))

    @admin.display(description="protection")
    def protection_state(self, volume: Volume) -> str:
        [(_, found)] = protection.protections([volume], now=timezone.now())
        return f"{words.PROTECTION_WORDS[found.state.value]}: {words.PROTECTION_REASON_WORDS[found.reason.value]}"

    @admin.action(description="Refresh the inventory of the selected volumes' projects")
    def refresh_inventory(self, request: HttpRequest, queryset) -> None:
        project_ids = sorted(set(queryset.values_list("tenant__project_id", flat=True)))
        results = inventory.volumes_sync_all(project_ids=project_ids)
        for project_id, result in results.items():
            self.message_user(
                request,
                f"{project_id}: {result.added} added, {result.updated} updated, {result.deleted} now deleted",
                messages.SUCCESS,
            )


@admin.register(BackupTask)
class BackupTaskAdmin(ReadOnly):
    list_display = [
        "backup_name",
        "status",
        "policy_name",
        "tenant",
        "scheduled_at",
        "started_at",
        "finished_at",
        "attempts",
        "manual",
    ]
    list_filter = ["status", "manual", "tenant"]
    search_fields = ["backup_name", "policy_name", "job_id", "resource_id"]
    list_select_related = ["tenant"]
    date_hierarchy = "scheduled_at"

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # the history of what ran is kept


@admin.register(Backup)
class BackupAdmin(ReadOnly):
    list_display = [
        "name",
        "policy_name",
        "tenant",
        "resource_id",
        "taken_at",
        "size_bytes",
        "status",
        "verify_status",
        "provider",
    ]
    # "Manual" finds the execute-now backups, which retention never deletes: a person does, here.
    list_filter = ["provider", "manual", "status", "verify_status", "tenant"]
    search_fields = ["name", "policy_name", "resource_id", "id"]
    list_select_related = ["tenant"]
    readonly_fields = ["id", "sha256", "locator"]
    actions = ["restore_into_new_volume"]

    # Deletes and restores go through the services, as from the API: refused while the backup is
    # being made, deleted or restored, and each one audited with the staff member as its actor.
    def delete_model(self, request: HttpRequest, obj: Backup) -> None:
        try:
            backups.backup_delete(backup=obj, actor=audit.Actor.admin(request.user))
        except (backups.BackupBusy, backups.BackupNotFound, backups.BackupStorageFailed) as exc:
            self.message_user(request, f"{obj.name}: {exc.problem.detail}", messages.ERROR)

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        for backup in queryset.select_related("tenant"):
            self.delete_model(request, backup)

    def response_delete(self, request: HttpRequest, obj_display: str, obj_id):
        # A refused delete (the backup is busy) already said why: no "deleted successfully" beside it.
        if Backup.objects.filter(pk=obj_id).exists():
            return HttpResponseRedirect(reverse("admin:policies_backup_changelist"))
        return super().response_delete(request, obj_display, obj_id)

    @admin.action(description="Restore into a new volume (restore-<backup name>)")
    def restore_into_new_volume(self, request: HttpRequest, queryset) -> None:
        actor = audit.Actor.admin(request.user)
        for backup in queryset.select_related("tenant"):
            try:
                restore = backups.restore_start(
                    backup=backup, body=RestoreBody(volume_id=None, name=None), actor=actor
                )
            except services.ServiceError as exc:
                self.message_user(request, f"{backup.name}: {exc.problem.detail}", messages.ERROR)
            else:
                self.message_user(
                    request, f"{backup.name}: restore into the new volume {restore.volume_name} queued."
                )
