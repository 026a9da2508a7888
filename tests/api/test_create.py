"""``POST /v2/{project_id}/backuppolicy`` through Django's test client (docs/api.md, "Conventions" and "Create a backup policy")."""

import json
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.utils import timezone

from policies import accounts, services
from policies.models import ApiToken, BackupPolicy, PolicyTag
from tests.helpers.api import ContractClient, assert_policy_id, create_url, error_of, stored_counts
from tests.helpers.factories import MembershipFactory, UserFactory
from tests.helpers.payloads import ERROR_ROWS, EVERY_DAY, every_day, valid_payload
from tests.helpers.policies import fill, make_policy

pytestmark = pytest.mark.django_db

DOCS_EXAMPLE = {"start_time": "22:00,00:00,02:00", "rentention_num": 7, "status": "ON"}


def post_raw(client: ContractClient, url: str, body) -> object:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(url, raw=raw)


# --- success ----------------------------------------------------------------------------------


def test_create_answers_200_with_exactly_the_new_policy_id(api, tenant):
    response = api.post(create_url(tenant), valid_payload())
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "application/json"
    policy_id = assert_policy_id(response.json())
    assert BackupPolicy.objects.get(pk=policy_id).tenant == tenant


def test_the_founding_request_is_stored_as_sent(api, tenant):
    response = api.post(create_url(tenant), valid_payload())
    policy = BackupPolicy.objects.get(pk=response.json()["backup_policy_id"])
    assert policy.to_spec().to_payload() == valid_payload()
    assert (policy.start_time, policy.week_frequency, policy.frequency) == ("12:00", "SUN,WED", None)
    assert (policy.retention_day, policy.retention_num) == (30, None)
    assert (policy.keep_first_of_month, policy.status, policy.time_zone) == (True, "ON", "UTC+08:00")


def test_the_docs_example_with_week_frequency_is_created_in_the_order_sent(api, tenant):
    body = valid_payload(time_zone="UTC+02:00", scheduled_policy={**DOCS_EXAMPLE, "week_frequency": ["MON"]})
    response = api.post(create_url(tenant), body)
    assert response.status_code == HTTPStatus.OK, response.content
    policy = BackupPolicy.objects.get(pk=response.json()["backup_policy_id"])
    assert (policy.start_time, policy.week_frequency) == ("22:00,00:00,02:00", "MON")


def test_the_docs_example_with_frequency_is_refused_with_0226(api, tenant):
    body = valid_payload(time_zone="UTC+02:00", scheduled_policy={**DOCS_EXAMPLE, "frequency": 1})
    error = error_of(api.post(create_url(tenant), body), 400, "AutoBackup.0226")
    assert "week_frequency" in error["message"]


def test_the_canonical_form_is_what_is_stored(api, tenant):
    body = every_day(start_time=" 22:00 , 23:00", rentention_num=None, rentention_day=30.9)
    body["time_zone"] = "UTC-00:00"
    response = api.post(create_url(tenant), body)
    policy = BackupPolicy.objects.get(pk=response.json()["backup_policy_id"])
    assert (policy.start_time, policy.retention_day, policy.time_zone) == ("22:00,23:00", 30, "UTC+00:00")


def test_only_the_winning_member_of_each_pair_is_stored(api, tenant):
    body = every_day(frequency=3, week_frequency=["MON"], rentention_num=5, rentention_day=30)
    response = api.post(create_url(tenant), body)
    policy = BackupPolicy.objects.get(pk=response.json()["backup_policy_id"])
    assert (policy.frequency, policy.week_frequency, policy.retention_num, policy.retention_day) == (
        3,
        "",
        5,
        None,
    )


def test_week_frequency_is_stored_in_sun_to_sat_order(api, tenant):
    response = api.post(create_url(tenant), every_day(frequency=None, week_frequency=["SAT", "MON", "SUN"]))
    policy = BackupPolicy.objects.get(pk=response.json()["backup_policy_id"])
    assert policy.week_frequency == "SUN,MON,SAT"


