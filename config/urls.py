from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path

from config.views import healthz
from policies.api.backups import Versions
from policies.api.schema import SchemaView, SwaggerView
from policies.api.views import NotFoundView

urlpatterns = [
    # For load balancers and orchestrators: no sign-in, never cached, outside the API's /v2/.
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    # Only what the product uses: no password reset (it would send mail, and there is no mail
    # server) and no self-service password change; staff set passwords in the admin site.
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("v2/", include("policies.api.urls")),
    # "/v2" alone would otherwise be redirected to "/v2/" (APPEND_SLASH), losing a POST body.
    re_path(r"^v2$", NotFoundView.as_view()),
    # The block-storage API v3 of the OpenStack clients: the version document and the backups.
    path("volume/", include("policies.api.volume_urls")),
    re_path(r"^volume$", Versions.as_view()),
    # The OpenAPI description of /v2/ and a Swagger UI page over it: public, read-only.
    path("api/schema/", SchemaView.as_view(), name="api-schema"),
    path("api/docs/", SwaggerView.as_view(), name="api-docs"),
    path("", include("policies.dashboard.urls")),
]

# A database outage is 503 with Retry-After (the envelope under /v2/, a page elsewhere), not 500.
handler500 = "config.views.server_error"
