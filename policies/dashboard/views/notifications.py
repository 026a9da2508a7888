"""A project's notifications: webhook endpoints (added, tested, removed), e-mail recipients, recent deliveries.

The forms build what an API client would send and ask the core (``domain.contract.webhooks``);
the services decide the limits and the addresses. A new endpoint's secret is in the answer to
the POST that made it and nowhere else (never cached, never in a message or a redirect).
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from policies import audit, selectors, services, webhooks
from policies.domain.contract import webhooks as rules
from policies.domain.event_words import event_words

from .shared import tenant_or_404

TEMPLATE = "policies/notifications.html"
# A delivery due within this long keeps the list refreshing (a retry hours away does not).
ACTIVE_WITHIN = timedelta(minutes=1)
EVENT_CHOICES = [(t, event_words(t).capitalize()) for t in rules.EVENT_TYPES]
# Where a problem of the core's is shown: the form field its JSON path names.
FIELD_OF = {"webhook.url": "url", "webhook.events": "events", "webhook.description": "description"}


class WebhookForm(forms.Form):
    url = forms.CharField(label="URL", required=False, max_length=rules.URL_MAX + 1)
    events = forms.MultipleChoiceField(
        label="Events", choices=EVENT_CHOICES, required=False, widget=forms.CheckboxSelectMultiple
    )
    description = forms.CharField(label="Description (optional)", required=False)

    def __init__(self, *args, tenant, **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.tenant = tenant
        self.fields["events"].initial = list(rules.DEFAULT_EVENTS)

    def clean(self):
        data = super().clean()
        body = {"webhook": {"url": data.get("url", ""), "events": data.get("events") or []}}
        if data.get("description"):
            body["webhook"]["description"] = data["description"]
        self.body, problems = rules.parse_webhook_body(body, allow_http=settings.WEBHOOK_ALLOW_HTTP)
        add_problems(self, problems)
        return data


class RecipientForm(forms.Form):
    address = forms.CharField(label="E-mail address", required=False, max_length=rules.ADDRESS_MAX + 1)
    events = forms.MultipleChoiceField(
        label="Events", choices=EVENT_CHOICES, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["events"].initial = list(rules.DEFAULT_EVENTS)

    def clean(self):
        data = super().clean()
        self.recipient, problems = rules.parse_recipient(data.get("address", ""), data.get("events") or [])
        add_problems(self, problems)
        return data


def add_problems(form: forms.Form, problems) -> None:
    """Show each problem of the core at the field its path names (``webhook.events[2]``: events)."""
    for problem in problems:
        path = problem.field.split("[", 1)[0]
        field = FIELD_OF.get(path, path if path in form.fields else None)
        form.add_error(field, problem.detail if field else problem.message)


def _events_words(types) -> str:
    return ", ".join(event_words(t) for t in types)


def _context(request: HttpRequest, tenant, **extra) -> dict:
    return {
        "tenant": tenant,
        "endpoints": [(e, _events_words(e.events)) for e in selectors.webhook_list_for_tenant(tenant=tenant)],
        "recipients": [
            (r, _events_words(r.events)) for r in selectors.recipient_list_for_tenant(tenant=tenant)
        ],
        "deliveries": [
            (d, event_words(d.event.type)) for d in selectors.delivery_list_for_tenant(tenant=tenant)
        ],
        # The list refreshes itself while something is about to be sent, and stops once it settles.
        "deliveries_active": selectors.deliveries_pending_for_tenant(
            tenant=tenant, within=timezone.now() + ACTIVE_WITHIN
        ),
        "webhook_form": extra.pop("webhook_form", None) or WebhookForm(tenant=tenant),
        "recipient_form": extra.pop("recipient_form", None) or RecipientForm(),
        "nav_section": "notifications",
        **extra,
    }


def _render(request: HttpRequest, context: dict, part: str = "notifications") -> HttpResponse:
    template = f"{TEMPLATE}#{part}" if request.htmx else TEMPLATE
    response = render(request, template, context)
    # After an add, the page carries the endpoint's secret: never cached.
    add_never_cache_headers(response)
    return response


def _done(request: HttpRequest, tenant, notice: str) -> HttpResponse:
    """Without JavaScript: back to the page with the notice; with htmx: the region redrawn."""
    if not request.htmx:
        messages.success(request, notice)
        return redirect("policies:notifications", project_id=tenant.project_id)
    return _render(request, _context(request, tenant, notice=notice))


@require_GET
@login_required
@vary_on_headers("HX-Request")
def notifications(request: HttpRequest, project_id: str) -> HttpResponse:
    return _render(request, _context(request, tenant_or_404(request, project_id)))


@require_GET
@login_required
@vary_on_headers("HX-Request")
def notification_deliveries(request: HttpRequest, project_id: str) -> HttpResponse:
    """The recent deliveries alone (the page refreshes them); without htmx, the whole page."""
    return _render(request, _context(request, tenant_or_404(request, project_id)), part="deliveries")


@require_POST
@login_required
@vary_on_headers("HX-Request")
def webhook_add(request: HttpRequest, project_id: str) -> HttpResponse:
    tenant = tenant_or_404(request, project_id)
    form = WebhookForm(request.POST, tenant=tenant)
    if form.is_valid():
        try:
            endpoint, secret = webhooks.webhook_create(
                tenant=tenant, body=form.body, actor=audit.Actor.dashboard(request.user)
            )
        except services.ServiceError as exc:
            add_problems(form, [exc.problem])
        else:
            created = {"endpoint": endpoint, "secret": secret}
            return _render(request, _context(request, tenant, created=created))
    return _render(request, _context(request, tenant, webhook_form=form))


def _endpoint_or_404(tenant, webhook_id: str):
    endpoint = selectors.webhook_for_tenant(tenant=tenant, webhook_id=webhook_id)
    if endpoint is None:
        raise Http404("No such webhook in this project.")
    return endpoint


@require_POST
@login_required
@vary_on_headers("HX-Request")
def webhook_test(request: HttpRequest, project_id: str, webhook_id: str) -> HttpResponse:
    tenant = tenant_or_404(request, project_id)
    endpoint = _endpoint_or_404(tenant, webhook_id)
    webhooks.webhook_ping(endpoint=endpoint)
    return _done(request, tenant, f"Test queued for {endpoint.url}: the worker sends it within seconds.")


@require_POST
@login_required
@vary_on_headers("HX-Request")
def webhook_remove(request: HttpRequest, project_id: str, webhook_id: str) -> HttpResponse:
    tenant = tenant_or_404(request, project_id)
    endpoint = _endpoint_or_404(tenant, webhook_id)
    # Removed meanwhile (another tab): the page shows it gone either way.
    with contextlib.suppress(webhooks.WebhookNotFound):
        webhooks.webhook_delete(endpoint=endpoint, actor=audit.Actor.dashboard(request.user))
    return _done(request, tenant, f"Webhook {endpoint.url} removed: it receives nothing more.")


@require_POST
@login_required
@vary_on_headers("HX-Request")
def recipient_add(request: HttpRequest, project_id: str) -> HttpResponse:
    tenant = tenant_or_404(request, project_id)
    form = RecipientForm(request.POST)
    if form.is_valid():
        address, chosen = form.recipient
        try:
            webhooks.recipient_add(
                tenant=tenant, address=address, chosen=chosen, actor=audit.Actor.dashboard(request.user)
            )
        except services.ServiceError as exc:
            add_problems(form, [exc.problem])
        else:
            return _done(request, tenant, f"{address} now receives this project's e-mail.")
    return _render(request, _context(request, tenant, recipient_form=form))


@require_POST
@login_required
@vary_on_headers("HX-Request")
def recipient_remove(request: HttpRequest, project_id: str, recipient_id: str) -> HttpResponse:
    tenant = tenant_or_404(request, project_id)
    recipient = selectors.recipient_for_tenant(tenant=tenant, recipient_id=recipient_id)
    if recipient is None:
        raise Http404("No such recipient in this project.")
    webhooks.recipient_remove(recipient=recipient, actor=audit.Actor.dashboard(request.user))
    return _done(request, tenant, f"{recipient.address} removed: it receives no more e-mail.")
