from django.urls import path, re_path

from . import views

app_name = "api"

# Exact paths, no trailing slash; anything else under /v2/ is a JSON 404 (never a redirect,
# which would lose a POST body).
urlpatterns = [
    path("<str:project_id>/backuppolicy", views.BackupPolicyCollection.as_view(), name="policy_collection"),
    re_path(r"^.*$", views.NotFoundView.as_view(), name="not_found"),
]
