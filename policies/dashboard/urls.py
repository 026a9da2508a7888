from django.urls import path

from policies.dashboard.views import backups as views_backups
from policies.dashboard.views import notifications as notification_views
from policies.dashboard.views import policies as views
from policies.dashboard.views import runs as views_runs
from policies.dashboard.views import tokens as token_views

app_name = "policies"

PROJECT = "p/<str:project_id>"
POLICY = f"{PROJECT}/policy/<str:policy_id>"
BACKUP = f"{PROJECT}/backups/<str:backup_id>"

urlpatterns = [
    path("", views.home, name="home"),
    path("tokens/", token_views.token_list, name="token_list"),
    path("tokens/new", token_views.token_issue, name="token_issue"),
    path("tokens/<str:token_id>/revoke", token_views.token_revoke, name="token_revoke"),
    path("favicon.ico", views.FaviconView.as_view(), name="favicon"),
    path(f"{PROJECT}/", views.policy_list, name="policy_list"),
    path(f"{PROJECT}/new", views.policy_create, name="policy_create"),
    path(f"{PROJECT}/preview", views.policy_preview, name="policy_preview"),
    # The parts of the live preview's forecast the page asks for (calendar, days): preview.py.
    path(f"{PROJECT}/preview/<str:part>", views.policy_preview_part, name="policy_preview_part"),
    # <str:>, not <uuid:>: a malformed ID is the view's 404 (after sign-in), like an unknown one.
    path(f"{POLICY}/edit", views.policy_edit, name="policy_edit"),
    path(f"{POLICY}/preview", views.policy_edit_preview, name="policy_edit_preview"),
    path(f"{POLICY}/preview/<str:part>", views.policy_edit_preview_part, name="policy_edit_preview_part"),
    # A policy's volumes and runs (views/runs.py).
    path(f"{POLICY}/", views_runs.policy_detail, name="policy_detail"),
    path(f"{POLICY}/volumes/add", views_runs.policy_volumes_add, name="policy_volumes_add"),
    path(f"{POLICY}/volumes/remove", views_runs.policy_volumes_remove, name="policy_volumes_remove"),
    path(f"{POLICY}/run", views_runs.policy_run, name="policy_run"),
    path(f"{POLICY}/delete", views.policy_delete, name="policy_delete"),
    # The project's backups, their restores and deletes (views/backups.py).
    path(f"{PROJECT}/backups/", views_backups.backup_list, name="backup_list"),
    path(f"{BACKUP}/restore", views_backups.backup_restore, name="backup_restore"),
    path(f"{BACKUP}/delete", views_backups.backup_delete, name="backup_delete"),
    path(f"{PROJECT}/restores/<str:restore_id>/", views_backups.restore_detail, name="restore_detail"),
    path(f"{POLICY}/status", views.policy_toggle, name="policy_toggle"),
    # A project's webhooks, e-mail recipients and recent deliveries (views/notifications.py).
    path(f"{PROJECT}/notifications", notification_views.notifications, name="notifications"),
    path(
        f"{PROJECT}/notifications/deliveries",
        notification_views.notification_deliveries,
        name="notification_deliveries",
    ),
    path(f"{PROJECT}/notifications/webhooks/add", notification_views.webhook_add, name="webhook_add"),
    path(
        f"{PROJECT}/notifications/webhooks/<str:webhook_id>/test",
        notification_views.webhook_test,
        name="webhook_test",
    ),
    path(
        f"{PROJECT}/notifications/webhooks/<str:webhook_id>/remove",
        notification_views.webhook_remove,
        name="webhook_remove",
    ),
    path(f"{PROJECT}/notifications/recipients/add", notification_views.recipient_add, name="recipient_add"),
    path(
        f"{PROJECT}/notifications/recipients/<str:recipient_id>/remove",
        notification_views.recipient_remove,
        name="recipient_remove",
    ),
]
