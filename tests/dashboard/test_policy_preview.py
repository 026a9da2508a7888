"""The live UTC preview (an htmx partial) and the hour grid that follows the time zone."""

import html
import json
import re
from datetime import UTC, datetime
from http import HTTPStatus

import pytest
from django.urls import reverse

from policies.dashboard.forms.policy import PolicyForm
from policies.dashboard.preview import preview_of
from policies.domain.contract import codes, parse
from policies.models import BackupPolicy
from tests.helpers.dashboard import HTMX, form_data, url, verdict_of

pytestmark = pytest.mark.django_db

JANUARY = datetime(2025, 1, 15, 12, tzinfo=UTC)


def _labels_in_order(body: str) -> list[str]:
    return re.findall(r'<label for="hour-\d+">([^<]+)</label>', body)


def test_htmx_gets_the_preview_partial_with_the_start_time_to_be_stored(member, tenant):
    response = member.post(url("policy_preview", tenant), form_data(name=""), **HTMX)
    assert response.status_code == HTTPStatus.OK
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="utc-preview"')
    assert "<html" not in body
    assert "<code>22:00,00:00,02:00</code>" in body
    assert "<code>MON</code>" in body
    assert "<code>UTC+02:00</code>" in body
    assert "HX-Request" in response["Vary"]


def test_the_preview_shows_each_run_in_local_time_and_in_utc(member, tenant):
    body = member.post(url("policy_preview", tenant), form_data(), **HTMX).content.decode()
    assert re.findall(r"<li>(\w{3} \d\d:\d\d local = \w{3} \d\d:\d\d UTC)</li>", body) == [
        "Mon 00:00 local = Sun 22:00 UTC",
        "Mon 02:00 local = Mon 00:00 UTC",
        "Mon 04:00 local = Mon 02:00 UTC",
    ]


def test_the_preview_gives_the_api_body_for_the_same_policy(member, tenant):
    body = member.post(url("policy_preview", tenant), form_data(), **HTMX).content.decode()
    shown = html.unescape(
        re.search(r'<pre class="json" id="api-body"[^>]*><code>(.*?)</code>', body, re.S)[1]
    )
    spec = parse.parse_policy(json.loads(shown)).spec
    assert shown == json.dumps(spec.to_payload(), indent=2)
    assert 'data-copy="api-body">Copy JSON</button>' in body


def test_an_invalid_preview_renders_200_with_the_problems_in_fix_it_words(member, tenant):
    data = form_data(schedule_kind="days", frequency="1", name="Default_x")
    response = member.post(url("policy_preview", tenant), data, **HTMX)
    assert response.status_code == HTTPStatus.OK
    body = html.unescape(response.content.decode())
    assert "starts with 'default', which is reserved; choose another name" in body
    assert "these start times fall on two UTC days" in body
    assert "Choose “Days of the week” and tick the local days instead." in body
    assert "<li><code>AutoBackup.0226</code>" in body  # in the collapsed API section
    assert "The API would refuse this body" in body
    assert not BackupPolicy.objects.exists()


def test_a_preview_of_nonsense_is_still_200(member, tenant):
    data = {"hours": ["x", "99"], "grid_offset": "abc", "schedule_kind": "??", "frequency": "many"}
    response = member.post(url("policy_preview", tenant), data, **HTMX)
    assert response.status_code == HTTPStatus.OK
    assert "not a start time of the grid" in html.unescape(response.content.decode())


def test_without_htmx_the_preview_url_answers_the_whole_page(member, tenant):
    response = member.post(url("policy_preview", tenant), form_data())
    body = response.content.decode()
    assert "<html" in body
    assert "<code>22:00,00:00,02:00</code>" in body
    assert not BackupPolicy.objects.exists()


def test_the_hour_grid_is_swapped_out_of_band_only_when_the_offset_changes(member, tenant):
    same = member.post(url("policy_preview", tenant), form_data(), **HTMX).content.decode()
    assert 'id="hour-grid"' not in same
    moved = form_data(time_zone="UTC+05:30", hours=[], grid_offset="120")
    body = member.post(url("policy_preview", tenant), moved, **HTMX).content.decode()
    assert '<fieldset id="hour-grid" class="hour-grid" hx-swap-oob="true">' in body
    assert '<input type="hidden" name="grid_offset" value="330">' in body


