"""Helpers of the dashboard's view tests: URLs, the form data a person sends, and reading the page."""

import html
import re

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


def verdict_of(body: str) -> tuple[str, str]:
    """The preview's verdict: its kind (``ok``, ``refused``, ``pending``) and its sentence."""
    kind, text = re.search(r'<p class="verdict (\w+)">([^<]*)</p>', body).groups()
    return kind, html.unescape(text)


def error_items(body: str, error_id: str) -> list[str]:
    """The messages listed at a field (the ``<ul class="field-errors">`` with this id)."""
    block = re.search(rf'<ul class="field-errors" id="{error_id}">(.*?)</ul>', body, re.S)[1]
    return [html.unescape(item) for item in re.findall(r"<li>(.*?)</li>", block)]


def input_tag(body: str, element_id: str) -> str:
    """The ``<input>`` element with this id, as written in the page."""
    return re.search(rf'<input [^>]*id="{element_id}"[^>]*>', body)[0]
