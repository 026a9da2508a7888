"""Backup policies in the admin: list, search, filters, and every write through the services."""

import html
from http import HTTPStatus

import pytest

from policies import audit, services
from policies.domain import words
from policies.domain.contract import codes, limits, parse, tag_bodies
from policies.models import AuditEvent, BackupPolicy, PolicyTag
from tests.helpers.admin import add_data, admin_url, errors_at, page_data, set_tags
from tests.helpers.factories import TenantFactory
from tests.helpers.policies import make_policy

pytestmark = pytest.mark.django_db

CHANGELIST = admin_url("backuppolicy", "changelist")
ADD = admin_url("backuppolicy", "add")


def listed(response) -> list[str]:
    assert response.status_code == HTTPStatus.OK
    return sorted(policy.name for policy in response.context["cl"].result_list)


def tags_of(policy) -> list[tuple[str, str]]:
    return list(PolicyTag.objects.filter(policy=policy).values_list("key", "value"))


def tag_form(response, index: int):
    return response.context["inline_admin_formsets"][0].formset.forms[index]


# --- The list ---------------------------------------------------------------------------------


def test_changelist_shows_schedule_in_words_retention_status_tags_and_last_change(
    admin_client, tenant, actor
):
    make_policy(tenant, "nightly", actor=actor, tags=[("env", "prod")])
    html = admin_client.get(CHANGELIST).content.decode()
    assert "Sunday and Wednesday at 12:00 (UTC+08:00)" not in html  # stored start_time is UTC
    local, utc = words.schedule_in_words(BackupPolicy.objects.get().to_spec())
    assert local in html
    assert utc in html
    assert "30 days, and the first of each month" in html
    assert "env=prod" in html
    assert "Tenant A (tenant-a)" in html
    assert "alice (token bpc_" in html
    assert "via API, " in html
    assert "new policy" in html


def test_the_last_change_column_names_the_latest_change_of_each_policy(admin_client, tenant, actor):
    first = make_policy(tenant, "first", actor=actor)
    make_policy(tenant, "second")
    spec = parse.parse_policy_update({"scheduled_policy": {"status": "OFF"}}, first.to_spec()).spec
    services.policy_update(policy=first, spec=spec, actor=audit.Actor.dashboard(actor.user))
    response = admin_client.get(CHANGELIST)
    events = {policy.name: policy.last_event for policy in response.context["cl"].result_list}
    assert (events["first"].entrance, events["first"].action) == ("dashboard", "change")
    assert events["first"].changes == {"scheduled_policy.status": {"before": "ON", "after": "OFF"}}
    assert (events["second"].entrance, events["second"].action) == ("command", "create")
    assert "status: ON → OFF" in response.content.decode()


def test_the_list_sorts_by_last_change(admin_client, tenant):
    first = make_policy(tenant, "first")
    make_policy(tenant, "second")
    spec = parse.parse_policy_update({"scheduled_policy": {"status": "OFF"}}, first.to_spec()).spec
    services.policy_update(policy=first, spec=spec, actor=audit.Actor.command())
    column = admin_client.get(CHANGELIST).context["cl"].list_display.index("last_change")
    newest_first = admin_client.get(CHANGELIST, {"o": f"-{column}"}).context["cl"].result_list
    assert [policy.name for policy in newest_first] == ["first", "second"]
    oldest_first = admin_client.get(CHANGELIST, {"o": str(column)}).context["cl"].result_list
    assert [policy.name for policy in oldest_first] == ["second", "first"]


@pytest.fixture
def tagged(tenant, other_tenant):
    make_policy(tenant, "alpha", tags=[("env", "staging"), ("copy", "staging")])
    make_policy(tenant, "beta", tags=[("env", "prod")])
    make_policy(other_tenant, "gamma", tags=[("owner", "staging-team")])
    make_policy(other_tenant, "delta", tags=[])


@pytest.mark.parametrize(
    ("term", "names"),
    [
        ("staging", ["alpha", "gamma"]),  # a tag value; alpha carries it twice and is listed once
        ("prod", ["beta"]),
        ("owner", ["gamma"]),  # a tag key
        ("env", ["alpha", "beta"]),
        ("delta", ["delta"]),  # a name
        ("tenant-b", ["delta", "gamma"]),  # a project ID
        ("nothing-like-this", []),
    ],
)
def test_search_by_tag_value_key_name_and_project(admin_client, tagged, term, names):
    response = admin_client.get(CHANGELIST, {"q": term})
    assert listed(response) == names
    assert response.context["cl"].result_count == len(names)


