"""The admin accepts and refuses the entrances' table of payloads as the API does.

``tests/entrances/test_entrances_agree.py`` sends each payload to the API and to the dashboard's form; this
sends it to the admin's add page too, as the fields a member of staff would fill in.
"""

import re
from http import HTTPStatus

import pytest

from policies.models import BackupPolicy
from tests.helpers.admin import admin_url, page_data, set_tags
from tests.helpers.api import create_url
from tests.helpers.entrances import ROWS, api_codes, store_existing
from tests.helpers.factories import TenantFactory

pytestmark = pytest.mark.django_db

ADD = admin_url("backuppolicy", "add")
CODE = re.compile(r"AutoBackup\.\d{4}")


def admin_fields(payload: dict) -> dict:
    """Return the admin's fields a person would fill in to send ``payload``."""
    scheduled = {k: v for k, v in payload.get("scheduled_policy", {}).items() if v is not None}

    def text(value) -> str:
        return "" if value is None else str(value)

    fields = {
        "name": text(payload.get("backup_policy_name")),
        "start_time": text(scheduled.get("start_time")),
        "status": text(scheduled.get("status")),
        "frequency": text(scheduled.get("frequency")),
        "week_frequency": ",".join(scheduled.get("week_frequency", [])),
        "retention_num": text(scheduled.get("rentention_num")),
        "retention_day": text(scheduled.get("rentention_day")),
        "time_zone": text(payload.get("time_zone")),
        "time_zone_name": text(payload.get("time_zone_name")),
    }
    if scheduled.get("remain_first_backup_of_curMonth") == "Y":
        fields["keep_first_of_month"] = "on"
    return fields


def admin_codes(response) -> list[str]:
    """Every contract code the admin page shows: at fields, at tag rows and above them."""
    form = response.context["adminform"].form
    formset = response.context["inline_admin_formsets"][0].formset
    shown = [str(error) for errors in form.errors.values() for error in errors]
    shown += [str(error) for row in formset.forms for errors in row.errors.values() for error in errors]
    shown += [str(error) for error in formset.non_form_errors()]
    return [code for message in shown for code in CODE.findall(message)]


@pytest.mark.parametrize(
    ("payload", "existing", "codes"), [row[1:] for row in ROWS], ids=[row[0] for row in ROWS]
)
def test_the_api_and_the_admin_accept_and_refuse_alike(api, admin_client, tenant, payload, existing, codes):
    staff_tenant = TenantFactory(project_id="tenant-admin", name="Admin entrance")
    store_existing(tenant, existing)
    store_existing(staff_tenant, existing)
    before = BackupPolicy.objects.filter(tenant=staff_tenant).count()
    api_response = api.post(create_url(tenant), payload)
    assert api_codes(api_response) == codes

    data = page_data(admin_client.get(ADD))
    data.update(admin_fields(payload), tenant=str(staff_tenant.pk))
    tags = [(tag["key"], tag["value"]) for tag in payload.get("tags") or []]
    response = admin_client.post(ADD, set_tags(data, tags))
    if codes:
        assert response.status_code == HTTPStatus.OK
        # At its fields, so in the page's order, not the API's: the same codes, each once.
        assert sorted(admin_codes(response)) == sorted(codes)
        assert BackupPolicy.objects.filter(tenant=staff_tenant).count() == before
    else:
        assert response.status_code == HTTPStatus.FOUND
        via_api = BackupPolicy.objects.get(tenant=tenant, name=payload["backup_policy_name"])
        via_admin = BackupPolicy.objects.get(tenant=staff_tenant, name=payload["backup_policy_name"])
        assert via_admin.to_spec().to_payload() == via_api.to_spec().to_payload()
