"""One table of payloads, sent through both entrances: the API and the dashboard's form.

Each payload goes to ``POST /v2/{project_id}/backuppolicy`` as JSON, and to the create form as
the form data a person would enter for it (``policies.forms.form_data_from_payload``). Both must
accept or refuse it alike, with the same contract codes in the same order. Every row is a payload
the form can express (the form cannot send, say, ``"12:30"`` or both members of a pair).
"""

from http import HTTPStatus

import pytest
from django.urls import reverse

from policies.domain import codes as error_codes
from policies.form_mapping import form_data_from_payload
from policies.forms import PolicyForm
from policies.models import BackupPolicy
from tests.helpers.api import create_url
from tests.helpers.factories import MembershipFactory, TenantFactory
from tests.helpers.payloads import schedule_payload, valid_payload
from tests.helpers.policies import make_policy

pytestmark = pytest.mark.django_db

BERLIN_WEEK = {
    "start_time": "22:00,00:00,02:00",
    "week_frequency": ["MON"],
    "rentention_num": 7,
    "status": "ON",
}
EVERY_3_DAYS = {"start_time": "20:00,21:00", "frequency": 3, "rentention_day": 30, "status": "ON"}


def _with(**fields):
    return {**BERLIN_WEEK, **fields}


def _without(*names):
    return {k: v for k, v in BERLIN_WEEK.items() if k not in names}


# (id, payload, policies already in the project: (count, name prefix), expected codes; [] = accepted)
ROWS = [
    ("founding-example", valid_payload(), None, []),
    (
        "weekday-at-utc+2",
        valid_payload(scheduled_policy=BERLIN_WEEK, time_zone="UTC+02:00", tags=[]),
        None,
        [],
    ),
    ("every-n-days-uniform-shift", valid_payload(scheduled_policy=EVERY_3_DAYS), None, []),
    (
        "half-hour-zone",
        valid_payload(scheduled_policy=_with(start_time="00:00"), time_zone="UTC+05:30"),
        None,
        [],
    ),
    (
        "no-time-zone",
        {"backup_policy_name": "utc_only", "scheduled_policy": _with(start_time="01:00,05:00")},
        None,
        [],
    ),
    (
        "retention-day-rounded-down",
        schedule_payload(**_with(rentention_num=None) | {"rentention_day": 30.9}),
        None,
        [],
    ),
    (
        "off-and-keep-first",
        schedule_payload(**_with(status="OFF", remain_first_backup_of_curMonth="Y")),
        None,
        [],
    ),
    (
        "day-shift-with-frequency",
        valid_payload(
            scheduled_policy={**_without("week_frequency"), "frequency": 1}, time_zone="UTC+02:00", tags=[]
        ),
        None,
        [error_codes.TIME_ZONE],
    ),
    (
        "day-shift-west",
        valid_payload(
            scheduled_policy={**_without("week_frequency"), "start_time": "23:00,00:00", "frequency": 2},
            time_zone="UTC-03:00",
        ),
        None,
        [error_codes.TIME_ZONE],
    ),
    ("bad-name-chars", valid_payload(backup_policy_name="bad name!"), None, [error_codes.NAME_CHARS]),
    (
        "name-starts-with-Default",
        valid_payload(backup_policy_name="Default_x"),
        None,
        [error_codes.NAME_CHARS],
    ),
    ("name-too-long", valid_payload(backup_policy_name="n" * 65), None, [error_codes.NAME_LENGTH]),
    (
        "name-missing",
        {k: v for k, v in valid_payload().items() if k != "backup_policy_name"},
        None,
        [error_codes.NAME_LENGTH],
    ),
    ("no-start-time", schedule_payload(**_without("start_time")), None, [error_codes.START_TIME]),
    ("status-missing", schedule_payload(**_without("status")), None, [error_codes.STATUS]),
    ("no-weekday", schedule_payload(**_with(week_frequency=[])), None, [error_codes.FREQUENCY]),
    (
        "frequency-out-of-range",
        schedule_payload(**{**_without("week_frequency"), "start_time": "12:00", "frequency": 15}),
        None,
        [error_codes.FREQUENCY],
    ),
    (
        "frequency-with-fraction",
        schedule_payload(**{**_without("week_frequency"), "start_time": "12:00", "frequency": 2.5}),
        None,
        [error_codes.FREQUENCY],
    ),
    (
        "retention-num-out-of-range",
        schedule_payload(**_with(rentention_num=15)),
        None,
        [error_codes.RETENTION],
    ),
    (
        "retention-day-too-short",
        schedule_payload(**{**_without("rentention_num"), "rentention_day": 1.5}),
        None,
        [error_codes.RETENTION],
    ),
    ("no-retention", schedule_payload(**_without("rentention_num")), None, [error_codes.RETENTION]),
    ("bad-tag-key", valid_payload(tags=[{"key": "bad key", "value": "x"}]), None, [error_codes.TAG]),
    (
        "repeated-tag-key",
        valid_payload(tags=[{"key": "k", "value": "1"}, {"key": "k", "value": "2"}]),
        None,
        [error_codes.TAG],
    ),
    (
        "eleven-tags",
        valid_payload(tags=[{"key": f"k{i}", "value": ""} for i in range(11)]),
        None,
        [error_codes.TAG_COUNT],
    ),
    ("offset-minutes-15", valid_payload(time_zone="UTC+05:15"), None, [error_codes.TIME_ZONE]),
    ("offset-beyond-14h", valid_payload(time_zone="UTC+14:30"), None, [error_codes.TIME_ZONE]),
    (
        "several-problems-in-contract-order",
        valid_payload(backup_policy_name="Default", scheduled_policy=_with(rentention_num=1, status="MAYBE")),
        None,
        [error_codes.NAME_CHARS, error_codes.STATUS, error_codes.RETENTION],
    ),
    (
        "name-taken-ignoring-case",
        valid_payload(backup_policy_name="NIGHTLY"),
        (1, "nightly"),
        [error_codes.NAME_TAKEN],
    ),
    ("quota", valid_payload(backup_policy_name="eleventh"), (10, "existing"), [error_codes.QUOTA]),
    (
        "quota-before-a-free-name",
        valid_payload(backup_policy_name="existing_00"),
        (10, "existing"),
        [error_codes.QUOTA],
    ),
]