@pytest.mark.parametrize(
    ("params", "names"),
    [
        ({"status__exact": "OFF"}, ["interval"]),
        ({"status__exact": "ON"}, ["weekly"]),
        ({"schedule": "weekdays"}, ["weekly"]),
        ({"schedule": "interval"}, ["interval"]),
        ({"retention": "count"}, ["interval"]),
        ({"retention": "days"}, ["weekly"]),
    ],
)
def test_filters_by_status_schedule_kind_and_retention_kind(admin_client, tenant, params, names):
    make_policy(tenant, "weekly")  # weekdays, rentention_day, ON
    make_policy(tenant, "interval", start_time="03:00", frequency=2, rentention_num=5, status="OFF")
    assert listed(admin_client.get(CHANGELIST, params)) == names


def test_filter_by_tenant(admin_client, tenant, other_tenant):
    make_policy(tenant, "mine")
    make_policy(other_tenant, "theirs")
    assert listed(admin_client.get(CHANGELIST, {"tenant__id__exact": other_tenant.pk})) == ["theirs"]


# --- Adding -----------------------------------------------------------------------------------


def test_add_creates_the_policy_and_its_tags_through_the_service(admin_client, superuser, tenant):
    data = set_tags(add_data(admin_client, tenant), [("env", "prod"), ("team", "")])
    response = admin_client.post(ADD, data)
    assert response.status_code == HTTPStatus.FOUND
    policy = BackupPolicy.objects.get()
    assert response["Location"] == CHANGELIST
    assert (policy.tenant, policy.name, policy.start_time) == (tenant, "nightly", "22:00,00:00,02:00")
    assert (policy.week_frequency, policy.frequency, policy.retention_num) == ("MON", None, 7)
    assert policy.time_zone == "UTC+02:00"
    assert tags_of(policy) == [("env", "prod"), ("team", "")]
    event = AuditEvent.objects.get()
    assert (event.entrance, event.action, event.user, event.policy_id) == (
        "admin",
        "create",
        superuser,
        policy.pk,
    )
    assert event.changes["tags"] == {
        "before": None,
        "after": [{"key": "env", "value": "prod"}, {"key": "team", "value": ""}],
    }


def test_add_stores_the_canonical_form_the_core_gives(admin_client, tenant):
    data = add_data(
        admin_client,
        tenant,
        start_time="12:00, 14:00",
        time_zone="",
        week_frequency="WED, SUN",
        retention_num="",
        retention_day="30.9",
    )
    assert admin_client.post(ADD, data).status_code == HTTPStatus.FOUND
    policy = BackupPolicy.objects.get()
    assert (policy.start_time, policy.week_frequency, policy.retention_day) == ("12:00,14:00", "SUN,WED", 30)
    assert policy.time_zone == ""


def test_when_both_members_of_a_pair_are_given_only_the_winner_is_stored(admin_client, tenant):
    data = add_data(admin_client, tenant, start_time="03:00", frequency="2", retention_day="40")
    assert admin_client.post(ADD, data).status_code == HTTPStatus.FOUND
    policy = BackupPolicy.objects.get()
    assert (policy.frequency, policy.week_frequency, policy.retention_num, policy.retention_day) == (
        2,
        "",
        7,
        None,
    )


