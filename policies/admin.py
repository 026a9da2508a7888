from django.contrib import admin

from . import services
from .models import ApiToken, BackupPolicy, Membership, PolicyTag, Tenant


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["project_id", "name", "created_at"]
    search_fields = ["project_id", "name"]
    inlines = [MembershipInline]


class PolicyTagInline(admin.TabularInline):
    model = PolicyTag
    extra = 0
    readonly_fields = ["key", "value"]
    can_delete = False


@admin.register(BackupPolicy)
class BackupPolicyAdmin(admin.ModelAdmin):
    # Read-only until policy edits through the services reach the admin: a save here must not
    # bypass the contract rules or the quota.
    list_display = [
        "name",
        "tenant",
        "start_time",
        "frequency",
        "week_frequency",
        "status",
        "time_zone",
        "created_at",
    ]
    list_filter = ["status", "tenant"]
    search_fields = ["name", "tenant__project_id"]
    inlines = [PolicyTagInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["prefix", "user", "created_at", "expires_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["prefix", "user__username"]
    readonly_fields = ["prefix", "created_at", "last_used_at"]
    exclude = ["digest"]
    actions = ["revoke"]

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        for token in queryset:
            services.token_revoke(token=token)
        self.message_user(request, f"Revoked {queryset.count()} token(s); they stop working at once.")

    def has_add_permission(self, request):
        return False  # tokens are issued with manage.py issue_token, which shows the raw token once
