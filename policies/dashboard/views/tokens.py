"""API tokens in the dashboard: a signed-in user lists, issues and revokes their own tokens.

A token acts as its user on every project the user is a member of (the API checks membership on
each request); the project picked when issuing one only fills in the example request. The raw
token is in the answer to the issue POST and nowhere else: never stored, never cached, never in a
message or a redirect. Staff manage everyone's tokens in the admin site.
"""

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from policies import accounts, audit, selectors
from policies.dashboard import tickets
from policies.models import ApiToken

TEMPLATE = "policies/token_list.html"
EXPIRY_CHOICES = (("30", "In 30 days"), ("90", "In 90 days"), ("365", "In 1 year"), ("", "Never"))
# One use per page drawn: reloading the "issued" answer resends the POST, and must not issue a
# second token (the same guard as the admin's issue form).
TICKETS_KEY = "policies.dashboard_token_tickets"


class TokenIssueForm(forms.Form):
    project = forms.ChoiceField(label="Project for the example request")
    expires = forms.ChoiceField(label="Expires", choices=EXPIRY_CHOICES, initial="90", required=False)
    ticket = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, tenants, **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.tenants = {tenant.project_id: tenant for tenant in tenants}
        self.fields["project"].choices = [(tenant.project_id, str(tenant)) for tenant in tenants]

    @property
    def expires_in(self) -> timedelta | None:
        days = self.cleaned_data.get("expires")
        return timedelta(days=int(days)) if days else None


def _context(request: HttpRequest, form: TokenIssueForm | None = None, **extra) -> dict:
    tenants = list(selectors.tenants_for_user(user=request.user))
    if form is None:
        form = TokenIssueForm(tenants=tenants, initial={"ticket": tickets.issue(request, TICKETS_KEY)})
    return {
        "tokens": selectors.token_list_for_user(user=request.user),
        "tenants": tenants,
        "form": form,
        "api_docs_url": reverse("api-docs"),
        "now": timezone.now(),
        "nav_section": "tokens",
        **extra,
    }


def _render(request: HttpRequest, context: dict) -> HttpResponse:
    template = f"{TEMPLATE}#tokens" if request.htmx else TEMPLATE
    response = render(request, template, context)
    # The page carries a one-use ticket, and after an issue the raw token: never cached.
    add_never_cache_headers(response)
    return response


@require_GET
@login_required
@vary_on_headers("HX-Request")
def token_list(request: HttpRequest) -> HttpResponse:
    return _render(request, _context(request))


@require_POST
@login_required
@vary_on_headers("HX-Request")
def token_issue(request: HttpRequest) -> HttpResponse:
    tenants = list(selectors.tenants_for_user(user=request.user))
    form = TokenIssueForm(request.POST, tenants=tenants)
    if not form.is_valid():
        return _render(request, _context(request, form))
    if not tickets.spend(request, TICKETS_KEY, form.cleaned_data["ticket"]):
        messages.info(
            request, "That form was already used (its token was shown once): no token was issued now."
        )
        return redirect("policies:token_list")
    tenant = form.tenants[form.cleaned_data["project"]]
    token, raw = accounts.token_issue(
        user=request.user,
        expires_in=form.expires_in,
        actor=audit.Actor.dashboard(request.user),
        tenant=tenant,
    )
    example = request.build_absolute_uri(
        reverse("api:policy_collection", kwargs={"project_id": tenant.project_id})
    )
    issued = {
        "token": token,
        "raw": raw,
        "project": tenant,
        "curl": f"curl -H 'X-Auth-Token: {raw}' {example}",
    }
    return _render(request, _context(request, issued=issued))


def _token_or_404(request: HttpRequest, token_id: str) -> ApiToken:
    # Another user's token and an unknown one look the same.
    token = selectors.token_for_user(user=request.user, token_id=token_id)
    if token is None:
        raise Http404("No such token among yours.")
    return token


@require_POST
@login_required
@vary_on_headers("HX-Request")
def token_revoke(request: HttpRequest, token_id: str) -> HttpResponse:
    token = _token_or_404(request, token_id)
    if accounts.token_revoke(token=token, actor=audit.Actor.dashboard(request.user)):
        notice = f"Token {token.prefix}… revoked: requests that send it are refused from now on."
    else:
        notice = f"Token {token.prefix}… was already revoked."
    if not request.htmx:
        messages.success(request, notice)
        return redirect("policies:token_list")
    return _render(request, _context(request, notice=notice))
