"""Drive the admin site as staff do: URLs, staff users, and the POST data of its pages."""

from http import HTTPStatus

from django.contrib.auth.models import Permission
from django.forms import CheckboxInput
from django.urls import reverse

from tests.helpers.factories import UserFactory


def staff_with(*codenames: str, username: str = "clerk"):
    """Return a staff user (not a superuser) holding exactly these permissions of the app."""
    user = UserFactory(username=username, is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="policies", codename__in=codenames)
    )
    return user


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


def add_data(admin_client, tenant, **fields) -> dict:
    """The add page filled in: local Monday 00:00, 02:00, 04:00 at UTC+02:00, 7 backups kept."""
    data = page_data(admin_client.get(admin_url("backuppolicy", "add")))
    data.update(
        {
            "tenant": str(tenant.pk),
            "name": "nightly",
            "status": "ON",
            "start_time": "22:00,00:00,02:00",
            "time_zone": "UTC+02:00",
            "frequency": "",
            "week_frequency": "MON",
            "retention_num": "7",
            "retention_day": "",
        }
    )
    data.update(fields)
    return data


def errors_at(response, field: str) -> list[str]:
    assert response.status_code == HTTPStatus.OK, "a refused form is drawn again, not a 500"
    return response.context["adminform"].form.errors.get(field, [])
