"""The edit form: the create form pre-filled from storage, saved as a modify through the services."""

import html
import json
import re
from datetime import UTC, datetime
from http import HTTPStatus

import pytest
from django.urls import reverse

from policies.dashboard.preview import preview_of
from policies.domain.contract import codes, parse, specs
from policies.models import AuditEvent, BackupPolicy
from tests.helpers.dashboard import HTMX, form_data, url
from tests.helpers.factories import MembershipFactory, TenantFactory
from tests.helpers.payloads import founding_payload, valid_payload
from tests.helpers.policies import make_policy

pytestmark = pytest.mark.django_db

# The contract's founding example, as the create form's helpers fill it in (see form_data).
NIGHTLY = founding_payload(backup_policy_name="nightly", tags=[{"key": "env", "value": "prod"}])


def policy_url(name, policy):
    return reverse(
        f"policies:{name}", kwargs={"project_id": policy.tenant.project_id, "policy_id": policy.pk}
    )


def edit_data(**overrides):
    """Return the edit form's POST data for NIGHTLY as the page shows it, with ``overrides``."""
    return form_data(**{"tag_key": ["env"], "tag_value": ["prod"], **overrides})


@pytest.fixture
def nightly(tenant):
    return make_policy(tenant, payload=NIGHTLY)


def stored(policy) -> specs.PolicySpec:
    return BackupPolicy.objects.get(pk=policy.pk).to_spec()


def dashboard_events():
    return list(AuditEvent.objects.filter(entrance=AuditEvent.Entrance.DASHBOARD))


# --- The page --------------------------------------------------------------------------------


def test_the_edit_page_is_the_create_form_filled_in_with_the_stored_policy(member, nightly):
    response = member.get(policy_url("policy_edit", nightly))
    assert response.status_code == HTTPStatus.OK
    body = response.content.decode()
    assert "<title>Edit “nightly” · Tenant A (tenant-a)</title>" in body
    assert 'Edit backup policy <span class="policy-title">“nightly”</span></h1>' in body
    assert f'method="post" action="{policy_url("policy_edit", nightly)}"' in body
    assert f'hx-post="{policy_url("policy_edit_preview", nightly)}"' in body
    assert 'name="name" id="id_name" value="nightly"' in body
    # The stored offset is picked; the grid is drawn at it, with the stored hours ticked.
    assert 'name="time_zone" value="UTC+02:00"' in body
    assert "Start times, local time at UTC+02:00" in body
    ticked = re.findall(r'value="(\d+)" id="hour-\d+" checked>\s*<label for="hour-\d+">([^<]+)</label>', body)
    assert ticked == [("22", "00:00"), ("0", "02:00"), ("2", "04:00")]
    assert re.findall(r'name="week_days" value="(\w+)" id="day-\w+" checked', body) == ["MON"]
    assert 'name="retention_num" id="id_retention_num" value="7"' in body
    assert 'name="tag_key" id="tag-key-1" value="env"' in body
    assert 'name="tag_value" id="tag-value-1" value="prod"' in body
    assert '<button type="submit" class="primary">Save changes</button>' in body
    assert f'href="{policy_url("policy_delete", nightly)}">Delete policy…</a>' in body
    assert "of 10 policies" not in body  # the quota is about creating


def test_the_prefilled_form_describes_exactly_the_stored_policy(member, nightly):
    form = member.get(policy_url("policy_edit", nightly)).context["form"]
    assert form.is_valid()
    assert form.spec == stored(nightly)
    assert preview_of(form).verdict == "Ready to save: nothing to fix."


def test_a_policy_of_every_n_days_with_retention_days_is_prefilled_as_such(member, tenant):
    payload = valid_payload(
        backup_policy_name="every3",
        scheduled_policy={"start_time": "20:00,21:00", "frequency": 3, "rentention_day": 30, "status": "OFF"},
        time_zone="UTC+08:00",
        tags=[],
    )
    policy = make_policy(tenant, payload=payload)
    response = member.get(policy_url("policy_edit", policy))
    body = response.content.decode()
    assert re.search(r'name="schedule_kind" value="days" id="[^"]+" required checked', body)
    assert 'name="frequency" id="id_frequency" value="3"' in body
    assert re.search(r'name="retention_kind" value="day" id="[^"]+" required checked', body)
    assert 'name="status" value="OFF" id="id_status_1" checked' in body
    assert response.context["form"].spec == stored(policy)