def test_hour_labels_at_utc_plus_5_30_read_half_past_in_local_order(member, tenant):
    moved = form_data(time_zone="UTC+05:30", hours=[], grid_offset="0")
    body = member.post(url("policy_preview", tenant), moved, **HTMX).content.decode()
    labels = _labels_in_order(body)
    assert labels[:3] == ["00:30", "01:30", "02:30"]
    assert labels == [f"{h:02d}:30" for h in range(24)]
    # The box labelled 00:30 is the UTC hour 19:00 of the day before.
    assert re.search(r'value="19" id="hour-19">\s*<label for="hour-19">00:30</label>', body)


def test_a_zone_change_keeps_the_ticked_local_times(member, tenant):
    # Ticked at UTC+02:00: local 00:00, 02:00, 04:00. Switching to UTC+01:00 keeps those local times.
    moved = form_data(time_zone="UTC+01:00", grid_offset="120")
    body = member.post(url("policy_preview", tenant), moved, **HTMX).content.decode()
    assert "<code>23:00,01:00,03:00</code>" in body
    for hour, label in [(23, "00:00"), (1, "02:00"), (3, "04:00")]:
        assert re.search(rf'id="hour-{hour}" checked>\s*<label for="hour-{hour}">{label}</label>', body)


def test_a_zone_change_that_cannot_keep_a_local_time_unticks_it_and_says_so(member, tenant):
    moved = form_data(time_zone="UTC+05:30", grid_offset="120")
    response = member.post(url("policy_create", tenant), moved)
    form = response.context["form"]
    assert "Local 00:00, 02:00, 04:00 is no full UTC hour at UTC+05:30" in form.errors["hours"][0]
    assert form.checked_hours == []
    assert not BackupPolicy.objects.exists()


# --- The form alone, with a fixed clock -------------------------------------------------------


def _preview_at(member, tenant, monkeypatch, now, data) -> str:
    """The live preview's HTML (unescaped) with the views' clock at ``now``."""
    monkeypatch.setattr("django.utils.timezone.now", lambda: now)
    response = member.post(url("policy_preview", tenant), data, **HTMX)
    assert response.status_code == HTTPStatus.OK
    return html.unescape(response.content.decode())


def test_a_named_zone_says_each_offset_change_once_with_the_rebase_before_it(member, tenant, monkeypatch):
    data = form_data(time_zone="Europe/Berlin", grid_offset="60")
    body = _preview_at(member, tenant, monkeypatch, JANUARY, data)
    assert "<code>UTC+01:00</code>" in body
    changes = re.findall(r"<li[^>]*>(From [^<]*)</li>", body)
    assert len(changes) == 2  # two changes in the next 12 months, one sentence each
    assert changes[0].startswith(
        "From Mon 31 Mar 2025, the runs stay at 01:00, 03:00, 23:00 in Europe/Berlin"
    )
    assert "re-based before its first run at the new offset (stored offset UTC+02:00" in changes[0]
    assert changes[1].startswith(
        "From Mon 27 Oct 2025, the runs stay at 01:00, 03:00, 23:00 in Europe/Berlin"
    )
    assert "(stored offset UTC+01:00" in changes[1]
    # In one place: under "Next runs", not again in a section of its own.
    assert 'class="local-changes"' in body.split('id="next-runs-heading"')[1]
    assert "Daylight saving</h3>" not in body
    assert "in local time than shown" not in body
    assert "keeps this offset" not in body


def test_in_summer_the_autumn_change_keeps_the_local_times_too(member, tenant, monkeypatch):
    july = datetime(2025, 7, 1, tzinfo=UTC)
    body = _preview_at(member, tenant, monkeypatch, july, form_data(time_zone="Europe/Berlin"))
    assert "<code>UTC+02:00</code>" in body
    changes = re.findall(r"<li[^>]*>(From [^<]*)</li>", body)
    assert len(changes) == 2
    assert ", the runs stay at 00:00, 02:00, 04:00 in Europe/Berlin" in changes[0]
    assert "(stored offset UTC+01:00" in changes[0]
    assert "earlier than chosen" not in body
    assert "Daylight saving</h3>" not in body