def test_tags_are_stored_in_the_order_sent(api, tenant):
    tags = [{"key": "zeta", "value": "1"}, {"key": "alpha", "value": ""}, {"key": "Mid", "value": "x"}]
    response = api.post(create_url(tenant), valid_payload(tags=tags))
    policy = BackupPolicy.objects.get(pk=response.json()["backup_policy_id"])
    assert [{"key": tag.key, "value": tag.value} for tag in policy.tags.all()] == tags


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8"])
def test_a_json_content_type_with_or_without_charset_is_accepted(api, tenant, content_type):
    response = api.post(create_url(tenant), valid_payload(), content_type=content_type)
    assert response.status_code == HTTPStatus.OK


@pytest.mark.parametrize(
    "accept", ["application/json", "*/*", "application/*", "text/html, application/json"]
)
def test_an_accept_header_that_allows_json_is_served(api, tenant, accept):
    response = api.post(create_url(tenant), valid_payload(), HTTP_ACCEPT=accept)
    assert response.status_code == HTTPStatus.OK


# --- the error table --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "code"), [row[1:] for row in ERROR_ROWS], ids=[r[0] for r in ERROR_ROWS]
)
def test_every_row_of_the_error_table_is_answered_with_its_status_and_code(api, tenant, body, status, code):
    error_of(post_raw(api, create_url(tenant), body), status, code)


@pytest.mark.parametrize(
    ("body", "status", "code"), [row[1:] for row in ERROR_ROWS], ids=[r[0] for r in ERROR_ROWS]
)
def test_a_refused_request_writes_nothing(api, tenant, body, status, code):
    fill(tenant, 2)
    before = stored_counts()
    assert post_raw(api, create_url(tenant), body).status_code == status
    assert stored_counts() == before


def test_details_list_every_problem_and_code_and_message_repeat_the_first(api, tenant):
    body = every_day(status="on", frequency=0)
    body.update(backup_policy_name="", tags=[{"key": "", "value": "v"}])
    error = error_of(api.post(create_url(tenant), body), 400, "AutoBackup.0101")
    assert [detail["code"] for detail in error["details"]] == [
        "AutoBackup.0101",
        "AutoBackup.0104",
        "AutoBackup.0106",
        "AutoBackup.0214",
    ]
    assert [detail["field"] for detail in error["details"]] == [
        "backup_policy_name",
        "scheduled_policy.status",
        "scheduled_policy.frequency",
        "tags[0].key",
    ]
    assert (error["code"], error["message"]) == (error["details"][0]["code"], error["details"][0]["message"])


def test_each_detail_has_a_field_a_code_and_a_message(api, tenant):
    error = error_of(api.post(create_url(tenant), every_day(retention_num=7)), 400, "AutoBackup.0001")
    assert error["details"] == [
        {
            "field": "scheduled_policy.retention_num",
            "code": "AutoBackup.0001",
            "message": "unknown field 'scheduled_policy.retention_num'; did you mean 'rentention_num'?",
        }
    ]


@pytest.mark.parametrize(
    "raw",
    [b"", b"   ", b"[]", b'"backup"', b"[{}]", b"42"],
    ids=["empty", "blank", "array", "string", "list", "number"],
)
def test_a_body_that_is_empty_or_not_a_json_object_is_0000(api, tenant, raw):
    error_of(api.post(create_url(tenant), raw=raw), 400, "AutoBackup.0000")


@pytest.mark.parametrize(
    "raw",
    [b"{", b'{"a": NaN}', b'{"a": Infinity}', b'{"a": -Infinity}', b"\xff\xfe\x00", b"{'a': 1}"],
    ids=["truncated", "nan", "infinity", "minus-infinity", "not-utf8", "single-quotes"],
)
def test_a_body_that_is_not_valid_json_is_0008(api, tenant, raw):
    error_of(api.post(create_url(tenant), raw=raw), 400, "AutoBackup.0008")


def test_a_key_given_twice_in_one_object_is_refused_not_silently_dropped(api, tenant):
    raw = '{"backup_policy_name": "a", "backup_policy_name": "b"}'
    error = error_of(api.post(create_url(tenant), raw=raw), 400, "AutoBackup.0008")
    assert "'backup_policy_name' twice" in error["message"]


