from django.contrib import admin
from django.urls import include, path, re_path

from policies.api.views import NotFoundView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("v2/", include("policies.api.urls")),
    # "/v2" alone would otherwise be redirected to "/v2/" (APPEND_SLASH), losing a POST body.
    re_path(r"^v2$", NotFoundView.as_view()),
    path("", include("policies.urls")),
]
