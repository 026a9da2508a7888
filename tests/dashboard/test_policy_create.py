"""The create form: page, htmx partial, invalid and valid submissions, quota and name conflicts."""

import html
import re
from http import HTTPStatus

import pytest
from django.urls import reverse

from policies.domain import words
from policies.domain.contract import codes
from policies.models import BackupPolicy, PolicyTag
from tests.helpers.dashboard import HTMX, error_items, form_data, url, verdict_of
from tests.helpers.policies import make_policy

pytestmark = pytest.mark.django_db


def _checkbox_labels(body: str, name: str) -> list[str]:
    """Return the labels of the checkboxes called ``name``, in page order."""
    ids = re.findall(rf'<input type="checkbox" name="{name}" value="[^"]*" id="([^"]+)"', body)
    labels = dict(re.findall(r'<label for="([^"]+)">([^<]+)</label>', body))
    return [labels[i] for i in ids]


def test_the_form_page_has_the_controls_the_browser_tests_rely_on(member, tenant):
    response = member.get(url("policy_create", tenant))
    assert response.status_code == HTTPStatus.OK
    body = response.content.decode()
    assert f'method="post" action="{url("policy_create", tenant)}"' in body
    assert f'hx-post="{url("policy_preview", tenant)}"' in body
    assert '<label for="id_name">Name</label>' in body
    assert '<label for="id_time_zone">Time zone</label>' in body
    assert _checkbox_labels(body, "week_days") == list(words.WEEKDAY_NAMES)
    assert _checkbox_labels(body, "hours") == [f"{h:02d}:00" for h in range(24)]
    # The picker: a text box searched through a datalist, named zones and fixed offsets.
    assert re.search(r'<input type="text" name="time_zone"[^>]* list="time-zone-options"', body)
    assert '<option value="UTC+02:00" label="UTC+02:00 (fixed offset)">' in body
    assert re.search(r'<option value="Europe/Berlin" label="Berlin, Europe \(UTC\+0[12]:00\)">', body)
    assert '<section id="utc-preview" class="preview" aria-label="UTC preview" aria-live="polite">' in body
    assert '<button type="submit" class="primary">Create policy</button>' in body
    assert '<button type="submit" name="preview" value="1"' in body
    assert body.count('name="tag_key"') == 3 + 1  # three spare rows and the JavaScript template


def test_htmx_gets_only_the_form(member, tenant):
    response = member.get(url("policy_create", tenant), **HTMX)
    body = response.content.decode()
    assert body.lstrip().startswith('<form id="policy-form"')
    assert "<html" not in body
    assert "HX-Request" in response["Vary"]


def test_a_valid_policy_is_saved_and_the_list_confirms_it(member, tenant):
    response = member.post(url("policy_create", tenant), form_data(), follow=True)
    assert response.redirect_chain == [(url("policy_list", tenant), HTTPStatus.FOUND)]
    assert "Policy “nightly” created." in response.content.decode()
    policy = BackupPolicy.objects.get(tenant=tenant)
    assert (policy.name, policy.start_time, policy.week_frequency, policy.time_zone) == (
        "nightly",
        "22:00,00:00,02:00",
        "MON",
        "UTC+02:00",
    )
    assert (policy.retention_num, policy.retention_day, policy.status) == (7, None, "ON")


def test_local_midnight_two_and_four_at_utc_plus_2_on_monday_store_the_contracts_example(member, tenant):
    member.post(url("policy_create", tenant), form_data())
    policy = BackupPolicy.objects.get(tenant=tenant)
    policy.refresh_from_db()
    assert policy.start_time == "22:00,00:00,02:00"


def test_an_htmx_submission_is_redirected_by_htmx(member, tenant):
    response = member.post(url("policy_create", tenant), form_data(), **HTMX)
    assert response["HX-Redirect"] == url("policy_list", tenant)
    assert BackupPolicy.objects.filter(tenant=tenant).count() == 1


def test_a_schedule_of_every_n_days_with_tags_and_retention_days_is_saved(member, tenant):
    data = form_data(
        time_zone="UTC+08:00",
        schedule_kind="days",
        frequency="3",
        hours=["20", "21"],
        grid_offset="480",
        retention_kind="day",
        retention_num="",
        retention_day="30.9",
        keep_first="on",
        status="OFF",
        tag_key=["env", "", "team"],
        tag_value=["prod", "", ""],
    )
    member.post(url("policy_create", tenant), data)
    policy = BackupPolicy.objects.get(tenant=tenant)
    assert (policy.start_time, policy.frequency, policy.week_frequency) == ("20:00,21:00", 3, "")
    assert (policy.retention_num, policy.retention_day, policy.keep_first_of_month) == (None, 30, True)
    assert policy.status == "OFF"
    assert [(t.key, t.value) for t in PolicyTag.objects.filter(policy=policy)] == [
        ("env", "prod"),
        ("team", ""),
    ]