@pytest.mark.parametrize(
    "overrides",
    [{"status": "OFF"}, {"hours": []}],
    ids=["policy off: the forecast has no runs", "no start time: no forecast"],
)
def test_without_the_forecast_s_runs_the_zone_still_tells_each_change_once(
    member, tenant, monkeypatch, overrides
):
    data = form_data(time_zone="Europe/Berlin", grid_offset="60", **overrides)
    body = _preview_at(member, tenant, monkeypatch, JANUARY, data)
    assert "<h3>Daylight saving</h3>" in body
    changes = re.findall(r"<li[^>]*>(From [^<]*)</li>", body)
    assert len(changes) == 2
    assert changes[0].startswith("From Sun 30 Mar 2025 (01:00 UTC), Europe/Berlin is at UTC+02:00")
    assert "the policy keeps its local times, re-based to UTC+02:00" in changes[0]
    assert changes[1].startswith("From Sun 26 Oct 2025 (01:00 UTC), Europe/Berlin is at UTC+01:00")
    assert 'class="local-changes"' not in body


def test_a_zone_without_daylight_saving_has_no_note(member, tenant):
    preview = preview_of(PolicyForm(form_data(time_zone="Asia/Kolkata", grid_offset="330"), now=JANUARY))
    assert preview.dst_notes == []
    assert preview.shown["time_zone"] == "UTC+05:30"


def test_the_form_maps_local_00_02_04_at_utc_plus_2_monday_to_the_contract_example():
    form = PolicyForm(form_data(), now=JANUARY)
    ticked = {cell.local_label: cell.utc_hour for cell in form.hour_grid()}
    assert form.is_valid()
    assert form.payload["scheduled_policy"]["start_time"] == "22:00,00:00,02:00"
    assert [ticked[label] for label in ("00:00", "02:00", "04:00")] == [22, 0, 2]


def test_an_unbound_form_has_no_preview_and_a_utc_grid():
    form = PolicyForm(now=JANUARY)
    assert preview_of(form) is None
    assert [cell.local_label for cell in form.hour_grid()][:2] == ["00:00", "01:00"]


def test_text_in_a_number_box_reaches_the_core_as_text():
    data = form_data(schedule_kind="days", frequency="many", hours=["0", "2"], grid_offset="120")
    form = PolicyForm(data, now=JANUARY)
    assert not form.is_valid()
    assert [p.code for p in form.problems] == [codes.FREQUENCY]
    assert form.errors["frequency"] == ["Enter a whole number of days from 1 to 14."]


def test_the_swapped_hour_grid_leaves_problems_to_the_preview(member, tenant):
    moved = form_data(time_zone="UTC+05:30", hours=[], grid_offset="120")
    body = member.post(url("policy_preview", tenant), moved, **HTMX).content.decode()
    grid = body[body.index('<fieldset id="hour-grid"') :]
    assert 'id="hours-errors"' not in grid
    assert "Tick at least one start time." in body[: body.index('<fieldset id="hour-grid"')]


# --- What only saving checked: the name ignoring case, the quota -------------------------


def test_the_preview_says_a_name_is_taken_ignoring_case_before_saving(member, tenant, make_policies):
    make_policies(1, prefix="Nightly")  # "Nightly_00"
    data = form_data(name="nightly_00")
    body = html.unescape(member.post(url("policy_preview", tenant), data, **HTMX).content.decode())
    assert "Not saved: 1 problem to fix." in body
    assert "already has a policy named 'Nightly_00', which 'nightly_00' matches" in body
    assert BackupPolicy.objects.count() == 1


def test_the_preview_says_the_project_is_full_before_saving(member, tenant, make_policies):
    make_policies(10)
    body = html.unescape(member.post(url("policy_preview", tenant), form_data(), **HTMX).content.decode())
    assert "The project already holds 10 backup policies" in body
    assert "Ready to save" not in body
    assert BackupPolicy.objects.count() == 10


def test_the_preview_of_an_edit_keeping_its_own_name_in_another_case_is_ready(member, tenant, make_policies):
    [policy] = make_policies(1)
    data = form_data(name="EXISTING_00")
    target = reverse(
        "policies:policy_edit_preview", kwargs={"project_id": tenant.project_id, "policy_id": policy.pk}
    )
    body = html.unescape(member.post(target, data, **HTMX).content.decode())
    assert "Ready to save: nothing to fix." in body


# --- The verdict: every problem shown counts, and the untouched form is neutral ------------------