REFUSED = [
    ({"name": ""}, "name", codes.NAME_LENGTH),
    ({"name": "x" * 65}, "name", codes.NAME_LENGTH),
    ({"name": "Default_copy"}, "name", codes.NAME_CHARS),
    ({"name": "two words"}, "name", codes.NAME_CHARS),
    ({"start_time": ""}, "start_time", codes.START_TIME),
    ({"start_time": "12:30"}, "start_time", codes.START_TIME),
    ({"start_time": "02:00,00:00"}, "start_time", codes.START_TIME),  # not ascending in local time
    ({"status": "MAYBE"}, "status", codes.STATUS),
    ({"week_frequency": "", "frequency": ""}, "frequency", codes.FREQUENCY),
    ({"week_frequency": "MON,FUNDAY"}, "week_frequency", codes.FREQUENCY),
    ({"week_frequency": "mon"}, "week_frequency", codes.FREQUENCY),
    ({"week_frequency": "", "frequency": "15"}, "frequency", codes.FREQUENCY),
    ({"week_frequency": "", "frequency": "two"}, "frequency", codes.FREQUENCY),
    ({"retention_num": "1"}, "retention_num", codes.RETENTION),
    ({"retention_num": "2.0"}, "retention_num", codes.RETENTION),
    ({"retention_num": "", "retention_day": ""}, "retention_num", codes.RETENTION),
    ({"retention_num": "", "retention_day": "1.5"}, "retention_day", codes.RETENTION),
    ({"time_zone": "UTC+8"}, "time_zone", codes.TIME_ZONE),
    ({"time_zone": "Europe/Paris"}, "time_zone", codes.TIME_ZONE),
    # Local 00:00, 02:00, 04:00 at UTC+02:00 fall on two UTC days: only weekdays can place them.
    ({"week_frequency": "", "frequency": "1"}, "frequency", codes.TIME_ZONE),
]


@pytest.mark.parametrize(("fields", "field", "code"), REFUSED)
def test_add_refuses_what_the_contract_refuses_at_the_field(admin_client, tenant, fields, field, code):
    response = admin_client.post(ADD, add_data(admin_client, tenant, **fields))
    assert any(code in message for message in errors_at(response, field)), response.context[
        "adminform"
    ].form.errors
    assert BackupPolicy.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_every_problem_is_shown_at_once(admin_client, tenant):
    data = add_data(admin_client, tenant, name="default", start_time="25:00", retention_num="99")
    form = admin_client.post(ADD, data).context["adminform"].form
    assert set(form.errors) == {"name", "start_time", "retention_num"}


@pytest.mark.parametrize(
    ("rows", "index", "field", "code"),
    [
        ([("bad key", "x")], 0, "key", codes.TAG),
        ([("env", "a" * 44)], 0, "value", codes.TAG),
        ([("", "orphan")], 0, "key", codes.TAG),
        ([("env", "a"), ("env", "b")], 1, "key", codes.TAG),  # keys are distinct
    ],
)
def test_add_refuses_a_bad_tag_at_its_row(admin_client, tenant, rows, index, field, code):
    response = admin_client.post(ADD, set_tags(add_data(admin_client, tenant), rows))
    assert response.status_code == HTTPStatus.OK
    assert any(code in message for message in tag_form(response, index).errors[field])
    assert BackupPolicy.objects.count() == 0
    assert PolicyTag.objects.count() == 0


def test_add_refuses_more_than_ten_tags_above_the_rows(admin_client, tenant):
    rows = [(f"k{n}", "v") for n in range(11)]
    response = admin_client.post(ADD, set_tags(add_data(admin_client, tenant), rows))
    formset = response.context["inline_admin_formsets"][0].formset
    assert any(codes.TAG_COUNT in message for message in formset.non_form_errors())
    # In the dashboard's words: the count a policy may have, and how many rows to remove.
    assert "A policy has at most 10 tags; remove 1." in html.unescape(response.content.decode())
    assert BackupPolicy.objects.count() == 0


def test_the_quota_is_shown_at_the_tenant_and_nothing_is_saved(admin_client, tenant):
    for n in range(limits.MAX_POLICIES_PER_TENANT):
        make_policy(tenant, f"p{n}")
    events = AuditEvent.objects.count()
    response = admin_client.post(ADD, set_tags(add_data(admin_client, tenant), [("env", "prod")]))
    assert any(codes.QUOTA in message for message in errors_at(response, "tenant"))
    assert BackupPolicy.objects.filter(tenant=tenant).count() == limits.MAX_POLICIES_PER_TENANT
    assert not BackupPolicy.objects.filter(name="nightly").exists()
    assert AuditEvent.objects.count() == events
    # Another tenant still has room: the quota is per tenant.
    other = TenantFactory(project_id="roomy")
    assert admin_client.post(ADD, add_data(admin_client, other)).status_code == HTTPStatus.FOUND