def test_an_invalid_submission_shows_each_problem_at_its_field_and_saves_nothing(member, tenant):
    data = form_data(name="bad name!", week_days=[], retention_num="15", tag_key=["bad key"], tag_value=["x"])
    response = member.post(url("policy_create", tenant), data)
    assert response.status_code == HTTPStatus.OK
    form = response.context["form"]
    assert [p.code for p in form.problems] == [
        codes.NAME_CHARS,
        codes.FREQUENCY,
        codes.RETENTION,
        codes.TAG,
    ]
    # In the form's words, chosen by (field, code); the core's detail follows a subject.
    assert form.errors["name"][0].startswith("The name contains a space")
    assert form.errors["week_days"] == ["Tick at least one day."]
    assert form.errors["retention_num"] == ["Enter how many backups to keep: a whole number from 2 to 14."]
    assert form.tag_rows[0].key_errors[0].startswith("The key 'bad key' ")
    body = response.content.decode()
    assert 'id="name-errors"' in body
    assert 'id="tag-errors-1"' in body
    assert "The policy was not saved" in body
    assert not BackupPolicy.objects.exists()


def test_a_day_shift_with_every_n_days_asks_for_days_of_the_week(member, tenant):
    response = member.post(url("policy_create", tenant), form_data(schedule_kind="days", frequency="1"))
    form = response.context["form"]
    assert [p.code for p in form.problems] == [codes.TIME_ZONE]
    message = form.errors["schedule_kind"][0]
    assert message.startswith("At UTC+02:00 these start times fall on two UTC days")
    assert "(local 00:00 is 22:00 UTC the day before)" in message
    assert message.endswith("Choose “Days of the week” and tick the local days instead.")
    assert not BackupPolicy.objects.exists()


def test_a_blank_form_says_what_is_required(member, tenant):
    data = form_data(name="", hours=[], week_days=[], retention_num="", tag_key=[], tag_value=[])
    form = member.post(url("policy_create", tenant), data).context["form"]
    assert {p.code for p in form.problems} == {
        codes.NAME_LENGTH,
        codes.START_TIME,
        codes.FREQUENCY,
        codes.RETENTION,
    }
    assert form.errors["name"] == ["Enter a name of 1 to 64 characters."]
    assert form.errors["hours"] == ["Tick at least one start time."]
    assert form.errors["week_days"] == ["Tick at least one day."]


def test_preview_button_shows_the_preview_and_saves_nothing(member, tenant):
    response = member.post(url("policy_create", tenant), form_data(preview="1"))
    assert response.status_code == HTTPStatus.OK
    body = response.content.decode()
    assert "<code>22:00,00:00,02:00</code>" in body
    assert "Mon 00:00 local = Sun 22:00 UTC" in body
    assert not BackupPolicy.objects.exists()


def test_a_name_in_use_ignoring_case_is_refused_at_the_name(member, tenant):
    member.post(url("policy_create", tenant), form_data(name="Nightly"))
    response = member.post(url("policy_create", tenant), form_data(name="NIGHTLY"))
    assert response.status_code == HTTPStatus.OK
    form = response.context["form"]
    assert [p.code for p in form.problems] == [codes.NAME_TAKEN]
    assert form.errors["name"][0].startswith("The project already has a policy named")
    assert BackupPolicy.objects.filter(tenant=tenant).count() == 1


def test_the_eleventh_policy_is_refused_with_the_reason(member, tenant, make_policies):
    make_policies(10)
    response = member.post(url("policy_create", tenant), form_data())
    assert response.status_code == HTTPStatus.OK
    form = response.context["form"]
    assert [p.code for p in form.problems] == [codes.QUOTA]
    body = response.content.decode()
    assert "already holds 10 backup policies" in body
    assert "10 of 10 policies" in body
    assert BackupPolicy.objects.filter(tenant=tenant).count() == 10


def test_at_the_quota_the_form_says_so_and_disables_create(member, tenant, make_policies):
    make_policies(10)
    body = member.get(url("policy_create", tenant)).content.decode()
    assert "10 of 10 policies: the project holds the most it may" in body
    assert (
        '<button type="submit" class="primary" disabled aria-describedby="quota">Create policy</button>'
        in body
    )


