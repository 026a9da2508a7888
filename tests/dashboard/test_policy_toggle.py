"""The ON/OFF switch of each list row: a modify of the status through the core and the services."""

import html
import re
from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse

from policies.domain.contract import codes
from policies.models import AuditEvent, BackupPolicy
from tests.helpers.dashboard import HTMX, url
from tests.helpers.factories import MembershipFactory, TenantFactory
from tests.helpers.payloads import valid_payload
from tests.helpers.policies import make_policy

pytestmark = pytest.mark.django_db


def toggle_url(policy):
    return reverse(
        "policies:policy_toggle", kwargs={"project_id": policy.tenant.project_id, "policy_id": policy.pk}
    )


@pytest.fixture
def nightly(tenant):
    return make_policy(tenant, payload=valid_payload(backup_policy_name="nightly"))


def status(policy) -> str:
    return BackupPolicy.objects.get(pk=policy.pk).status


def switch_of(body: str, policy) -> str:
    """Return the switch button's opening tag for the policy."""
    return re.search(rf'<button type="submit" class="switch" id="switch-{policy.pk}"[^>]*>', body)[0]


def test_each_row_has_a_switch_that_posts_the_status_it_turns_to(member, tenant, nightly):
    body = member.get(url("policy_list", tenant)).content.decode()
    assert f'<form class="switch-form" method="post" action="{toggle_url(nightly)}"' in body
    assert f'hx-post="{toggle_url(nightly)}" hx-target="closest tr" hx-swap="outerHTML"' in body
    assert 'role="switch" aria-checked="true"' in switch_of(body, nightly)
    assert '<input type="hidden" name="status" value="OFF">' in body
    assert '<span class="visually-hidden">Runs on schedule: nightly</span>' in body


def test_htmx_turns_the_policy_off_and_gets_only_its_row_back(member, nightly):
    response = member.post(toggle_url(nightly), {"status": "OFF"}, **HTMX)
    assert response.status_code == HTTPStatus.OK
    assert "HX-Request" in response["Vary"]
    body = response.content.decode()
    assert body.lstrip().startswith(f'<tr id="policy-{nightly.pk}">')
    assert "<html" not in body
    assert body.count("<tr") == 1
    assert 'aria-checked="false"' in switch_of(body, nightly)
    assert '<input type="hidden" name="status" value="ON">' in body
    # The notice goes where every confirmation goes (a delete's too): the page's messages, out of band.
    notice = re.search(r'<div id="messages"[^>]*>.*?<li class="message success">(.*?)</li>', body, re.S)
    assert 'hx-swap-oob="true"' in notice[0]
    assert html.unescape(notice[1]) == "Policy “nightly” is off: it does not run until it is turned on."
    assert status(nightly) == "OFF"


def test_the_htmx_answer_replaces_the_page_s_messages_so_an_earlier_save_s_banner_goes(
    member, tenant, nightly
):
    # The page's messages region (base.html) is there even without messages, for this swap to find.
    page = member.get(url("policy_list", tenant)).content.decode()
    assert re.search(r'<div id="messages" role="status">\s*</div>', page)
    for sent, kind in (({"status": "OFF"}, "success"), ({"status": "PAUSED"}, "error")):
        body = member.post(toggle_url(nightly), sent, **HTMX).content.decode()
        [region] = re.findall(r'<div id="messages"([^>]*)><ul class="messages">(.*?)</ul></div>', body, re.S)
        assert region[0] == ' role="status" hx-swap-oob="true"'
        assert re.fullmatch(rf'<li class="message {kind}">[^<]+</li>', region[1])


def test_the_change_is_an_audited_modify_of_the_status_alone(member, nightly):
    member.post(toggle_url(nightly), {"status": "OFF"}, **HTMX)
    [event] = AuditEvent.objects.filter(entrance="dashboard")
    assert (event.action, event.username) == ("change", "alice")
    assert event.changes == {"scheduled_policy.status": {"before": "ON", "after": "OFF"}}


def test_turning_it_on_again_works_the_same_way(member, nightly):
    member.post(toggle_url(nightly), {"status": "OFF"}, **HTMX)
    body = member.post(toggle_url(nightly), {"status": "ON"}, **HTMX).content.decode()
    assert 'aria-checked="true"' in switch_of(body, nightly)
    assert "is on: it runs on schedule." in body
    assert status(nightly) == "ON"


def test_a_second_submit_of_the_same_switch_does_not_flip_it_back(member, nightly):
    member.post(toggle_url(nightly), {"status": "OFF"}, **HTMX)
    member.post(toggle_url(nightly), {"status": "OFF"}, **HTMX)
    assert status(nightly) == "OFF"
    assert AuditEvent.objects.filter(entrance="dashboard").count() == 1  # the no-op wrote nothing


def test_without_javascript_the_list_comes_back_with_a_message(member, tenant, nightly):
    response = member.post(toggle_url(nightly), {"status": "OFF"}, follow=True)
    assert response.redirect_chain == [(url("policy_list", tenant), HTTPStatus.FOUND)]
    body = response.content.decode()
    assert "Policy “nightly” is off: it does not run until it is turned on." in body
    assert 'aria-checked="false"' in switch_of(body, nightly)
    assert status(nightly) == "OFF"