def test_a_name_used_in_the_project_ignoring_case_is_refused_at_the_name(admin_client, tenant, other_tenant):
    make_policy(tenant, "Nightly")
    response = admin_client.post(ADD, add_data(admin_client, tenant, name="NIGHTLY"))
    messages = errors_at(response, "name")
    # An error is HTML (the sentence, with the code as its tooltip): read it as the page shows it.
    assert any(codes.NAME_TAKEN in message and "'Nightly'" in html.unescape(message) for message in messages)
    assert BackupPolicy.objects.count() == 1
    # The same name in another project is fine.
    assert admin_client.post(ADD, add_data(admin_client, other_tenant, name="NIGHTLY")).status_code == 302


# --- Changing ---------------------------------------------------------------------------------


@pytest.fixture
def policy(tenant):
    return make_policy(tenant, "nightly", tags=[("env", "prod"), ("team", "a")])


def change_data(admin_client, policy, **fields) -> dict:
    data = page_data(admin_client.get(admin_url("backuppolicy", "change", policy.pk)))
    data.update(fields)
    return data


def post_change(admin_client, policy, data):
    return admin_client.post(admin_url("backuppolicy", "change", policy.pk), data)


def test_the_change_page_shows_the_stored_fields_the_runs_and_the_history(admin_client, policy):
    response = admin_client.get(admin_url("backuppolicy", "change", policy.pk))
    form = response.context["adminform"].form
    assert form["week_frequency"].value() == "SUN,WED"
    assert form["retention_day"].value() == 30
    assert "tenant" not in form.fields  # a policy never moves to another project
    html = response.content.decode()
    assert words.schedule_in_words(policy.to_spec())[1] in html
    assert "Every record of this policy in the audit trail" in html
    assert str(policy.pk) in html


def test_change_updates_fields_and_tags_through_the_service_with_one_record(admin_client, superuser, policy):
    data = change_data(admin_client, policy, status="OFF", name="nightly2")
    data["tags-0-value"] = "test"  # env: prod -> test
    data["tags-1-DELETE"] = "on"  # team removed
    set_tags(data, [("owner", "bob")])
    response = post_change(admin_client, policy, data)
    assert response.status_code == HTTPStatus.FOUND
    policy.refresh_from_db()
    assert (policy.name, policy.status) == ("nightly2", "OFF")
    assert tags_of(policy) == [("env", "test"), ("owner", "bob")]
    (event,) = AuditEvent.objects.filter(action="change")
    assert event.changes == {
        "backup_policy_name": {"before": "nightly", "after": "nightly2"},
        "scheduled_policy.status": {"before": "ON", "after": "OFF"},
        "tags": {
            "before": [{"key": "env", "value": "prod"}, {"key": "team", "value": "a"}],
            "after": [{"key": "env", "value": "test"}, {"key": "owner", "value": "bob"}],
        },
    }
    assert (event.entrance, event.user) == ("admin", superuser)


def test_a_policy_cannot_be_moved_to_another_project(admin_client, policy, other_tenant):
    data = change_data(admin_client, policy, tenant=str(other_tenant.pk), status="OFF")
    assert post_change(admin_client, policy, data).status_code == HTTPStatus.FOUND
    policy.refresh_from_db()
    assert (policy.tenant.project_id, policy.status) == ("tenant-a", "OFF")


def test_switching_to_every_n_days_drops_the_weekdays(admin_client, policy):
    data = change_data(admin_client, policy, frequency="3", week_frequency="")
    assert post_change(admin_client, policy, data).status_code == HTTPStatus.FOUND
    policy.refresh_from_db()
    assert (policy.frequency, policy.week_frequency) == (3, "")


def test_an_emptied_time_zone_is_stored_as_utc_as_a_modify_cannot_remove_it(admin_client, policy):
    assert (
        post_change(admin_client, policy, change_data(admin_client, policy, time_zone="")).status_code == 302
    )
    policy.refresh_from_db()
    assert policy.time_zone == "UTC+00:00"


def test_saving_an_unchanged_policy_writes_and_records_nothing(admin_client, policy):
    before = BackupPolicy.objects.get(pk=policy.pk).updated_at
    events = AuditEvent.objects.count()
    assert (
        post_change(admin_client, policy, change_data(admin_client, policy)).status_code == HTTPStatus.FOUND
    )
    assert BackupPolicy.objects.get(pk=policy.pk).updated_at == before
    assert AuditEvent.objects.count() == events


