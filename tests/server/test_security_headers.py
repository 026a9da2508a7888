"""The headers a current scanner looks for, on every kind of answer; no-store on private ones."""

import json
import re
from http import HTTPStatus

import pytest

from config.security_headers import CONTENT_SECURITY_POLICY
from config.settings import BASE_DIR
from tests.helpers.api import ContractClient, create_url
from tests.helpers.factories import UserFactory

pytestmark = pytest.mark.django_db

TEMPLATES = BASE_DIR / "templates"


def assert_scanner_headers(response) -> None:
    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]


def test_the_policy_allows_no_inline_code_no_eval_and_no_framing():
    directives = dict(part.split(" ", 1) for part in CONTENT_SECURITY_POLICY.split("; "))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY


def test_a_signed_in_dashboard_page_has_the_headers_and_is_never_stored(client, user, tenant):
    client.force_login(user)
    response = client.get(f"/p/{tenant.project_id}/")
    assert response.status_code == HTTPStatus.OK
    assert_scanner_headers(response)
    assert "no-store" in response["Cache-Control"]


def test_an_htmx_partial_is_never_stored_either(client, user, tenant):
    client.force_login(user)
    response = client.post(f"/p/{tenant.project_id}/preview", {}, HTTP_HX_REQUEST="true")
    assert response.status_code == HTTPStatus.OK
    assert "no-store" in response["Cache-Control"]


def test_an_admin_page_has_the_headers_and_is_never_stored(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    response = client.get("/admin/policies/backuppolicy/")
    assert response.status_code == HTTPStatus.OK
    assert_scanner_headers(response)
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("path", ["/api/docs/", "/api/docs/?script=", "/api/schema/"])
def test_the_api_docs_have_the_same_policy_without_an_exception(client, path):
    response = client.get(path)
    assert response.status_code == HTTPStatus.OK
    assert_scanner_headers(response)


def test_the_api_docs_page_loads_its_start_up_script_as_a_file(client):
    page = client.get("/api/docs/").content.decode()
    assert '<script src="/api/docs/?script="></script>' in page
    assert "<style" not in page
    assert re.search(r"<script>", page) is None


def test_an_api_answer_has_the_headers_and_is_never_stored(api, tenant):
    response = api.request("GET", create_url(tenant))
    assert response.status_code == HTTPStatus.OK
    assert_scanner_headers(response)
    assert response["Cache-Control"] == "no-store"


def test_an_api_refusal_has_the_headers_and_is_never_stored(tenant):
    response = ContractClient(None).request("GET", create_url(tenant))
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert_scanner_headers(response)
    assert response["Cache-Control"] == "no-store"


def test_a_static_file_keeps_its_own_caching(client):
    response = client.get("/static/css/console.css")
    assert response.status_code == HTTPStatus.OK
    assert "no-store" not in response["Cache-Control"]


def test_htmx_is_told_not_to_add_its_own_style_element_nor_copy_style_attributes(client):
    page = client.get("/accounts/login/").content.decode()
    config = re.search(r"""<meta name="htmx-config" content='([^']*)'>""", page)
    assert config is not None
    # Settling a style attribute re-applies it with setAttribute, which the policy refuses.
    assert json.loads(config.group(1)) == {
        "includeIndicatorStyles": False,
        "attributesToSettle": ["class", "width", "height"],
    }


@pytest.mark.parametrize(
    "template", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: str(p.relative_to(TEMPLATES))
)
def test_no_template_has_inline_script_style_or_event_handlers(template):
    text = template.read_text()
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) is None, "an inline <script>"
    assert "<style" not in text
    assert re.search(r"\sstyle\s*=", text) is None, "a style= attribute"
    assert re.search(r"\son[a-z]+\s*=", text) is None, "an on...= event handler"
