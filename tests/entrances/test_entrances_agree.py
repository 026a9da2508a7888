"""One table of payloads, sent through both entrances: the API and the dashboard's form.

Each payload goes to ``POST /v2/{project_id}/backuppolicy`` as JSON, and to the create form as
the form data a person would enter for it (``policies.dashboard.forms.mapping.form_data_from_payload``). Both must
accept or refuse it alike, with the same contract codes in the same order. Every row is a payload
the form can express (the form cannot send, say, ``"12:30"`` or both members of a pair).
"""

from http import HTTPStatus

import pytest
from django.urls import reverse

from policies.dashboard.forms.mapping import form_data_from_payload
from policies.dashboard.forms.policy import PolicyForm
from policies.domain.contract import codes as error_codes
from policies.models import BackupPolicy
from tests.helpers.api import create_url
from tests.helpers.entrances import ROWS, api_codes, store_existing
from tests.helpers.factories import MembershipFactory, TenantFactory

pytestmark = pytest.mark.django_db


def _normalised(payload):
    """The payload as the core reads it: absent, null and the defaults are the same thing."""
    payload = {k: v for k, v in payload.items() if v is not None and v != []}
    scheduled = {k: v for k, v in payload.get("scheduled_policy", {}).items() if v is not None}
    scheduled.setdefault("remain_first_backup_of_curMonth", "N")
    return {**payload, "scheduled_policy": scheduled}


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
    store_existing(tenant, existing)
    store_existing(form_tenant, existing)
    before = BackupPolicy.objects.filter(tenant=form_tenant).count()

    api_response = api.post(create_url(tenant), payload)
    expected_status = HTTPStatus.CONFLICT if codes == [error_codes.NAME_TAKEN] else HTTPStatus.BAD_REQUEST
    assert api_response.status_code == (HTTPStatus.OK if not codes else expected_status), api_response.content
    assert api_codes(api_response) == codes

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