def test_a_save_from_a_page_opened_before_another_change_is_held_once(admin_client, policy):
    stale = change_data(admin_client, policy, status="OFF")  # the change page, opened
    spec = parse.parse_policy_update({"scheduled_policy": {"rentention_day": 10}}, policy.to_spec()).spec
    services.policy_update(policy=policy, spec=spec, actor=audit.Actor.command())  # e.g. by the API

    response = post_change(admin_client, policy, stale)

    assert response.status_code == HTTPStatus.OK  # not saved: the page again, with the edits
    assert "changed since you opened this page" in html.unescape(response.content.decode())
    assert response.context["adminform"].form["status"].value() == "OFF"
    policy.refresh_from_db()
    assert (policy.retention_day, policy.status) == (10, "ON")  # the other change is not undone
    # The page is now drawn from the policy as stored: saving it again is a choice made knowing it.
    again = post_change(admin_client, policy, page_data(response))
    assert again.status_code == HTTPStatus.FOUND
    policy.refresh_from_db()
    assert (policy.retention_day, policy.status) == (30, "OFF")


def test_a_save_from_a_page_of_the_policy_as_stored_goes_through(admin_client, policy):
    page = admin_client.get(admin_url("backuppolicy", "change", policy.pk)).content.decode()
    assert 'type="hidden" name="seen"' in page
    data = change_data(admin_client, policy, retention_day="9")
    assert post_change(admin_client, policy, data).status_code == HTTPStatus.FOUND
    policy.refresh_from_db()
    assert policy.retention_day == 9


def test_a_refused_tag_leaves_the_policy_unchanged(admin_client, policy):
    events = AuditEvent.objects.count()
    data = change_data(admin_client, policy, status="OFF", name="renamed")
    data["tags-0-key"] = "bad key"
    response = post_change(admin_client, policy, data)
    assert any(codes.TAG in message for message in tag_form(response, 0).errors["key"])
    policy.refresh_from_db()
    assert (policy.name, policy.status) == ("nightly", "ON")
    assert tags_of(policy) == [("env", "prod"), ("team", "a")]
    assert AuditEvent.objects.count() == events


def test_a_tag_refused_by_the_service_rolls_back_the_policy_change(admin_client, policy, monkeypatch):
    """A refusal after the policy and its tags were written must undo both."""
    events = AuditEvent.objects.count()

    def refuse(*args, **kwargs):
        raise services.TagLimitExceeded(tag_bodies.tag_count_problem(11))

    monkeypatch.setattr(services, "_record", refuse)
    data = change_data(admin_client, policy, status="OFF")
    data["tags-0-value"] = "test"
    # A refusal at save is a write made meanwhile: the change page is drawn again as stored, with
    # the reason above it (the form's own checks asked the same questions before).
    response = post_change(admin_client, policy, data)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == admin_url("backuppolicy", "change", policy.pk)
    shown = [str(message) for message in admin_client.get(response["Location"]).context["messages"]]
    assert any(codes.TAG_COUNT in message and "11 tags" in message for message in shown)
    policy.refresh_from_db()
    assert policy.status == "ON"
    assert tags_of(policy) == [("env", "prod"), ("team", "a")]
    assert AuditEvent.objects.count() == events


def test_a_rename_onto_another_policy_is_refused_at_the_name(admin_client, policy, tenant):
    make_policy(tenant, "Other")
    response = post_change(
        admin_client, policy, change_data(admin_client, policy, name="OTHER", status="OFF")
    )
    assert any(codes.NAME_TAKEN in message for message in errors_at(response, "name"))
    policy.refresh_from_db()
    assert (policy.name, policy.status) == ("nightly", "ON")


@pytest.mark.parametrize(("fields", "field", "code"), REFUSED[:-1])
def test_change_refuses_what_the_contract_refuses(admin_client, policy, fields, field, code):
    data = change_data(admin_client, policy)
    data.update(fields)
    if fields.get("week_frequency") == "" and "frequency" not in fields:
        data["frequency"] = ""
    response = post_change(admin_client, policy, data)
    assert any(code in message for message in errors_at(response, field))
    assert BackupPolicy.objects.get(pk=policy.pk).updated_at == policy.updated_at