def test_a_named_zone_stores_its_offset_of_today(member, tenant, monkeypatch):
    from datetime import UTC, datetime

    monkeypatch.setattr("django.utils.timezone.now", lambda: datetime(2025, 7, 1, tzinfo=UTC))
    data = form_data(time_zone="Europe/Berlin", grid_offset="120")  # Berlin is at UTC+02:00 in July
    member.post(url("policy_create", tenant), data)
    policy = BackupPolicy.objects.get(tenant=tenant)
    assert (policy.time_zone, policy.start_time) == ("UTC+02:00", "22:00,00:00,02:00")


def test_an_offset_the_contract_refuses_is_refused_at_the_time_zone(member, tenant):
    response = member.post(url("policy_create", tenant), form_data(time_zone="UTC+05:15"))
    form = response.context["form"]
    assert [p.code for p in form.problems] == [codes.TIME_ZONE]
    assert "minutes 15" in form.errors["time_zone"][0]
    assert 'value="UTC+05:15"' in response.content.decode()  # what was sent stays in the box


@pytest.mark.parametrize(
    ("typed", "grid", "stored"), [("+02:00", "120", "UTC+02:00"), (" -03:00 ", "-180", "UTC-03:00")]
)
def test_an_offset_typed_without_utc_as_the_help_shows_is_that_offset(member, tenant, typed, grid, stored):
    # The box's help offers "+05:30" as something to type; without the picker it is sent as typed.
    response = member.post(url("policy_create", tenant), form_data(time_zone=typed, grid_offset=grid))
    assert response.status_code == HTTPStatus.FOUND
    assert BackupPolicy.objects.get(tenant=tenant).time_zone == stored


def test_after_a_refusal_the_ticks_and_tag_rows_are_kept_with_spare_rows(member, tenant):
    data = form_data(name="", tag_key=["env"], tag_value=["prod"])
    body = member.post(url("policy_create", tenant), data).content.decode()
    assert 'value="22" id="hour-22" checked' in body
    assert 'id="day-MON" checked' in body
    assert 'name="tag_key" id="tag-key-1" value="env"' in body
    assert body.count('name="tag_key"') == 1 + 2 + 1  # the filled row, two spare, the template


def test_create_policy_is_the_first_submit_button_and_preview_still_posts_its_flag(member, tenant):
    body = member.get(url("policy_create", tenant)).content.decode()
    buttons = re.findall(r'<button type="submit"[^>]*>([^<]+)</button>', body)
    assert buttons[-2:] == ["Create policy", "Preview"]  # after the top bar's "Sign out"
    assert '<button type="submit" name="preview" value="1" class="secondary">Preview</button>' in body


def test_two_messages_at_the_hour_grid_are_separate_items(member, tenant):
    # At UTC+05:30 the local times ticked at UTC+02:00 are no full UTC hour: they are unticked
    # (one message), and then no start time is left (another).
    moved = form_data(time_zone="UTC+05:30", grid_offset="120", preview="1")
    body = member.post(url("policy_create", tenant), moved).content.decode()
    items = error_items(body, "hours-errors")
    assert len(items) == 2
    assert items[0].startswith("Local 00:00, 02:00, 04:00 is no full UTC hour at UTC+05:30")
    assert items[1] == "Tick at least one start time."
    # Whitespace between the items: a description read aloud keeps the sentences apart.
    assert re.search(r"</li>\s+<li>", body)
    assert 'id="hour-grid" class="hour-grid" aria-describedby="hours-errors"' in body


def test_two_messages_at_the_name_are_separate_items(member, tenant):
    body = member.post(url("policy_create", tenant), form_data(name="a!" * 40)).content.decode()
    items = error_items(body, "name-errors")
    assert items[0] == "The name is 80 characters long; shorten it to 64 at most."
    assert items[1].startswith("The name contains '!'")


def test_a_zone_changed_under_the_ticks_is_not_saved_but_shown_again(member, tenant):
    # The grid was drawn at UTC+02:00 (local 00:00, 02:00, 04:00 ticked); the zone is now +01:00.
    moved = form_data(time_zone="UTC+01:00", grid_offset="120")
    response = member.post(url("policy_create", tenant), moved)
    assert response.status_code == HTTPStatus.OK
    assert not BackupPolicy.objects.exists()
    body = response.content.decode()
    assert error_items(body, "hours-errors") == [
        "The time zone changed: the start times are now shown at UTC+01:00; check them and press "
        "Create policy again."
    ]
    assert "<legend>Start times, local time at UTC+01:00</legend>" in body
    assert '<input type="hidden" name="grid_offset" value="60">' in body
    assert re.search(r'value="23" id="hour-23" checked>\s*<label for="hour-23">00:00</label>', body)
    assert verdict_of(body)[0] == "refused"