def test_an_integer_too_long_for_python_is_out_of_range_not_invalid_json(api, tenant):
    body = valid_payload(scheduled_policy={"start_time": "01:00", "status": "ON", "rentention_num": 7})
    raw = json.dumps(body).replace('"status"', '"frequency": 1' + "0" * 5000 + ', "status"')
    error = error_of(api.post(create_url(tenant), raw=raw), 400, "AutoBackup.0106")
    assert "out of range" in error["message"]
    assert "sys." not in error["message"]


def test_an_exponent_beyond_float_range_for_rentention_day_is_out_of_range(api, tenant):
    body = valid_payload(scheduled_policy={"start_time": "01:00", "status": "ON", "frequency": 1})
    raw = json.dumps(body).replace('"frequency"', '"rentention_day": 1e400, "frequency"')
    error = error_of(api.post(create_url(tenant), raw=raw), 400, "AutoBackup.0107")
    assert "out of range" in error["message"]


def test_a_string_rentention_day_is_told_it_takes_a_number_of_days(api, tenant):
    body = valid_payload(
        scheduled_policy={"start_time": "01:00", "status": "ON", "frequency": 1, "rentention_day": "30"}
    )
    error = error_of(api.post(create_url(tenant), body), 400, "AutoBackup.0107")
    assert "must be a number of days from 2 to 99999, not a string" in error["message"]


def test_a_capitalised_tag_field_gets_a_suggestion(api, tenant):
    error = error_of(
        api.post(create_url(tenant), valid_payload(tags=[{"Key": "a", "value": ""}])), 400, "AutoBackup.0214"
    )
    assert "did you mean 'key'?" in error["message"]


def test_name_characters_are_named_so_a_person_can_find_them(api, tenant):
    error = error_of(
        api.post(create_url(tenant), valid_payload(backup_policy_name="has space!\u212a")),
        400,
        "AutoBackup.0102",
    )
    assert "a space" in error["message"]
    assert "U+212A" in error["message"]
    assert "ASCII letters" in error["message"]


def test_an_offset_with_wrong_minutes_says_the_rule_once(api, tenant):
    error = error_of(
        api.post(create_url(tenant), valid_payload(time_zone="UTC+05:15")), 400, "AutoBackup.0226"
    )
    assert error["message"].count("00, 30 or 45") == 1


# --- authentication and tenant scoping --------------------------------------------------------


def test_no_token_is_401_0002(anonymous, tenant):
    error_of(anonymous.post(create_url(tenant), valid_payload()), 401, "AutoBackup.0002")


@pytest.mark.parametrize("raw_token", ["", "   "])
def test_an_empty_token_is_401_0002(anonymous, tenant, raw_token):
    response = anonymous.post(create_url(tenant), valid_payload(), HTTP_X_AUTH_TOKEN=raw_token)
    error_of(response, 401, "AutoBackup.0002")


def test_an_unknown_token_is_401_0003(tenant):
    response = ContractClient("bpc_not-a-real-token").post(create_url(tenant), valid_payload())
    error_of(response, 401, "AutoBackup.0003")