def test_a_stored_fixed_offset_is_explained_as_fixed(member, nightly):
    body = member.get(policy_url("policy_edit", nightly)).content.decode()
    assert "Stored now: the fixed offset <code>UTC+02:00</code>." in body


def test_a_policy_without_time_zone_has_no_offset_note(member, tenant):
    no_zone = {**NIGHTLY["scheduled_policy"], "start_time": "00:00,02:00"}
    policy = make_policy(tenant, payload={**NIGHTLY, "scheduled_policy": no_zone, "time_zone": None})
    body = member.get(policy_url("policy_edit", policy)).content.decode()
    assert re.search(r'<input type="text" name="time_zone"(?![^>]*value=)[^>]*>', body)
    assert "stored-zone-note" not in body


def test_htmx_gets_only_the_form(member, nightly):
    response = member.get(policy_url("policy_edit", nightly), **HTMX)
    body = response.content.decode()
    assert body.lstrip().startswith('<form id="policy-form"')
    assert "<html" not in body
    assert "HX-Request" in response["Vary"]


# --- Saving ----------------------------------------------------------------------------------


def test_a_changed_policy_is_saved_and_the_list_confirms_it(member, tenant, nightly):
    data = edit_data(
        name="nightly_v2",
        hours=["23", "1"],  # the boxes labelled 01:00 and 03:00 at UTC+02:00
        retention_kind="day",
        retention_num="",
        retention_day="30",
        keep_first="on",
    )
    response = member.post(policy_url("policy_edit", nightly), data, follow=True)
    assert response.redirect_chain == [(url("policy_list", tenant), HTTPStatus.FOUND)]
    assert "Policy “nightly_v2” saved." in response.content.decode()
    nightly.refresh_from_db()
    assert (nightly.name, nightly.start_time, nightly.week_frequency, nightly.time_zone) == (
        "nightly_v2",
        "23:00,01:00",
        "MON",
        "UTC+02:00",
    )
    assert (nightly.retention_num, nightly.retention_day, nightly.keep_first_of_month) == (None, 30, True)
    [event] = dashboard_events()
    assert (event.action, event.username, event.policy_id) == ("change", "alice", nightly.pk)
    assert event.changes["scheduled_policy.start_time"] == {
        "before": "22:00,00:00,02:00",
        "after": "23:00,01:00",
    }


def test_submitting_the_form_unchanged_writes_nothing_and_says_so(member, nightly):
    before = BackupPolicy.objects.get(pk=nightly.pk).updated_at
    response = member.post(policy_url("policy_edit", nightly), edit_data(), follow=True)
    assert "Policy “nightly” is unchanged: nothing to save." in response.content.decode()
    assert BackupPolicy.objects.get(pk=nightly.pk).updated_at == before
    assert dashboard_events() == []


def seen_of(body: str) -> str:
    """The edit page's record of the stored policy it was drawn from."""
    return re.search(r'<input type="hidden" name="seen" value="([0-9a-f]+)">', body)[1]


def test_a_save_from_a_page_opened_before_another_change_is_held_and_keeps_both(member, tenant, nightly):
    # Two tabs open the edit page; the second saves a new retention, then the first adds a day.
    seen = seen_of(member.get(policy_url("policy_edit", nightly)).content.decode())
    other_tab = member.post(policy_url("policy_edit", nightly), edit_data(seen=seen, retention_num="10"))
    assert other_tab.status_code == HTTPStatus.FOUND
    assert stored(nightly).retention_num == 10

    response = member.post(policy_url("policy_edit", nightly), edit_data(seen=seen, week_days=["MON", "TUE"]))

    assert response.status_code == HTTPStatus.OK  # not saved: the page again, with the person's edits
    body = html.unescape(response.content.decode())
    assert "changed since you opened this page" in body
    assert 'id="day-TUE" checked' in body
    assert stored(nightly).retention_num == 10  # the other tab's change is not undone
    assert stored(nightly).week_frequency == ("MON",)
    # The page now records the policy as stored: saving again is a choice made knowing it.
    again = member.post(
        policy_url("policy_edit", nightly), edit_data(seen=seen_of(body), week_days=["MON", "TUE"])
    )
    assert again.status_code == HTTPStatus.FOUND
    assert stored(nightly).week_frequency == ("MON", "TUE")


