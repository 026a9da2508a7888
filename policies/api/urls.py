from django.urls import path, re_path

from . import backups, forecast, runs, views, webhooks

app_name = "api"

# Exact paths, no trailing slash; anything else under /v2/ is a JSON 404 (never a redirect,
# which would lose a POST body).
# Every route is under a project's policies; most name one policy.
POLICIES = "<str:project_id>/backuppolicy"
POLICY = f"{POLICIES}/<str:policy_id>"
BACKUPS = "<str:project_id>/backups"

# The backup routes (docs/api.md, "Backups and restore"), the same under /v2/ and /volume/v3/.
# "detail" is literal, so before {backup_id}.
BACKUP_ROUTES = [
    path(BACKUPS, backups.BackupCollection.as_view(), name="backups"),
    path(f"{BACKUPS}/detail", backups.BackupDetailList.as_view(), name="backups_detail"),
    path(f"{BACKUPS}/<str:backup_id>", backups.BackupItem.as_view(), name="backup"),
    path(f"{BACKUPS}/<str:backup_id>/restore", backups.BackupRestore.as_view(), name="backup_restore"),
]

urlpatterns = [
    # The version document the block-storage clients' discovery reads (as /volume/ lists it).
    path("", backups.VersionV2.as_view(), name="version_v2"),
    path(POLICIES, views.BackupPolicyCollection.as_view(), name="policy_collection"),
    # Volumes and runs (docs/api.md, "Volumes and runs").
    path("<str:project_id>/volumes", runs.VolumeInventory.as_view(), name="volumes"),
    path("<str:project_id>/backuppolicyresources", runs.PolicyResources.as_view(), name="policy_resources"),
    path(
        "<str:project_id>/backuppolicyresources/<str:policy_id>/deleted_resources",
        runs.DeletedResources.as_view(),
        name="deleted_resources",
    ),
    # Literal routes before the {policy_id} ones: "tags" must never be read as a policy ID.
    path(f"{POLICIES}/tags", views.ProjectTags.as_view(), name="project_tags"),
    path(
        f"{POLICIES}/resource_instances/action", views.ResourceInstances.as_view(), name="resource_instances"
    ),
    # Our forecast routes (docs/api.md, "Forecasts"): literal, so before {policy_id} too.
    path(f"{POLICIES}/nextruns", forecast.NextRunsPreview.as_view(), name="nextruns_preview"),
    path(f"{POLICIES}/retention", forecast.RetentionPreview.as_view(), name="retention_preview"),
    path(f"{POLICY}/nextruns", forecast.PolicyNextRuns.as_view(), name="policy_nextruns"),
    path(f"{POLICY}/retention", forecast.PolicyRetention.as_view(), name="policy_retention"),
    # <str:>, not <uuid:>: a malformed ID is the view's 404 AutoBackup.0205, like an unknown one.
    path(POLICY, views.BackupPolicyDetail.as_view(), name="policy_detail"),
    path(f"{POLICY}/tags", views.PolicyTags.as_view(), name="policy_tags"),
    path(f"{POLICY}/action", runs.PolicyAction.as_view(), name="policy_action"),
    path(f"{POLICY}/backuptasks", runs.BackupTasks.as_view(), name="backup_tasks"),
    # Before tags/<key>: the batch route's literal "action" (its DELETE removes the tag "action").
    path(f"{POLICY}/tags/action", views.PolicyTagAction.as_view(), name="policy_tag_action"),
    path(f"{POLICY}/tags/<str:key>", views.PolicyTag.as_view(), name="policy_tag"),
    *BACKUP_ROUTES,
    # A project's webhooks (docs/api.md, "Webhooks").
    path("<str:project_id>/webhooks", webhooks.WebhookCollection.as_view(), name="webhooks"),
    path("<str:project_id>/webhooks/<str:webhook_id>", webhooks.WebhookItem.as_view(), name="webhook"),
    path(
        "<str:project_id>/webhooks/<str:webhook_id>/test", webhooks.WebhookTest.as_view(), name="webhook_test"
    ),
    re_path(r"^.*$", views.NotFoundView.as_view(), name="not_found"),
]
