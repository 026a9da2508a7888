"""Dashboard views: small, htmx-aware, tenant-scoped in the view (never only in a template)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from . import selectors


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    tenants = selectors.tenants_for_user(user=request.user)
    return render(request, "policies/home.html", {"tenants": tenants})
