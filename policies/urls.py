from django.urls import path

from . import views

app_name = "policies"

urlpatterns = [
    path("", views.home, name="home"),
    path("favicon.ico", views.FaviconView.as_view(), name="favicon"),
    path("p/<str:project_id>/", views.policy_list, name="policy_list"),
    path("p/<str:project_id>/new", views.policy_create, name="policy_create"),
    path("p/<str:project_id>/preview", views.policy_preview, name="policy_preview"),
]