def test_a_save_from_a_page_of_the_policy_as_stored_goes_through(member, nightly):
    seen = seen_of(member.get(policy_url("policy_edit", nightly)).content.decode())
    response = member.post(policy_url("policy_edit", nightly), edit_data(seen=seen, retention_num="9"))
    assert response.status_code == HTTPStatus.FOUND
    assert stored(nightly).retention_num == 9


def test_a_weekday_policy_becomes_every_n_days_when_its_times_share_a_utc_day(member, nightly):
    # Local 04:00 and 05:00 at UTC+02:00 are 02:00 and 03:00 UTC, both on the local day: no shift.
    data = edit_data(schedule_kind="days", frequency="3", hours=["2", "3"])
    member.post(policy_url("policy_edit", nightly), data)
    spec = stored(nightly)
    assert (spec.start_time, spec.frequency, spec.week_frequency) == ("02:00,03:00", 3, None)


def test_switching_to_every_n_days_with_a_day_shift_is_refused_at_the_schedule(member, nightly):
    before = stored(nightly)
    response = member.post(policy_url("policy_edit", nightly), edit_data(schedule_kind="days", frequency="1"))
    assert response.status_code == HTTPStatus.OK
    form = response.context["form"]
    assert [p.code for p in form.problems] == [codes.TIME_ZONE]
    assert form.errors["schedule_kind"][0].startswith("At UTC+02:00 these start times fall on two UTC days")
    assert "The policy was not saved" in response.content.decode()
    assert stored(nightly) == before
    assert dashboard_events() == []


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"name": ""}, "name", codes.NAME_LENGTH),
        ({"name": "default_nightly"}, "name", codes.NAME_CHARS),
        ({"hours": []}, "hours", codes.START_TIME),
        ({"week_days": []}, "week_days", codes.FREQUENCY),
        ({"retention_num": "15"}, "retention_num", codes.RETENTION),
        ({"time_zone": "UTC+05:15"}, "time_zone", codes.TIME_ZONE),
        ({"status": "MAYBE"}, "status", codes.STATUS),
    ],
    ids=["no-name", "default-name", "no-hours", "no-days", "retention", "offset", "status"],
)
def test_a_refused_change_is_shown_at_its_field_and_nothing_is_saved(member, nightly, overrides, field, code):
    before = stored(nightly)
    response = member.post(policy_url("policy_edit", nightly), edit_data(tag_key=["ops"], **overrides))
    assert response.status_code == HTTPStatus.OK
    form = response.context["form"]
    assert [p.code for p in form.problems] == [code]
    assert form.errors[field]
    assert stored(nightly) == before  # the tag change in the same submit is not saved either
    assert dashboard_events() == []


def test_a_rename_onto_another_policys_name_is_refused_at_the_name_field(member, tenant, nightly):
    make_policy(tenant, payload=valid_payload(backup_policy_name="Weekly", tags=[]))
    before = stored(nightly)
    data = edit_data(name="WEEKLY", tag_key=["env", "team"], tag_value=["prod", "ops"])
    response = member.post(policy_url("policy_edit", nightly), data)
    assert response.status_code == HTTPStatus.OK
    form = response.context["form"]
    assert [p.code for p in form.problems] == [codes.NAME_TAKEN]
    assert form.errors["name"][0].startswith("The project already has a policy named 'Weekly'")
    body = response.content.decode()
    assert 'id="name-errors"' in body
    assert "AutoBackup.0230" in body  # the preview names the contract's code
    # Neither the rename nor the tags of the same submit were stored.
    assert stored(nightly) == before
    assert dashboard_events() == []


def test_a_policy_may_change_the_case_of_its_own_name(member, nightly):
    member.post(policy_url("policy_edit", nightly), edit_data(name="Nightly"))
    assert stored(nightly).name == "Nightly"


