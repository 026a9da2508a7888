"""``/volume/``: the block-storage API v3 of the OpenStack clients (docs/api.md, "Backups and restore").

The version document, the backup routes as under /v2/, and the volumes the clients look a
backup's volume up among. Anything else is a JSON 404, never a redirect.
"""

from django.urls import path, re_path

from . import backups, views
from .urls import BACKUP_ROUTES

app_name = "volume"

urlpatterns = [
    path("", backups.Versions.as_view(), name="versions"),
    path("v3/", backups.VersionV3.as_view(), name="version_v3"),
    path("v3", backups.VersionV3.as_view()),
    path("v3/<str:project_id>/volumes", backups.CinderVolumes.as_view(), name="volumes"),
    path("v3/<str:project_id>/volumes/detail", backups.CinderVolumes.as_view(), name="volumes_detail"),
    path("v3/<str:project_id>/volumes/<str:volume_id>", backups.CinderVolume.as_view(), name="volume"),
    *(path(f"v3/{route.pattern}", route.callback, name=route.name) for route in BACKUP_ROUTES),
    re_path(r"^.*$", views.NotFoundView.as_view()),
]
