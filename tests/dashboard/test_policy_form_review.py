"""Fixes from a new user's review of the create form: verdict, wording, errors, zone changes."""

import html
import re
from http import HTTPStatus

import pytest

from policies.domain import codes
from policies.models import BackupPolicy
from tests.helpers.dashboard import HTMX, form_data, url
from tests.helpers.factories import MembershipFactory, TenantFactory

pytestmark = pytest.mark.django_db


def _verdict(body: str) -> tuple[str, str]:
    kind, text = re.search(r'<p class="verdict (\w+)">([^<]*)</p>', body).groups()
    return kind, html.unescape(text)


def _error_items(body: str, error_id: str) -> list[str]:
    block = re.search(rf'<ul class="field-errors" id="{error_id}">(.*?)</ul>', body, re.S)[1]
    return [html.unescape(item) for item in re.findall(r"<li>(.*?)</li>", block)]


def _input_tag(body: str, element_id: str) -> str:
    return re.search(rf'<input [^>]*id="{element_id}"[^>]*>', body)[0]


# --- 1. The verdict accounts for every problem shown, a service's too ----------------------------


def test_a_name_in_use_is_no_accepted_policy_in_the_preview(member, tenant):
    member.post(url("policy_create", tenant), form_data())
    body = member.post(url("policy_create", tenant), form_data()).content.decode()
    assert _verdict(body) == ("refused", "Not saved: 1 problem to fix.")
    assert "Ready to save: nothing to fix." not in body
    assert codes.NAME_TAKEN in body


def test_the_quota_is_no_accepted_policy_in_the_preview(member, tenant, make_policies):
    make_policies(10)
    body = member.post(url("policy_create", tenant), form_data()).content.decode()
    assert _verdict(body) == ("refused", "Not saved: 1 problem to fix.")
    assert codes.QUOTA in body


def test_a_valid_preview_still_says_the_contract_accepts_it(member, tenant):
    body = member.post(url("policy_preview", tenant), form_data(), **HTMX).content.decode()
    assert _verdict(body) == ("ok", "Ready to save: nothing to fix.")


# --- 2. Enter saves: "Create policy" is the form's first submit button ---------------------------


def test_create_policy_is_the_first_submit_button_and_preview_still_posts_its_flag(member, tenant):
    body = member.get(url("policy_create", tenant)).content.decode()
    buttons = re.findall(r'<button type="submit"[^>]*>([^<]+)</button>', body)
    assert buttons[-2:] == ["Create policy", "Preview"]  # after the top bar's "Sign out"
    assert '<button type="submit" name="preview" value="1" class="secondary">Preview</button>' in body


# --- 3. Only the tag input with the problem is marked invalid ------------------------------------


def test_an_invalid_key_with_an_empty_value_marks_only_the_key(member, tenant):
    data = form_data(tag_key=["bad key"], tag_value=[""])
    body = member.post(url("policy_create", tenant), data).content.decode()
    assert 'aria-invalid="true"' in _input_tag(body, "tag-key-1")
    assert "aria-invalid" not in _input_tag(body, "tag-value-1")
    assert _error_items(body, "tag-errors-1")[0].startswith("The key 'bad key' ")


def test_an_invalid_value_marks_only_the_value(member, tenant):
    data = form_data(tag_key=["env"], tag_value=["pro d"])
    body = member.post(url("policy_create", tenant), data).content.decode()
    assert "aria-invalid" not in _input_tag(body, "tag-key-1")
    assert 'aria-invalid="true"' in _input_tag(body, "tag-value-1")


def test_a_value_without_a_key_asks_for_a_key(member, tenant):
    data = form_data(tag_key=[""], tag_value=["prod"])
    body = member.post(url("policy_create", tenant), data).content.decode()
    assert _error_items(body, "tag-errors-1") == ["Enter a key for this tag (1 to 36 characters)."]


# --- 4. Two messages at one field are two list items ---------------------------------------------