def test_no_time_zone_on_a_policy_that_has_one_stores_utc_plus_0(member, nightly):
    # A modify cannot remove time_zone (absent or null keeps it): the form sends the same offset.
    data = edit_data(time_zone="", grid_offset="0", hours=["0", "2", "4"])
    preview = member.post(policy_url("policy_edit_preview", nightly), data, **HTMX).content.decode()
    assert "<dd>UTC+00:00 (a policy&#x27;s time zone cannot be removed, only changed" in preview
    member.post(policy_url("policy_edit", nightly), data)
    spec = stored(nightly)
    assert (spec.time_zone, spec.start_time) == ("UTC+00:00", "00:00,02:00,04:00")


def test_a_zone_changed_under_a_grid_not_redrawn_is_held_for_a_second_look(member, nightly):
    before = stored(nightly)
    response = member.post(policy_url("policy_edit", nightly), edit_data(time_zone="UTC+01:00"))
    form = response.context["form"]
    assert form.errors["hours"] == [
        "The time zone changed: the start times are now shown at UTC+01:00; check them and press "
        "Save changes again."
    ]
    assert stored(nightly) == before


def test_an_htmx_submission_is_redirected_by_htmx(member, tenant, nightly):
    response = member.post(policy_url("policy_edit", nightly), edit_data(name="renamed"), **HTMX)
    assert response["HX-Redirect"] == url("policy_list", tenant)
    assert stored(nightly).name == "renamed"


def test_the_preview_button_saves_nothing(member, nightly):
    before = stored(nightly)
    response = member.post(policy_url("policy_edit", nightly), edit_data(name="renamed", preview="1"))
    assert response.status_code == HTTPStatus.OK
    assert '"backup_policy_name": "renamed"' in html.unescape(response.content.decode())
    assert stored(nightly) == before


# --- The live preview of an edit ---------------------------------------------------------------


def test_the_edit_preview_lists_what_saving_would_change(member, nightly):
    data = edit_data(hours=["22", "0"], retention_num="9")
    response = member.post(policy_url("policy_edit_preview", nightly), data, **HTMX)
    assert response.status_code == HTTPStatus.OK
    assert "HX-Request" in response["Vary"]
    body = html.unescape(response.content.decode())
    assert body.lstrip().startswith('<section id="utc-preview"')
    changes = re.findall(r"<dt>([^<]+)</dt><dd><del>([^<]*)</del>.*?<ins>([^<]*)</ins></dd>", body)
    assert changes == [  # in the form's words; the JSON paths are the audit trail's
        ("Start times in UTC", "22:00,00:00,02:00", "22:00,00:00"),
        ("Backups to keep", "7", "9"),
    ]
    assert stored(nightly).start_time == "22:00,00:00,02:00"


def test_the_edit_preview_of_the_unchanged_form_says_nothing_changes_yet(member, nightly):
    body = member.post(policy_url("policy_edit_preview", nightly), edit_data(), **HTMX).content.decode()
    assert "Changes to save" in body
    assert "None yet: the form shows the policy as stored." in body


def test_the_edit_preview_shows_the_modify_body_without_tags(member, nightly):
    body = member.post(policy_url("policy_edit_preview", nightly), edit_data(), **HTMX).content.decode()
    shown = json.loads(html.unescape(re.search(r'id="api-body"[^>]*><code>(.*?)</code>', body, re.S)[1]))
    assert "tags" not in shown
    assert parse.parse_policy_update(shown, stored(nightly)).spec == stored(nightly)


def test_without_htmx_the_edit_preview_answers_the_whole_edit_page(member, nightly):
    body = member.post(policy_url("policy_edit_preview", nightly), edit_data(name="x2")).content.decode()
    assert "<html" in body
    assert "<title>Edit “nightly”" in body
    assert stored(nightly).name == "nightly"


# --- Who may edit ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "method"), [("policy_edit", "get"), ("policy_edit", "post"), ("policy_edit_preview", "post")]
)
def test_anonymous_is_sent_to_sign_in(client, nightly, name, method):
    target = policy_url(name, nightly)
    response = getattr(client, method)(target, edit_data(name="x") if method == "post" else None)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == f"/accounts/login/?next={target}"
    assert stored(nightly).name == "nightly"


