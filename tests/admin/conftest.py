"""Fixtures of the admin site's tests: staff clients, policies made through the services, and
the POST data a browser sends from an admin page."""

import pytest
from django.contrib.auth.models import Permission
from django.forms import CheckboxInput
from django.urls import reverse

from policies import services
from policies.domain import parse
from tests.helpers.factories import UserFactory, valid_payload


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


def staff_with(*codenames: str, username: str = "clerk"):
    """Return a staff user (not a superuser) holding exactly these permissions of the app."""
    user = UserFactory(username=username, is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="policies", codename__in=codenames)
    )
    return user


@pytest.fixture
def actor(user, token):
    """Changes made by the API user ``alice`` with her token, as the API would make them."""
    return services.Actor.api(user, user.api_tokens.get())


def make_policy(tenant, name="policy_01", *, actor=None, tags=(), **scheduled):
    """Create a policy through the core and the service, as an entrance would."""
    payload = valid_payload(backup_policy_name=name, tags=[{"key": k, "value": v} for k, v in tags])
    if scheduled:
        payload["scheduled_policy"] = scheduled
    result = parse.parse_policy(payload)
    assert result.ok, result.problems
    return services.policy_create(tenant=tenant, spec=result.spec, actor=actor or services.Actor.command())


def admin_url(model: str, view: str, *args) -> str:
    return reverse(f"admin:policies_{model}_{view}", args=args)


def page_data(response) -> dict:
    """Return what a browser would POST back from an admin add or change page, unchanged."""
    data: dict = {}

    def put(form, prefix_names: bool) -> None:
        for name, field in form.fields.items():
            key = form.add_prefix(name) if prefix_names else name
            value = form[name].value()
            if isinstance(field.widget, CheckboxInput):
                if value:
                    data[key] = "on"
            else:
                data[key] = "" if value is None else value

    put(response.context["adminform"].form, False)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        put(formset.management_form, True)
        for form in formset.forms:
            put(form, True)
    return data


def set_tags(data: dict, rows: list[tuple[str, str]]) -> dict:
    """Put ``rows`` in the tag inline after its existing rows (new rows, as "Add another" does)."""
    start = int(data["tags-INITIAL_FORMS"])
    for index in range(start, int(data["tags-TOTAL_FORMS"])):
        for name in ("key", "value", "id", "policy", "DELETE"):
            data.pop(f"tags-{index}-{name}", None)
    for offset, (key, value) in enumerate(rows):
        data[f"tags-{start + offset}-key"] = key
        data[f"tags-{start + offset}-value"] = value
    data["tags-TOTAL_FORMS"] = str(start + len(rows))
    return data
