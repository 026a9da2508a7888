"""Each ModelAdmin hook the policy admin overrides, one behaviour each (policies/admin/policies.py).

The admin keeps Django's add and change flow: the form and the tag rows are validated, then
``save_model`` and ``save_related`` run, then ``response_add`` / ``response_change`` answer.
"""

import html
import re
from http import HTTPStatus

import pytest
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.test import RequestFactory
from django.utils.html import strip_tags

from policies import audit, services
from policies.domain.contract import codes, limits
from policies.models import AuditEvent, BackupPolicy, PolicyTag
from tests.helpers.admin import admin_url, page_data, set_tags
from tests.helpers.policies import make_policy

pytestmark = pytest.mark.django_db

ADD = admin_url("backuppolicy", "add")
CHANGELIST = admin_url("backuppolicy", "changelist")


def model_admin():
    return admin.site._registry[BackupPolicy]


def add_data(admin_client, tenant, **fields) -> dict:
    data = page_data(admin_client.get(ADD))
    data.update(
        {
            "tenant": str(tenant.pk),
            "name": "nightly",
            "start_time": "22:00,00:00,02:00",
            "time_zone": "UTC+02:00",
            "week_frequency": "MON",
            "retention_num": "7",
        }
    )
    data.update(fields)
    return data


@pytest.fixture
def policy(tenant):
    return make_policy(tenant, "nightly", tags=[("env", "prod"), ("team", "a")])


def change_url(policy) -> str:
    return admin_url("backuppolicy", "change", policy.pk)


def shown_messages(client, url) -> list[str]:
    return [str(message) for message in client.get(url).context["messages"]]


def visible_text(response) -> str:
    """The page as a person reads it: no tags, so no attribute (a tooltip's title) either."""
    return strip_tags(response.content.decode())


# --- save_model: writes nothing ----------------------------------------------------------------


def test_save_model_alone_writes_nothing(superuser, tenant):
    request = RequestFactory().post(ADD)
    request.user = superuser
    model_admin().save_model(request, BackupPolicy(tenant=tenant, name="x"), form=None, change=False)
    assert not BackupPolicy.objects.exists()
    assert not AuditEvent.objects.exists()


# --- save_related: the one service write -------------------------------------------------------


def test_save_related_writes_the_policy_and_its_tags_in_one_audit_record(admin_client, tenant):
    data = set_tags(add_data(admin_client, tenant), [("env", "prod")])
    assert admin_client.post(ADD, data).status_code == HTTPStatus.FOUND
    policy = BackupPolicy.objects.get()
    assert list(PolicyTag.objects.filter(policy=policy).values_list("key", "value")) == [("env", "prod")]
    (event,) = AuditEvent.objects.all()
    assert (event.action, event.entrance, event.policy_id) == ("create", "admin", policy.pk)


def test_save_related_without_the_tag_rows_keeps_the_stored_tags(admin_client, superuser, policy):
    data = page_data(admin_client.get(change_url(policy)))
    request = RequestFactory().post(change_url(policy))
    request.user = superuser
    form_class = model_admin().get_form(request, policy, change=True)
    form = form_class({**data, "status": "OFF"}, instance=policy)
    assert form.is_valid(), form.errors
    model_admin().save_related(request, form, [], change=True)
    stored = BackupPolicy.objects.get()
    assert stored.status == "OFF"
    assert list(PolicyTag.objects.values_list("key", "value")) == [("env", "prod"), ("team", "a")]


# --- construct_change_message: the admin's own history names the changed fields ----------------


def test_the_admin_log_entry_names_the_stored_policy_and_its_changed_fields(admin_client, policy):
    data = page_data(admin_client.get(change_url(policy)))
    data.update(status="OFF")
    data["tags-0-value"] = "test"
    assert admin_client.post(change_url(policy), data).status_code == HTTPStatus.FOUND
    entry = LogEntry.objects.get()
    assert (entry.object_id, entry.action_flag) == (str(policy.pk), 2)
    assert entry.get_change_message() == "Changed Status."


def test_an_added_policy_is_logged_under_the_id_the_service_gave_it(admin_client, tenant):
    assert admin_client.post(ADD, add_data(admin_client, tenant)).status_code == HTTPStatus.FOUND
    entry = LogEntry.objects.get()
    assert entry.object_id == str(BackupPolicy.objects.get().pk)
    assert entry.is_addition()


# --- response_add / response_change: a write refused meanwhile --------------------------------


def refuse_with(monkeypatch, service: str, error: services.ServiceError) -> None:
    def refuse(*args, **kwargs):
        raise error

    monkeypatch.setattr(services, service, refuse)


def test_an_add_refused_meanwhile_draws_the_add_page_again_with_the_reason(admin_client, tenant, monkeypatch):
    refuse_with(monkeypatch, "policy_create", services.PolicyQuotaExceeded(services.quota_problem()))
    response = admin_client.post(ADD, add_data(admin_client, tenant))
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == ADD
    (message,) = shown_messages(admin_client, ADD)
    assert message.startswith("Nothing was saved: ")
    assert f"{limits.MAX_POLICIES_PER_TENANT}" in message
    assert not BackupPolicy.objects.exists()
    assert not LogEntry.objects.exists(), "the admin's log entry is rolled back with the save"