def test_a_day_shift_with_every_n_days_is_refused_on_change(admin_client, policy):
    data = change_data(
        admin_client,
        policy,
        start_time="22:00,00:00",
        time_zone="UTC+02:00",
        week_frequency="",
        frequency="1",
    )
    response = post_change(admin_client, policy, data)
    assert any(codes.TIME_ZONE in message for message in errors_at(response, "frequency"))


# --- Deleting ---------------------------------------------------------------------------------


def test_delete_goes_through_the_service_and_is_recorded(admin_client, policy):
    response = admin_client.post(admin_url("backuppolicy", "delete", policy.pk), {"post": "yes"})
    assert response.status_code == HTTPStatus.FOUND
    assert not BackupPolicy.objects.exists()
    assert PolicyTag.objects.count() == 0
    event = AuditEvent.objects.get(action="delete")
    assert (event.entrance, event.policy_id, event.policy_name) == ("admin", policy.pk, "nightly")
    assert event.changes["backup_policy_name"] == {"before": "nightly", "after": None}


def test_bulk_delete_records_each_policy(admin_client, policy, tenant):
    other = make_policy(tenant, "other")
    keep = make_policy(tenant, "keep")
    response = admin_client.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": [policy.pk, other.pk], "post": "yes"}
    )
    assert response.status_code == HTTPStatus.FOUND
    assert list(BackupPolicy.objects.values_list("pk", flat=True)) == [keep.pk]
    deleted = AuditEvent.objects.filter(action="delete", entrance="admin")
    assert sorted(deleted.values_list("policy_name", flat=True)) == ["nightly", "other"]


# --- Actions ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "status", "word"), [("disable", "OFF", "Disabled"), ("enable", "ON", "Enabled")]
)
def test_enable_and_disable_record_one_change_per_changed_policy(admin_client, tenant, action, status, word):
    other = "ON" if status == "OFF" else "OFF"
    changing = [
        make_policy(
            tenant, f"p{n}", start_time="01:00", week_frequency=["MON"], rentention_num=3, status=other
        )
        for n in range(2)
    ]
    already = make_policy(
        tenant, "already", start_time="01:00", week_frequency=["MON"], rentention_num=3, status=status
    )
    selected = [policy.pk for policy in [*changing, already]]
    response = admin_client.post(CHANGELIST, {"action": action, "_selected_action": selected}, follow=True)
    assert response.status_code == HTTPStatus.OK
    assert set(BackupPolicy.objects.values_list("status", flat=True)) == {status}
    events = AuditEvent.objects.filter(action="change")
    assert sorted(events.values_list("policy_name", flat=True)) == ["p0", "p1"]
    assert all(
        event.entrance == "admin"
        and event.changes == {"scheduled_policy.status": {"before": other, "after": status}}
        for event in events
    )
    shown = [str(message) for message in response.context["messages"]]
    assert shown[0].startswith(f"{word} 2 policies. 1 already")


def test_history_link_leads_to_the_policys_audit_records(admin_client, policy):
    response = admin_client.get(admin_url("backuppolicy", "history", policy.pk))
    assert response.status_code == HTTPStatus.FOUND
    listing = admin_client.get(response["Location"])
    assert [event.policy_id for event in listing.context["cl"].result_list] == [policy.pk]


@pytest.mark.parametrize(("action", "status"), [("disable", "OFF"), ("enable", "ON")])
def test_enable_and_disable_change_policies_with_a_named_zone(admin_client, tenant, action, status):
    # The action reads each zone at the time of the request, which it passes in.
    other = "ON" if status == "OFF" else "OFF"
    zoned = [
        make_policy(
            tenant,
            payload={
                "backup_policy_name": f"zoned_{n}",
                "time_zone_name": zone,
                "scheduled_policy": {
                    "start_time": "01:00",
                    "week_frequency": ["MON", "THU"],
                    "rentention_num": 3,
                    "status": other,
                },
            },
        )
        for n, zone in enumerate(["Europe/Berlin", "America/New_York", "Asia/Tokyo"])
    ]
    response = admin_client.post(
        CHANGELIST, {"action": action, "_selected_action": [p.pk for p in zoned]}, follow=True
    )
    shown = [str(message) for message in response.context["messages"]]
    assert shown == [f"{'Enabled' if status == 'ON' else 'Disabled'} 3 policies."]
    assert set(BackupPolicy.objects.values_list("status", flat=True)) == {status}
