"""The API's queries do not grow with what a project holds (no query per policy or per tag).

Each case gets its own project, user and new token, so the once-a-minute "token last used"
write happens in every case alike.
"""

from http import HTTPStatus

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from policies import accounts
from tests.helpers.api import ContractClient, create_url
from tests.helpers.factories import MembershipFactory, TenantFactory, UserFactory
from tests.helpers.payloads import valid_payload
from tests.helpers.policies import make_policy

pytestmark = pytest.mark.django_db


def project_holding(count: int, *, tags: int = 1) -> tuple[str, ContractClient]:
    tenant = TenantFactory(project_id=f"holds-{count}")
    user = UserFactory(username=f"holder-{count}")
    MembershipFactory(user=user, tenant=tenant)
    for index in range(count):
        tag_list = [{"key": f"key{n}", "value": f"value{n}"} for n in range(tags)]
        make_policy(tenant, payload=valid_payload(backup_policy_name=f"held_{index}", tags=tag_list))
    _, token = accounts.token_issue(user=user)
    return tenant.project_id, ContractClient(token)


def queries_of(send) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        response = send()
    assert response.status_code == HTTPStatus.OK, response.content
    return len(captured), [query["sql"] for query in captured.captured_queries]


def create_queries(holding: int) -> tuple[int, list[str]]:
    project_id, api = project_holding(holding)
    return queries_of(lambda: api.post(create_url(project_id), valid_payload(backup_policy_name="new_one")))


def list_queries(holding: int) -> tuple[int, list[str]]:
    project_id, api = project_holding(holding, tags=3)
    return queries_of(lambda: api.request("GET", create_url(project_id)))


def test_a_create_runs_as_many_queries_in_an_empty_project_as_in_one_holding_nine():
    empty, empty_sql = create_queries(0)
    nine, nine_sql = create_queries(9)
    assert empty == nine, "\n".join(nine_sql)


def test_a_create_runs_a_bounded_number_of_queries():
    # The token with the project, the token's last use (a new token), the transaction around the
    # rest (a savepoint here), the tenant's lock (PostgreSQL only), the count with the name check,
    # and the inserts of the policy, its tags and the audit record.
    count, sql = create_queries(0)
    assert count <= 9, "\n".join(sql)


def test_a_list_runs_as_many_queries_for_one_policy_as_for_ten():
    one, _ = list_queries(1)
    ten, ten_sql = list_queries(10)
    assert one == ten, "\n".join(ten_sql)


def test_a_list_runs_a_bounded_number_of_queries():
    # The token with the project, its last use (a new token), the policies joined to their tags.
    count, sql = list_queries(10)
    assert count <= 3, "\n".join(sql)


def test_the_token_its_membership_and_the_project_are_read_in_one_query():
    project_id, api = project_holding(1)
    api.request("GET", create_url(project_id))  # the token's first use is recorded once
    with CaptureQueriesContext(connection) as captured:
        response = api.request("GET", create_url(project_id))
    assert response.status_code == HTTPStatus.OK
    token_reads = [query["sql"] for query in captured.captured_queries if "policies_apitoken" in query["sql"]]
    assert len(token_reads) == 1
    assert "policies_membership" in token_reads[0]
    assert "policies_tenant" in token_reads[0]
    assert len(captured) == 2, "\n".join(query["sql"] for query in captured.captured_queries)


def test_a_project_the_token_may_not_open_is_refused_after_the_one_query_of_the_token():
    project_id, api = project_holding(0)
    TenantFactory(project_id="not-theirs")
    api.request("GET", create_url(project_id))  # the token's first use is recorded once
    with CaptureQueriesContext(connection) as captured:
        response = api.request("GET", create_url("not-theirs"))
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert len(captured) == 1