def test_a_token_is_refused_once_its_lifetime_has_passed(monkeypatch, user, tenant):
    _, raw = accounts.token_issue(user=user, expires_in=timedelta(hours=1))
    client = ContractClient(raw)
    assert client.post(create_url(tenant), valid_payload(backup_policy_name="first")).status_code == 200
    later = timezone.now() + timedelta(hours=1, seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    error_of(client.post(create_url(tenant), valid_payload()), 401, "AutoBackup.0003")


def test_a_token_whose_expiry_is_in_the_past_is_401_0003(user, tenant):
    token, raw = accounts.token_issue(user=user)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    error_of(ContractClient(raw).post(create_url(tenant), valid_payload()), 401, "AutoBackup.0003")


def test_a_revoked_token_is_401_0003(user, tenant):
    token, raw = accounts.token_issue(user=user)
    accounts.token_revoke(token=token)
    error_of(ContractClient(raw).post(create_url(tenant), valid_payload()), 401, "AutoBackup.0003")


def test_the_token_of_an_inactive_user_is_401_0003(user, tenant, token):
    user.is_active = False
    user.save()
    error_of(ContractClient(token).post(create_url(tenant), valid_payload()), 401, "AutoBackup.0003")


def test_a_token_is_checked_by_its_hash_not_stored_in_plain_text(token):
    assert not ApiToken.objects.filter(digest=token).exists()
    assert token not in ApiToken.objects.get().digest


def test_another_tenants_project_is_403_0213(api, other_tenant):
    error_of(api.post(create_url(other_tenant), valid_payload()), 403, "AutoBackup.0213")
    assert not BackupPolicy.objects.exists()


def test_a_superuser_token_gets_no_bypass_into_other_projects(other_tenant):
    admin = UserFactory(username="root", is_superuser=True, is_staff=True)
    _, raw = accounts.token_issue(user=admin)
    error_of(ContractClient(raw).post(create_url(other_tenant), valid_payload()), 403, "AutoBackup.0213")


def test_a_nonexistent_project_gets_the_same_answer_as_another_tenants(api, other_tenant):
    other = api.post(create_url(other_tenant), valid_payload())
    missing = api.post(create_url("no-such-project"), valid_payload())
    assert missing.status_code == other.status_code == HTTPStatus.FORBIDDEN
    assert missing.json()["error"]["message"].replace("no-such-project", "X") == other.json()["error"][
        "message"
    ].replace(other_tenant.project_id, "X")
    assert missing.json()["error"]["code"] == other.json()["error"]["code"]


def test_a_member_of_two_projects_creates_in_the_one_named_in_the_path(api, user, other_tenant):
    MembershipFactory(user=user, tenant=other_tenant)
    response = api.post(create_url(other_tenant), valid_payload())
    assert BackupPolicy.objects.get(pk=response.json()["backup_policy_id"]).tenant == other_tenant


def test_authentication_is_checked_before_the_body(anonymous, tenant):
    error_of(anonymous.post(create_url(tenant), raw=b"{"), 401, "AutoBackup.0002")


def test_the_project_is_checked_before_the_body(api, other_tenant):
    error_of(api.post(create_url(other_tenant), raw=b"{"), 403, "AutoBackup.0213")


# --- tenant rules: quota and names ------------------------------------------------------------


def test_the_tenth_policy_is_created(api, tenant):
    fill(tenant, 9)
    response = api.post(create_url(tenant), valid_payload())
    assert response.status_code == HTTPStatus.OK
    assert BackupPolicy.objects.filter(tenant=tenant).count() == 10


def test_the_eleventh_policy_is_refused_with_0203(api, tenant):
    fill(tenant, 10)
    error_of(api.post(create_url(tenant), valid_payload()), 400, "AutoBackup.0203")
    assert BackupPolicy.objects.filter(tenant=tenant).count() == 10


def test_the_quota_counts_only_the_projects_own_policies(api, tenant, other_tenant):
    fill(other_tenant, 10)
    fill(tenant, 9)
    assert api.post(create_url(tenant), valid_payload()).status_code == HTTPStatus.OK


def test_a_full_project_refuses_even_an_invalid_request_with_its_validation_code(api, tenant):
    fill(tenant, 10)
    error_of(api.post(create_url(tenant), every_day(status="on")), 400, "AutoBackup.0104")


@pytest.mark.parametrize("name", ["Nightly", "nightly", "NIGHTLY", "nIgHtLy"])
def test_a_name_already_used_in_the_project_ignoring_case_is_409_0230(api, tenant, name):
    make_policy(tenant, payload=valid_payload(backup_policy_name="Nightly"))
    error_of(api.post(create_url(tenant), valid_payload(backup_policy_name=name)), 409, "AutoBackup.0230")


def test_a_name_used_in_another_project_is_accepted(api, tenant, other_tenant):
    make_policy(other_tenant, payload=valid_payload(backup_policy_name="nightly"))
    response = api.post(create_url(tenant), valid_payload(backup_policy_name="nightly"))
    assert response.status_code == HTTPStatus.OK


def test_a_full_project_answers_the_quota_before_a_name_clash(api, tenant):
    fill(tenant, 10)
    error_of(
        api.post(create_url(tenant), valid_payload(backup_policy_name="existing_0")), 400, "AutoBackup.0203"
    )


def test_the_quota_names_the_project_not_the_name_as_the_field_at_fault(api, tenant):
    fill(tenant, 10)
    details = api.post(create_url(tenant), valid_payload(backup_policy_name="new")).json()["error"]["details"]
    assert [(d["field"], d["code"]) for d in details] == [("project_id", "AutoBackup.0203")]


@pytest.mark.parametrize(
    ("prepared", "name", "status"),
    [(10, "new", 400), (3, "existing_1", 409), (3, "EXISTING_1", 409)],
    ids=["quota", "name-clash", "name-clash-other-case"],
)
def test_a_request_refused_by_a_tenant_rule_writes_nothing(api, tenant, prepared, name, status):
    fill(tenant, prepared)
    before = stored_counts()
    body = valid_payload(backup_policy_name=name, tags=[{"key": f"k{i}", "value": "v"} for i in range(10)])
    assert api.post(create_url(tenant), body).status_code == status
    assert stored_counts() == before


def test_the_409_names_the_stored_policy(api, tenant):
    assert api.post(create_url(tenant), valid_payload(backup_policy_name="policy_01")).status_code == 200
    error = error_of(
        api.post(create_url(tenant), valid_payload(backup_policy_name="POLICY_01")), 409, "AutoBackup.0230"
    )
    assert "'policy_01', which 'POLICY_01' matches" in error["message"]


# --- protocol: routes, methods, media types ---------------------------------------------------


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_a_method_the_create_path_does_not_serve_is_405(api, tenant, method):
    # GET is the list route (docs/api.md, "List"; tests/api/test_list.py).
    error_of(api.request(method, create_url(tenant)), 405, "AutoBackup.0005")


def test_a_wrong_method_is_405_even_without_a_token(anonymous, tenant):
    error_of(anonymous.request("PATCH", create_url(tenant)), 405, "AutoBackup.0005")


@pytest.mark.parametrize("accept", ["text/html", "text/plain", "application/xml"])
def test_an_accept_header_that_excludes_json_is_406(api, tenant, accept):
    response = api.post(create_url(tenant), valid_payload(), HTTP_ACCEPT=accept)
    error_of(response, 406, "AutoBackup.0015")
    assert not BackupPolicy.objects.exists()


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""]
)
def test_a_body_that_is_not_declared_as_json_is_415(api, tenant, content_type):
    response = api.post(create_url(tenant), valid_payload(), content_type=content_type)
    error_of(response, 415, "AutoBackup.0007")
    assert not BackupPolicy.objects.exists()


