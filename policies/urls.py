from django.urls import path

from . import token_views, views, views_runs

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
    # The parts of the live preview's forecast the page asks for (calendar, days): live_preview.py.
    path("p/<str:project_id>/preview/<str:part>", views.policy_preview_part, name="policy_preview_part"),
    # <str:>, not <uuid:>: a malformed ID is the view's 404 (after sign-in), like an unknown one.
    path("p/<str:project_id>/policy/<str:policy_id>/edit", views.policy_edit, name="policy_edit"),
    path(
        "p/<str:project_id>/policy/<str:policy_id>/preview",
        views.policy_edit_preview,
        name="policy_edit_preview",
    ),
    path(
        "p/<str:project_id>/policy/<str:policy_id>/preview/<str:part>",
        views.policy_edit_preview_part,
        name="policy_edit_preview_part",
    ),
    # A policy's volumes and runs (views_runs.py).
    path("p/<str:project_id>/policy/<str:policy_id>/", views_runs.policy_detail, name="policy_detail"),
    path(
        "p/<str:project_id>/policy/<str:policy_id>/volumes/add",
        views_runs.policy_volumes_add,
        name="policy_volumes_add",
    ),
    path(
        "p/<str:project_id>/policy/<str:policy_id>/volumes/remove",
        views_runs.policy_volumes_remove,
        name="policy_volumes_remove",
    ),
    path("p/<str:project_id>/policy/<str:policy_id>/run", views_runs.policy_run, name="policy_run"),
    path("p/<str:project_id>/policy/<str:policy_id>/delete", views.policy_delete, name="policy_delete"),
    path("p/<str:project_id>/policy/<str:policy_id>/status", views.policy_toggle, name="policy_toggle"),
]
