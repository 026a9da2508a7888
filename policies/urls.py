from django.urls import path

from . import token_views, views

app_name = "policies"

urlpatterns = [
    path("", views.home, name="home"),
    path("tokens/", token_views.token_list, name="token_list"),
    path("tokens/new", token_views.token_issue, name="token_issue"),
    path("tokens/<str:token_id>/revoke", token_views.token_revoke, name="token_revoke"),
    path("favicon.ico", views.FaviconView.as_view(), name="favicon"),
    path("p/<str:project_id>/", views.policy_list, name="policy_list"),
    path("p/<str:project_id>/new", views.policy_create, name="policy_create"),
    path("p/<str:project_id>/preview", views.policy_preview, name="policy_preview"),
    # <str:>, not <uuid:>: a malformed ID is the view's 404 (after sign-in), like an unknown one.
    path("p/<str:project_id>/policy/<str:policy_id>/edit", views.policy_edit, name="policy_edit"),
    path(
        "p/<str:project_id>/policy/<str:policy_id>/preview",
        views.policy_edit_preview,
        name="policy_edit_preview",
    ),
    path("p/<str:project_id>/policy/<str:policy_id>/delete", views.policy_delete, name="policy_delete"),
    path("p/<str:project_id>/policy/<str:policy_id>/status", views.policy_toggle, name="policy_toggle"),
]