def _store(tenant, count_and_prefix):
    if not count_and_prefix:
        return
    count, prefix = count_and_prefix
    for i in range(count):
        name = prefix if count == 1 else f"{prefix}_{i:02d}"
        make_policy(tenant, name)


def _normalised(payload):
    """The payload as the core reads it: absent, null and the defaults are the same thing."""
    payload = {k: v for k, v in payload.items() if v is not None and v != []}
    scheduled = {k: v for k, v in payload.get("scheduled_policy", {}).items() if v is not None}
    scheduled.setdefault("remain_first_backup_of_curMonth", "N")
    return {**payload, "scheduled_policy": scheduled}


def _api_codes(response):
    if response.status_code == HTTPStatus.OK:
        return []
    error = response.json()["error"]
    return [detail["code"] for detail in error.get("details", [])] or [error["code"]]


@pytest.fixture
def form_tenant(user):
    """A second project of the same member, so that both entrances start from the same state."""
    tenant = TenantFactory(project_id="tenant-form", name="Form entrance")
    MembershipFactory(user=user, tenant=tenant)
    return tenant


@pytest.mark.parametrize(
    ("payload", "existing", "codes"), [row[1:] for row in ROWS], ids=[row[0] for row in ROWS]
)
def test_the_api_and_the_form_accept_and_refuse_alike(
    api, client, user, tenant, form_tenant, payload, existing, codes
):
    _store(tenant, existing)
    _store(form_tenant, existing)
    before = BackupPolicy.objects.filter(tenant=form_tenant).count()

    api_response = api.post(create_url(tenant), payload)
    expected_status = HTTPStatus.CONFLICT if codes == [error_codes.NAME_TAKEN] else HTTPStatus.BAD_REQUEST
    assert api_response.status_code == (HTTPStatus.OK if not codes else expected_status), api_response.content
    assert _api_codes(api_response) == codes

    data = form_data_from_payload(payload)
    # The row really is what the form sends: the form builds this very payload from the data.
    form = PolicyForm(data)
    form.is_valid()
    assert _normalised(form.payload) == _normalised(payload)

    client.force_login(user)
    form_response = client.post(reverse("policies:policy_create", args=[form_tenant.project_id]), data)
    if codes:
        assert form_response.status_code == HTTPStatus.OK
        assert [problem.code for problem in form_response.context["form"].problems] == codes
        assert BackupPolicy.objects.filter(tenant=form_tenant).count() == before
    else:
        assert form_response.status_code == HTTPStatus.FOUND
        via_api = BackupPolicy.objects.get(tenant=tenant, name=payload["backup_policy_name"])
        via_form = BackupPolicy.objects.get(tenant=form_tenant, name=payload["backup_policy_name"])
        assert via_form.to_spec().to_payload() == via_api.to_spec().to_payload()


def test_the_table_covers_both_verdicts_and_every_form_shaped_code():
    codes = {code for row in ROWS for code in row[3]}
    assert any(not row[3] for row in ROWS)
    assert len(ROWS) >= 12
    assert codes >= {
        error_codes.NAME_LENGTH,
        error_codes.NAME_CHARS,
        error_codes.START_TIME,
        error_codes.STATUS,
        error_codes.FREQUENCY,
        error_codes.RETENTION,
        error_codes.TAG,
        error_codes.TAG_COUNT,
        error_codes.TIME_ZONE,
        error_codes.QUOTA,
        error_codes.NAME_TAKEN,
    }