def test_a_name_in_use_is_no_accepted_policy_in_the_preview(member, tenant):
    member.post(url("policy_create", tenant), form_data())
    body = member.post(url("policy_create", tenant), form_data()).content.decode()
    assert verdict_of(body) == ("refused", "Not saved: 1 problem to fix.")
    assert "Ready to save: nothing to fix." not in body
    assert codes.NAME_TAKEN in body


def test_the_quota_is_no_accepted_policy_in_the_preview(member, tenant, make_policies):
    make_policies(10)
    body = member.post(url("policy_create", tenant), form_data()).content.decode()
    assert verdict_of(body) == ("refused", "Not saved: 1 problem to fix.")
    assert codes.QUOTA in body


def test_a_valid_preview_still_says_the_contract_accepts_it(member, tenant):
    body = member.post(url("policy_preview", tenant), form_data(), **HTMX).content.decode()
    assert verdict_of(body) == ("ok", "Ready to save: nothing to fix.")


def test_the_preview_says_the_forms_words_and_keeps_the_code_in_the_api_section(member, tenant):
    body = member.post(url("policy_preview", tenant), form_data(week_days=[]), **HTMX).content.decode()
    assert "<li><strong>Days of the week:</strong> Tick at least one day.</li>" in body
    api_section = body[body.index('<details class="api-request"') : body.index("</details>")]
    assert f"<li><code>{codes.FREQUENCY}</code> (Days of the week)</li>" in api_section
    assert body.count(codes.FREQUENCY) == 1


def test_a_preview_of_the_untouched_form_lists_what_is_missing_neutrally(member, tenant):
    data = {"time_zone": "UTC", "grid_offset": "0", "schedule_kind": "week", "retention_kind": "num",
            "retention_num": "7", "status": "ON", "pristine": "1"}  # fmt: skip
    body = member.post(url("policy_preview", tenant), data, **HTMX).content.decode()
    assert verdict_of(body) == ("pending", "To fill in: 3 things before the policy can be saved.")
    assert '<ul class="problems pending">' in body
    assert "<h3>Still to do</h3>" in body


def test_once_the_person_changed_something_problems_are_problems(member, tenant):
    data = form_data(name="", pristine="")
    data.pop("pristine")
    body = member.post(url("policy_preview", tenant), data, **HTMX).content.decode()
    assert verdict_of(body)[0] == "refused"


def test_a_plain_create_ignores_the_pristine_flag(member, tenant):
    body = member.post(url("policy_create", tenant), form_data(name="", pristine="1")).content.decode()
    assert verdict_of(body)[0] == "refused"


def test_the_htmx_preview_updates_the_phone_summary_bar_out_of_band(member, tenant):
    body = member.post(url("policy_preview", tenant), form_data(), **HTMX).content.decode()
    bar = body[body.index('<div id="preview-bar"') :]
    assert bar.startswith('<div id="preview-bar" class="preview-bar" hx-swap-oob="true">')
    assert '<a href="#utc-preview">' in bar
    assert "<code>22:00,00:00,02:00</code>" in bar
    assert "Ready to save" in bar


# --- What the preview says of the zone and the hour grid -----------------------------------------


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


def test_a_name_that_is_not_a_zone_promises_no_offset(member, tenant, monkeypatch):
    # "Berlin" is half typed: the core suggests the zone, and nothing is said of offsets it has not.
    body = _preview_at(member, tenant, monkeypatch, JANUARY, form_data(time_zone="Berlin"))
    assert "did you mean 'Europe/Berlin'?" in body
    assert "keeps this offset" not in body
    assert "daylight-saving" not in body


def test_a_zone_without_daylight_saving_says_it_keeps_its_offset(member, tenant, monkeypatch):
    body = _preview_at(
        member, tenant, monkeypatch, JANUARY, form_data(time_zone="Asia/Tokyo", grid_offset="540")
    )
    assert "Asia/Tokyo keeps this offset for the next 12 months: no daylight-saving change." in body


def test_the_zone_note_says_the_offset_changes(member, tenant, monkeypatch):
    body = _preview_at(member, tenant, monkeypatch, JANUARY, form_data(time_zone="Europe/Berlin"))
    assert "the scheduler re-bases the offset when the zone's offset changes" in body
    assert "zone's changes" not in body
