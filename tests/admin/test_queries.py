"""The policy changelist costs the same number of queries for 1 policy as for 30."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from policies.domain.contract import limits
from tests.helpers.admin import admin_url
from tests.helpers.factories import TenantFactory
from tests.helpers.policies import make_policy

pytestmark = pytest.mark.django_db

CHANGELIST = admin_url("backuppolicy", "changelist")


def queries(client, params=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(CHANGELIST, params or {})
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    "params", [{}, {"q": "env"}, {"status__exact": "ON", "o": "-7"}], ids=["plain", "search", "filter-sorted"]
)
def test_the_changelist_runs_as_many_queries_for_1_policy_as_for_30(admin_client, tenant, actor, params):
    make_policy(tenant, "p00", actor=actor, tags=[("env", "prod"), ("team", "a")])
    one = queries(admin_client, params)
    assert len(admin_client.get(CHANGELIST, params).context["cl"].result_list) == 1

    tenants = [tenant, TenantFactory(project_id="t2"), TenantFactory(project_id="t3")]
    for n in range(1, 30):
        make_policy(
            tenants[n // limits.MAX_POLICIES_PER_TENANT],
            f"p{n:02d}",
            actor=actor,
            tags=[("env", "prod"), ("n", str(n))],
        )
    thirty = queries(admin_client, params)
    response = admin_client.get(CHANGELIST, params)
    assert len(response.context["cl"].result_list) == 30
    # Every row has what its columns need, its last audit record included.
    assert all(policy.last_event is not None for policy in response.context["cl"].result_list)
    assert one == thirty