@pytest.mark.parametrize(
    ("name", "method"), [("policy_edit", "get"), ("policy_edit", "post"), ("policy_edit_preview", "post")]
)
@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
def test_another_tenants_policy_is_not_found_and_not_changed(member, other_tenant, name, method, headers):
    theirs = make_policy(other_tenant, payload=NIGHTLY)
    before = stored(theirs)
    data = edit_data(name="taken_over") if method == "post" else None
    response = getattr(member, method)(policy_url(name, theirs), data, **headers)
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert stored(theirs) == before


def test_another_tenants_policy_is_not_found_under_ones_own_project_either(member, user, tenant):
    # The user is a member of both projects: the policy ID must still belong to the project in the URL.
    second = TenantFactory(project_id="tenant-c")
    MembershipFactory(user=user, tenant=second)
    theirs = make_policy(second, payload=NIGHTLY)
    target = reverse("policies:policy_edit", kwargs={"project_id": tenant.project_id, "policy_id": theirs.pk})
    assert member.get(target).status_code == HTTPStatus.NOT_FOUND
    assert member.post(target, edit_data(name="moved")).status_code == HTTPStatus.NOT_FOUND
    assert stored(theirs).name == "nightly"


@pytest.mark.parametrize("policy_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_an_unknown_or_malformed_policy_id_is_not_found(member, tenant, policy_id):
    target = reverse("policies:policy_edit", kwargs={"project_id": tenant.project_id, "policy_id": policy_id})
    assert member.get(target).status_code == HTTPStatus.NOT_FOUND


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("policy_edit", "put"),
        ("policy_edit", "delete"),
        ("policy_edit_preview", "get"),
        ("policy_edit_preview", "put"),
    ],
)
@pytest.mark.parametrize("signed_in", [True, False], ids=["member", "anonymous"])
def test_a_wrong_method_is_refused(client, user, nightly, name, method, signed_in):
    if signed_in:
        client.force_login(user)
    assert getattr(client, method)(policy_url(name, nightly)).status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert stored(nightly).name == "nightly"


def test_the_edit_form_needs_its_csrf_token(user, nightly):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    response = strict.post(policy_url("policy_edit", nightly), edit_data(name="forged"))
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert stored(nightly).name == "nightly"


def test_at_the_quota_a_policy_can_still_be_edited(member, tenant, make_policies):
    first, *_ = make_policies(10)
    body = member.get(policy_url("policy_edit", first)).content.decode()
    assert '<button type="submit" class="primary">Save changes</button>' in body
    member.post(
        policy_url("policy_edit", first),
        form_data(
            name="renamed_at_quota",
            time_zone="UTC+08:00",
            hours=["12"],
            grid_offset="480",
            week_days=["SUN", "WED"],
            retention_kind="day",
            retention_num="",
            retention_day="30",
            keep_first="on",
            tag_key=["key"],
            tag_value=["value"],
        ),
    )
    assert stored(first).name == "renamed_at_quota"


def test_the_edit_page_of_a_policy_whose_re_base_is_due_says_its_offset_is_the_stored_one(
    member, tenant, monkeypatch
):
    # Made in summer (UTC+02:00), opened in winter: saving it unchanged keeps the stored offset.
    summer, winter = datetime(2026, 7, 14, 10, tzinfo=UTC), datetime(2026, 1, 13, 10, tzinfo=UTC)
    schedule = {"start_time": "01:00", "week_frequency": ["MON"], "rentention_num": 7, "status": "ON"}
    policy = make_policy(
        tenant,
        now=summer,
        payload={"backup_policy_name": "b", "time_zone_name": "Europe/Berlin", "scheduled_policy": schedule},
    )
    monkeypatch.setattr("django.utils.timezone.now", lambda: winter)
    ids = {"project_id": tenant.project_id, "policy_id": policy.pk}
    body = html.unescape(member.get(reverse("policies:policy_edit", kwargs=ids)).content.decode())
    assert "UTC+02:00 (the offset stored with the policy;" in body
    assert "the offset of Europe/Berlin today" not in body