def test_a_change_refused_meanwhile_draws_the_stored_policy_again_with_the_reason(
    admin_client, policy, monkeypatch
):
    refuse_with(monkeypatch, "policy_update", services.PolicyNameTaken(services.name_taken_problem("x", "X")))
    data = page_data(admin_client.get(change_url(policy)))
    data.update(status="OFF")
    response = admin_client.post(change_url(policy), data)
    assert response["Location"] == change_url(policy)
    (message,) = shown_messages(admin_client, change_url(policy))
    assert "'X'" in html.unescape(strip_tags(message))
    assert codes.NAME_TAKEN in message
    assert BackupPolicy.objects.get().status == "ON"
    assert not LogEntry.objects.exists()


def test_a_saved_policy_is_answered_as_django_answers(admin_client, tenant):
    response = admin_client.post(ADD, {**add_data(admin_client, tenant), "_continue": "1"})
    policy = BackupPolicy.objects.get()
    assert response["Location"] == change_url(policy)
    assert any("was added successfully" in message for message in shown_messages(admin_client, CHANGELIST))


# --- delete_model / delete_queryset -----------------------------------------------------------


def test_deleting_a_policy_deleted_meanwhile_is_no_error(superuser, policy):
    services.policy_delete(policy=BackupPolicy.objects.get(), actor=audit.Actor.command())
    request = RequestFactory().post("/")
    request.user = superuser
    model_admin().delete_model(request, policy)
    model_admin().delete_queryset(request, BackupPolicy.objects.all())
    assert AuditEvent.objects.filter(action="delete").count() == 1


# --- the forms: the core judges, the model does not judge again -------------------------------


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": "x" * (limits.NAME_MAX + 1)}, "name"),
        ({"time_zone_name": "Europe/" + "x" * 60}, "time_zone_name"),
    ],
)
def test_a_field_gets_the_cores_one_sentence_and_not_the_models_too(admin_client, tenant, fields, field):
    response = admin_client.post(ADD, add_data(admin_client, tenant, **fields))
    (error,) = response.context["adminform"].form.errors[field]
    assert "AutoBackup." in error


@pytest.mark.parametrize(
    ("rows", "index", "part"),
    [([("k" * (limits.TAG_KEY_MAX + 1), "v")], 0, "key"), ([("env", "a"), ("env", "b")], 1, "key")],
)
def test_a_tag_row_gets_the_cores_one_sentence_and_not_the_models_too(
    admin_client, tenant, rows, index, part
):
    response = admin_client.post(ADD, set_tags(add_data(admin_client, tenant), rows))
    formset = response.context["inline_admin_formsets"][0].formset
    (error,) = formset.forms[index].errors[part]
    assert codes.TAG in error
    assert not formset.non_form_errors()


def test_the_change_page_shows_the_stored_fields_and_tag_rows(admin_client, policy):
    data = page_data(admin_client.get(change_url(policy)))
    assert (data["name"], data["week_frequency"], data["retention_day"]) == ("nightly", "SUN,WED", 30)
    assert [(data["tags-0-key"], data["tags-0-value"]), (data["tags-1-key"], data["tags-1-value"])] == [
        ("env", "prod"),
        ("team", "a"),
    ]


# --- the words staff read ---------------------------------------------------------------------


def test_a_refused_field_says_words_with_the_api_code_only_as_its_tooltip(admin_client, tenant):
    response = admin_client.post(ADD, add_data(admin_client, tenant, start_time="12:30"))
    assert response.status_code == HTTPStatus.OK
    assert f'title="API error code {codes.START_TIME}"' in response.content.decode()
    text = visible_text(response)
    assert "AutoBackup." not in text
    assert "&#x27;12:30&#x27; is not" in text  # the core's detail, as the page escapes it


def test_a_refused_action_names_the_policy_and_says_words(admin_client, policy, monkeypatch):
    problem = codes.Problem("scheduled_policy.status", codes.STATUS, "is not ON or OFF", codes.PREDICATE)
    refuse_with(monkeypatch, "policy_set_status", services.PolicyInvalid([problem]))
    response = admin_client.post(
        CHANGELIST, {"action": "disable", "_selected_action": [policy.pk]}, follow=True
    )
    text = visible_text(response)
    assert "Not changed: nightly: The status is not ON or OFF." in re.sub(r"\s+", " ", text)
    assert "AutoBackup." not in text
    assert "scheduled_policy" not in text


# --- the preview's address, from the template -------------------------------------------------


def test_the_add_and_change_pages_preview_at_their_own_address(admin_client, policy):
    add_page = admin_client.get(ADD).content.decode()
    assert f'hx-post="{admin_url("backuppolicy", "preview")}"' in add_page
    change_page = admin_client.get(change_url(policy)).content.decode()
    assert f'hx-post="{admin_url("backuppolicy", "preview_change", policy.pk)}"' in change_page
