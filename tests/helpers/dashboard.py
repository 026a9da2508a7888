"""Helpers of the dashboard's view tests: URLs, and the form data a person sends."""

from django.urls import reverse

HTMX = {"HTTP_HX_REQUEST": "true"}


def url(name, tenant=None):
    if tenant is None:
        return reverse(f"policies:{name}")
    return reverse(f"policies:{name}", kwargs={"project_id": getattr(tenant, "project_id", tenant)})


def form_data(**overrides):
    """Return POST data of the create form: local Monday 00:00, 02:00, 04:00 at UTC+02:00."""
    data = {
        "name": "nightly",
        "time_zone": "UTC+02:00",
        "schedule_kind": "week",
        "week_days": ["MON"],
        # Values are UTC hours; these are the boxes labelled 00:00, 02:00 and 04:00 at UTC+02:00.
        "hours": ["22", "0", "2"],
        "grid_offset": "120",
        "frequency": "",
        "retention_kind": "num",
        "retention_num": "7",
        "retention_day": "",
        "status": "ON",
        "tag_key": ["", "", ""],
        "tag_value": ["", "", ""],
    }
    data.update(overrides)
    return data