@pytest.mark.parametrize("sent", [{"status": "PAUSED"}, {"status": "off"}, {}], ids=["word", "lower", "none"])
def test_a_status_the_core_refuses_changes_nothing_and_says_why(member, nightly, sent):
    body = html.unescape(member.post(toggle_url(nightly), sent, **HTMX).content.decode())
    assert 'aria-checked="true"' in switch_of(body, nightly)
    assert 'class="message error"' in body
    assert "Policy “nightly” was not changed. The status " in body  # the form's words, not the API's
    assert "scheduled_policy" not in body
    assert status(nightly) == "ON"
    assert not AuditEvent.objects.filter(entrance="dashboard").exists()


def test_without_javascript_a_refused_status_comes_back_as_an_error_message(member, nightly):
    response = member.post(toggle_url(nightly), {"status": "PAUSED"}, follow=True)
    body = html.unescape(response.content.decode())
    assert '<li class="message error">Policy “nightly” was not changed' in body
    assert codes.STATUS not in body  # the administrator's words, not the API's codes


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
def test_another_tenants_policy_is_not_found_and_not_changed(member, other_tenant, headers):
    theirs = make_policy(other_tenant, payload=valid_payload(backup_policy_name="theirs"))
    response = member.post(toggle_url(theirs), {"status": "OFF"}, **headers)
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert status(theirs) == "ON"


def test_anonymous_is_sent_to_sign_in(client, nightly):
    response = client.post(toggle_url(nightly), {"status": "OFF"})
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == f"/accounts/login/?next={toggle_url(nightly)}"
    assert status(nightly) == "ON"


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_a_wrong_method_is_refused(member, nightly, method):
    assert getattr(member, method)(toggle_url(nightly)).status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert status(nightly) == "ON"


def test_the_switch_needs_the_csrf_token_and_works_with_the_one_on_the_page(user, tenant, nightly):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    assert strict.post(toggle_url(nightly), {"status": "OFF"}, **HTMX).status_code == HTTPStatus.FORBIDDEN
    assert status(nightly) == "ON"
    # With the token the page carries (for htmx, in hx-headers on <body>) the same request passes.
    page = strict.get(url("policy_list", tenant)).content.decode()
    token = re.search(r'hx-headers=\'\{"X-CSRFToken": "([^"]+)"\}\'', page)[1]
    response = strict.post(toggle_url(nightly), {"status": "OFF"}, HTTP_X_CSRFTOKEN=token, **HTMX)
    assert response.status_code == HTTPStatus.OK
    assert status(nightly) == "OFF"


def test_a_policy_of_another_of_ones_projects_is_not_found_under_this_one(member, user, tenant):
    second = TenantFactory(project_id="tenant-c")
    MembershipFactory(user=user, tenant=second)
    theirs = make_policy(second, payload=valid_payload(backup_policy_name="theirs"))
    target = reverse(
        "policies:policy_toggle", kwargs={"project_id": tenant.project_id, "policy_id": theirs.pk}
    )
    assert member.post(target, {"status": "OFF"}, **HTMX).status_code == HTTPStatus.NOT_FOUND
    assert status(theirs) == "ON"


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York", "Australia/Sydney"])
def test_the_switch_turns_a_named_zone_policy_off_and_on(member, tenant, zone):
    # The status change reads the zone at the time of the request, which the view passes in.
    policy = make_policy(
        tenant, payload=valid_payload(backup_policy_name="zoned", time_zone=None, time_zone_name=zone)
    )
    off = member.post(toggle_url(policy), {"status": "OFF"}, **HTMX).content.decode()
    assert "is off: it does not run" in html.unescape(off)
    assert status(policy) == "OFF"
    member.post(toggle_url(policy), {"status": "ON"}, **HTMX)
    assert status(policy) == "ON"


def notice_at_switch(body: str, policy) -> tuple[str, str] | None:
    """The notice drawn beside the switch in the row: its kind (ok, error) and its words."""
    found = re.search(rf'<p class="switch-notice (\w+)" id="switch-notice-{policy.pk}">([^<]*)</p>', body)
    return (found[1], html.unescape(found[2])) if found else None


def test_the_confirmation_appears_at_the_switch_and_the_switch_points_to_it(member, nightly):
    body = member.post(toggle_url(nightly), {"status": "OFF"}, **HTMX).content.decode()
    assert notice_at_switch(body, nightly) == (
        "ok",
        "Policy “nightly” is off: it does not run until it is turned on.",
    )
    assert f'aria-describedby="switch-notice-{nightly.pk}"' in switch_of(body, nightly)


def test_a_refusal_appears_at_the_switch_too(member, nightly):
    body = member.post(toggle_url(nightly), {"status": "PAUSED"}, **HTMX).content.decode()
    kind, words = notice_at_switch(body, nightly)
    assert kind == "error"
    assert words.startswith("Policy “nightly” was not changed.")


def test_the_list_itself_has_no_notice_at_any_switch(member, tenant, nightly):
    assert notice_at_switch(member.get(url("policy_list", tenant)).content.decode(), nightly) is None
