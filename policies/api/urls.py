from django.urls import path, re_path

from . import forecast, runs, views

app_name = "api"

# Exact paths, no trailing slash; anything else under /v2/ is a JSON 404 (never a redirect,
# which would lose a POST body).
urlpatterns = [
    path("<str:project_id>/backuppolicy", views.BackupPolicyCollection.as_view(), name="policy_collection"),
    # Volumes and runs (docs/api.md, "Volumes and runs").
    path("<str:project_id>/volumes", runs.VolumeInventory.as_view(), name="volumes"),
    path("<str:project_id>/backuppolicyresources", runs.PolicyResources.as_view(), name="policy_resources"),
    path(
        "<str:project_id>/backuppolicyresources/<str:policy_id>/deleted_resources",
        runs.DeletedResources.as_view(),
        name="deleted_resources",
    ),
    # Literal routes before the {policy_id} ones: "tags" must never be read as a policy ID.
    path("<str:project_id>/backuppolicy/tags", views.ProjectTags.as_view(), name="project_tags"),
    path(
        "<str:project_id>/backuppolicy/resource_instances/action",
        views.ResourceInstances.as_view(),
        name="resource_instances",
    ),
    # Our forecast routes (docs/api.md, "Forecasts"): literal, so before {policy_id} too.
    path(
        "<str:project_id>/backuppolicy/nextruns", forecast.NextRunsPreview.as_view(), name="nextruns_preview"
    ),
    path(
        "<str:project_id>/backuppolicy/retention",
        forecast.RetentionPreview.as_view(),
        name="retention_preview",
    ),
    path(
        "<str:project_id>/backuppolicy/<str:policy_id>/nextruns",
        forecast.PolicyNextRuns.as_view(),
        name="policy_nextruns",
    ),
    path(
        "<str:project_id>/backuppolicy/<str:policy_id>/retention",
        forecast.PolicyRetention.as_view(),
        name="policy_retention",
    ),
    # <str:>, not <uuid:>: a malformed ID is the view's 404 AutoBackup.0205, like an unknown one.
    path(
        "<str:project_id>/backuppolicy/<str:policy_id>",
        views.BackupPolicyDetail.as_view(),
        name="policy_detail",
    ),
    path(
        "<str:project_id>/backuppolicy/<str:policy_id>/tags", views.PolicyTags.as_view(), name="policy_tags"
    ),
    path(
        "<str:project_id>/backuppolicy/<str:policy_id>/action",
        runs.PolicyAction.as_view(),
        name="policy_action",
    ),
    path(
        "<str:project_id>/backuppolicy/<str:policy_id>/backuptasks",
        runs.BackupTasks.as_view(),
        name="backup_tasks",
    ),
    # Before tags/<key>: the batch route's literal "action" (its DELETE removes the tag "action").
    path(
        "<str:project_id>/backuppolicy/<str:policy_id>/tags/action",
        views.PolicyTagAction.as_view(),
        name="policy_tag_action",
    ),
    path(
        "<str:project_id>/backuppolicy/<str:policy_id>/tags/<str:key>",
        views.PolicyTag.as_view(),
        name="policy_tag",
    ),
    re_path(r"^.*$", views.NotFoundView.as_view(), name="not_found"),
]