def test_two_messages_at_the_hour_grid_are_separate_items(member, tenant):
    # At UTC+05:30 the local times ticked at UTC+02:00 are no full UTC hour: they are unticked
    # (one message), and then no start time is left (another).
    moved = form_data(time_zone="UTC+05:30", grid_offset="120", preview="1")
    body = member.post(url("policy_create", tenant), moved).content.decode()
    items = _error_items(body, "hours-errors")
    assert len(items) == 2
    assert items[0].startswith("Local 00:00, 02:00, 04:00 is no full UTC hour at UTC+05:30")
    assert items[1] == "Tick at least one start time."
    # Whitespace between the items: a description read aloud keeps the sentences apart.
    assert re.search(r"</li>\s+<li>", body)
    assert 'id="hour-grid" class="hour-grid" aria-describedby="hours-errors"' in body


def test_two_messages_at_the_name_are_separate_items(member, tenant):
    body = member.post(url("policy_create", tenant), form_data(name="a!" * 40)).content.decode()
    items = _error_items(body, "name-errors")
    assert items[0] == "The name is 80 characters long; shorten it to 64 at most."
    assert items[1].startswith("The name contains '!'")


# --- 5. Without JavaScript a zone change is shown before anything is saved -----------------------


def test_a_zone_changed_under_the_ticks_is_not_saved_but_shown_again(member, tenant):
    # The grid was drawn at UTC+02:00 (local 00:00, 02:00, 04:00 ticked); the zone is now +01:00.
    moved = form_data(time_zone="UTC+01:00", grid_offset="120")
    response = member.post(url("policy_create", tenant), moved)
    assert response.status_code == HTTPStatus.OK
    assert not BackupPolicy.objects.exists()
    body = response.content.decode()
    assert _error_items(body, "hours-errors") == [
        "The time zone changed: the start times are now shown at UTC+01:00; check them and press "
        "Create policy again."
    ]
    assert "<legend>Start times, local time at UTC+01:00</legend>" in body
    assert '<input type="hidden" name="grid_offset" value="60">' in body
    assert re.search(r'value="23" id="hour-23" checked>\s*<label for="hour-23">00:00</label>', body)
    assert _verdict(body)[0] == "refused"


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


# --- 6. The form's words ------------------------------------------------------------------------


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


def test_eleven_tags_say_how_many_to_remove(member, tenant):
    keys = [f"k{i}" for i in range(11)]
    body = member.post(url("policy_create", tenant), form_data(tag_key=keys, tag_value=[""] * 11)).content
    assert _error_items(body.decode(), "tags-errors") == ["A policy has at most 10 tags; remove 1."]


def test_no_message_starts_mid_sentence(member, tenant):
    data = form_data(name="", hours=[], week_days=[], retention_num="", time_zone="UTC+05:15")
    body = member.post(url("policy_create", tenant), data, **{"HTTP_ACCEPT": "text/html"}).content.decode()
    messages = [html.unescape(m) for m in re.findall(r"<li>([^<]+)</li>", body)]
    assert messages
    for message in messages:
        assert not re.match(r"(Is|Has|Must|Contains) ", message), message
    assert "The time zone 'UTC+05:15' has minutes 15" in html.unescape(body)


def test_the_preview_says_the_forms_words_and_keeps_the_code_in_the_api_section(member, tenant):
    body = member.post(url("policy_preview", tenant), form_data(week_days=[]), **HTMX).content.decode()
    assert "<li><strong>Days of the week:</strong> Tick at least one day.</li>" in body
    api_section = body[body.index('<details class="api-request"') : body.index("</details>")]
    assert f"<li><code>{codes.FREQUENCY}</code> (Days of the week)</li>" in api_section
    assert body.count(codes.FREQUENCY) == 1


# --- 7. Untouched, the preview is neutral --------------------------------------------------------


def test_a_preview_of_the_untouched_form_lists_what_is_missing_neutrally(member, tenant):
    data = {"time_zone": "UTC", "grid_offset": "0", "schedule_kind": "week", "retention_kind": "num",
            "retention_num": "7", "status": "ON", "pristine": "1"}  # fmt: skip
    body = member.post(url("policy_preview", tenant), data, **HTMX).content.decode()
    assert _verdict(body) == ("pending", "To fill in: 3 things before the policy can be saved.")
    assert '<ul class="problems pending">' in body
    assert "<h3>Still to do</h3>" in body


def test_once_the_person_changed_something_problems_are_problems(member, tenant):
    data = form_data(name="", pristine="")
    data.pop("pristine")
    body = member.post(url("policy_preview", tenant), data, **HTMX).content.decode()
    assert _verdict(body)[0] == "refused"