def test_pressing_create_again_after_the_redrawn_grid_saves(member, tenant):
    member.post(url("policy_create", tenant), form_data(time_zone="UTC+01:00", grid_offset="120"))
    again = form_data(time_zone="UTC+01:00", grid_offset="60", hours=["23", "1", "3"])
    member.post(url("policy_create", tenant), again)
    policy = BackupPolicy.objects.get(tenant=tenant)
    assert (policy.start_time, policy.time_zone) == ("23:00,01:00,03:00", "UTC+01:00")


def test_an_htmx_create_with_a_moved_grid_is_held_too(member, tenant):
    moved = form_data(time_zone="UTC+01:00", grid_offset="120")
    response = member.post(url("policy_create", tenant), moved, **HTMX)
    assert "HX-Redirect" not in response
    assert not BackupPolicy.objects.exists()


def test_a_zone_change_without_ticks_needs_no_second_look(member, tenant):
    data = form_data(time_zone="UTC+01:00", grid_offset="120", hours=[])
    form = member.post(url("policy_create", tenant), data).context["form"]
    assert form.errors["hours"] == ["Tick at least one start time."]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"week_days": []}, "week_days", "Tick at least one day."),
        ({"hours": []}, "hours", "Tick at least one start time."),
        ({"name": ""}, "name", "Enter a name of 1 to 64 characters."),
        (
            {"schedule_kind": "days", "frequency": "15"},
            "frequency",
            "Enter a whole number of days from 1 to 14.",
        ),
        (
            {"retention_num": ""},
            "retention_num",
            "Enter how many backups to keep: a whole number from 2 to 14.",
        ),
        (
            {"retention_kind": "day", "retention_day": "", "retention_num": ""},
            "retention_day",
            "Enter for how many days to keep backups: 2 to 99999.",
        ),
    ],
)
def test_each_problem_reads_as_a_fix_in_the_forms_words(member, tenant, overrides, field, message):
    form = member.post(url("policy_create", tenant), form_data(**overrides)).context["form"]
    assert form.errors[field] == [message]


def test_no_message_starts_mid_sentence(member, tenant):
    data = form_data(name="", hours=[], week_days=[], retention_num="", time_zone="UTC+05:15")
    body = member.post(url("policy_create", tenant), data, **{"HTTP_ACCEPT": "text/html"}).content.decode()
    messages = [html.unescape(m) for m in re.findall(r"<li>([^<]+)</li>", body)]
    assert messages
    for message in messages:
        assert not re.match(r"(Is|Has|Must|Contains) ", message), message
    assert "The time zone 'UTC+05:15' has minutes 15" in html.unescape(body)


def test_the_pages_link_a_favicon_and_favicon_ico_finds_it(member, tenant, client):
    body = member.get(url("policy_create", tenant)).content.decode()
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in body
    response = client.get("/favicon.ico")
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/static/favicon.svg"


def test_every_day_is_a_choice_of_its_own_stored_as_frequency_1(member, tenant):
    data = form_data(schedule_kind="daily", hours=["1"], grid_offset="120", week_days=[])
    preview = html.unescape(member.post(url("policy_preview", tenant), data, **HTMX).content.decode())
    assert "<dt>Repeats</dt><dd>every day</dd>" in preview  # not "counted from the 1st of each month"
    assert member.post(url("policy_create", tenant), data).status_code == HTTPStatus.FOUND
    policy = BackupPolicy.objects.get()
    assert (policy.frequency, policy.week_frequency) == (1, "")


def test_the_form_offers_every_day_and_the_edit_page_of_a_daily_policy_opens_on_it(member, tenant):
    page = member.get(url("policy_create", tenant)).content.decode()
    assert re.search(
        r'<input type="radio" name="schedule_kind" value="daily"[^>]*>\s*<label[^>]*>Every day</label>', page
    )
    policy = make_policy(tenant, "daily", start_time="01:00", frequency=1, rentention_num=3, status="ON")
    edit = member.get(
        reverse("policies:policy_edit", kwargs={"project_id": tenant.project_id, "policy_id": policy.pk})
    )
    assert edit.context["form"]["schedule_kind"].value() == "daily"


def test_every_n_days_still_says_the_count_starts_on_the_1st(member, tenant):
    data = form_data(schedule_kind="days", frequency="3", hours=["1"], grid_offset="120")
    preview = html.unescape(member.post(url("policy_preview", tenant), data, **HTMX).content.decode())
    assert "every 3 days, counted from the 1st of each month" in preview