@pytest.mark.parametrize(
    "path",
    [
        "/v2/tenant-a/backuppolicy/",
        "/v2/tenant-a/backuppolicies",
        "/v2/tenant-a/",
        "/v2/tenant-a",
        "/v2",
        "/v2/tenant-a/backuppolicy/x/y/z",
        "/v2/tenant-a/backuppolicy//",
    ],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_an_unknown_v2_path_is_a_json_404_and_never_a_redirect(api, tenant, path, method):
    response = api.post(path, valid_payload()) if method == "POST" else api.request(method, path)
    error_of(response, 404, "AutoBackup.0004")
    assert "Location" not in response
    assert not BackupPolicy.objects.exists()


def test_the_trailing_slash_404_names_the_path_to_use(api, tenant):
    error = error_of(api.post(create_url(tenant) + "/", valid_payload()), 404, "AutoBackup.0004")
    assert "/v2/tenant-a/backuppolicy" in error["message"]


@pytest.mark.parametrize("headers", [{}, {"HTTP_ACCEPT": "text/html"}])
def test_an_unknown_v2_path_is_404_without_a_token_and_whatever_accept_says(anonymous, headers):
    error_of(anonymous.request("GET", "/v2/nowhere", **headers), 404, "AutoBackup.0004")


def test_a_body_over_the_size_limit_is_a_413_envelope_and_writes_nothing(api, tenant, settings):
    settings.API_MAX_BODY_BYTES = 1024
    body = valid_payload(backup_policy_name="big", padding="x" * 2000)
    error_of(api.post(create_url(tenant), body), 413, "AutoBackup.0011")
    assert not BackupPolicy.objects.exists()


def test_a_body_at_the_size_limit_is_read(api, tenant, settings):
    raw = json.dumps(valid_payload())
    settings.API_MAX_BODY_BYTES = len(raw.encode())
    assert api.post(create_url(tenant), raw=raw).status_code == 200


@pytest.mark.parametrize(
    "accept", ["text/html;q=1, application/json;q=0", "*/*;q=0", "application/*;q=0, text/html", "text/html"]
)
def test_an_accept_that_excludes_json_is_406_even_when_it_names_json_with_q0(api, tenant, accept):
    error_of(api.post(create_url(tenant), valid_payload(), HTTP_ACCEPT=accept), 406, "AutoBackup.0015")


@pytest.mark.parametrize(
    "accept", ["text/html, application/json;q=0.5", "application/*", "*/*", "application/json"]
)
def test_an_accept_that_admits_json_is_served(api, tenant, accept):
    assert api.post(create_url(tenant), valid_payload(), HTTP_ACCEPT=accept).status_code == 200


def test_options_is_not_a_method_of_the_api(api, tenant):
    response = api.request("OPTIONS", create_url(tenant))
    error_of(response, 405, "AutoBackup.0005")
    assert response["Allow"] == "GET, POST"


def test_a_host_the_server_does_not_serve_is_a_400_envelope_with_its_own_code(api, tenant, settings):
    settings.ALLOWED_HOSTS = ["console.example.com"]
    error = error_of(
        api.post(create_url(tenant), valid_payload(), HTTP_HOST="evil.example"), 400, "AutoBackup.0012"
    )
    assert "Host" in error["message"]


def test_a_body_without_content_type_is_told_to_send_json(api, tenant):
    error = error_of(api.post(create_url(tenant), raw="{}", content_type=""), 415, "AutoBackup.0007")
    assert error["message"].startswith("the body must be JSON")


# --- unexpected errors ------------------------------------------------------------------------


class Boom(RuntimeError):
    pass


@pytest.mark.parametrize("debug", [False, True])
def test_an_unexpected_error_is_a_500_envelope_without_internals(api, tenant, settings, monkeypatch, debug):
    settings.DEBUG = debug

    def explode(**kwargs):
        raise Boom("secret internals: password=hunter2")

    monkeypatch.setattr(services, "policy_create", explode)
    response = api.post(create_url(tenant), valid_payload())
    error = error_of(response, 500, "AutoBackup.0009")
    assert set(error) == {"code", "message"}
    for leak in (b"hunter2", b"secret", b"Boom", b"Traceback", b"services.py", b"<html"):
        assert leak not in response.content


@pytest.mark.parametrize("debug", [False, True])
def test_an_error_that_escapes_the_api_view_is_also_a_500_envelope(api, tenant, settings, monkeypatch, debug):
    settings.DEBUG = debug
    from policies.api import views

    def explode(self, request, response, *args, **kwargs):
        raise Boom("secret internals")

    # finalize_response runs outside DRF's own exception handling: the middleware must answer.
    monkeypatch.setattr(views.BackupPolicyCollection, "finalize_response", explode)
    response = api.post(create_url(tenant), valid_payload())
    error_of(response, 500, "AutoBackup.0009")
    assert b"secret" not in response.content


# --- the envelope everywhere ------------------------------------------------------------------


def test_protocol_errors_carry_no_details(anonymous, tenant):
    error = error_of(anonymous.post(create_url(tenant), valid_payload()), 401, "AutoBackup.0002")
    assert "details" not in error


def test_a_refused_policy_is_not_written_with_its_tags(api, tenant):
    body = valid_payload(tags=[{"key": "a", "value": "1"}], scheduled_policy={**EVERY_DAY, "status": "maybe"})
    assert api.post(create_url(tenant), body).status_code == 400
    assert not PolicyTag.objects.exists()