def test_a_plain_create_ignores_the_pristine_flag(member, tenant):
    body = member.post(url("policy_create", tenant), form_data(name="", pristine="1")).content.decode()
    assert _verdict(body)[0] == "refused"


def test_the_htmx_preview_updates_the_phone_summary_bar_out_of_band(member, tenant):
    body = member.post(url("policy_preview", tenant), form_data(), **HTMX).content.decode()
    bar = body[body.index('<div id="preview-bar"') :]
    assert bar.startswith('<div id="preview-bar" class="preview-bar" hx-swap-oob="true">')
    assert '<a href="#utc-preview">' in bar
    assert "<code>22:00,00:00,02:00</code>" in bar
    assert "Ready to save" in bar


# --- 8. Phone layout: list cards, a compact project switcher -------------------------------------


def test_each_table_cell_carries_its_column_name_for_the_phone_cards(member, tenant, make_policies):
    make_policies(1)
    body = member.get(url("policy_list", tenant)).content.decode()
    labels = re.findall(r'<td data-label="([^"]+)"', body)
    assert labels == [
        "Schedule (local time)",
        "Schedule (UTC)",
        "Retention",
        "Status",
        "Tags",
        "Volumes",
        "Last run",
    ]
    assert '<th scope="col">Schedule (local time)</th>' in body


def test_the_project_switcher_is_a_disclosure_naming_the_current_project(member, tenant, user):
    for _ in range(12):
        MembershipFactory(user=user, tenant=TenantFactory())
    body = member.get(url("policy_list", tenant)).content.decode()
    switcher = body[body.index('<details class="tenant-switcher"') : body.index("</details>")]
    assert "open" not in switcher.split(">", 1)[0]
    assert re.search(rf"<summary>Project: <strong>{re.escape(str(tenant))}</strong>", html.unescape(switcher))
    assert "13 projects" in switcher


# --- 9. Small ones -------------------------------------------------------------------------------


def test_the_tinted_hours_have_a_legend_when_some_are_tinted(member, tenant):
    shifted = member.post(url("policy_create", tenant), form_data(preview="1")).content.decode()
    assert "Tinted boxes run on the UTC day before or after the local day" in shifted
    plain = member.post(url("policy_create", tenant), form_data(preview="1", time_zone="", grid_offset="0"))
    assert "Tinted boxes" not in plain.content.decode()


def test_the_zone_utc_is_worded_as_itself(member, tenant):
    data = form_data(time_zone="UTC", grid_offset="0", hours=["0"])
    body = html.unescape(member.post(url("policy_preview", tenant), data, **HTMX).content.decode())
    assert "<code>UTC+00:00</code></dd>" in body
    assert "UTC today" not in body
    assert "UTC has no daylight saving" in body
    assert "keeps its offset" not in body


def test_a_named_zone_names_where_its_offset_comes_from(member, tenant):
    data = form_data(time_zone="Asia/Kolkata", grid_offset="330", hours=["0"])
    body = html.unescape(member.post(url("policy_preview", tenant), data, **HTMX).content.decode())
    assert "<dd>UTC+05:30 (the offset of Asia/Kolkata today; the policy keeps its local times" in body
    assert "<dt>Named zone</dt><dd>Asia/Kolkata</dd>" in body
    assert "Asia/Kolkata keeps this offset for the next 12 months" in body


def test_add_tag_is_disabled_with_the_reason_at_ten_rows(member, tenant):
    keys = [f"k{i}" for i in range(10)]
    body = member.post(url("policy_create", tenant), form_data(name="", tag_key=keys, tag_value=[""] * 10))
    body = body.content.decode()
    assert body.count('name="tag_key"') == 10 + 1  # no spare row; the template
    assert 'data-add-tag disabled aria-describedby="tags-full"' in body
    assert '<p class="help" id="tags-full" data-tags-full>A policy has at most 10 tags' in body


def test_add_tag_is_enabled_below_ten_rows(member, tenant):
    body = member.get(url("policy_create", tenant)).content.decode()
    assert 'data-add-tag aria-describedby="tags-full"' in body
    assert "data-tags-full hidden>" in body


def test_the_pages_link_a_favicon_and_favicon_ico_finds_it(member, tenant, client):
    body = member.get(url("policy_create", tenant)).content.decode()
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in body
    response = client.get("/favicon.ico")
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/static/favicon.svg"
