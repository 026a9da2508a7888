"""Fixtures and checks shared by the API tests (Django's test client and real HTTP)."""

import json
import uuid

import pytest

from policies.models import BackupPolicy, PolicyTag
from tests.conftest import ContractClient
from tests.helpers.factories import BackupPolicyFactory, valid_payload


def assert_envelope(status: int, body, code: str) -> dict:
    """Check an error answer: the status, the envelope with non-empty strings, and its code."""
    assert isinstance(body, dict), body
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) <= {"code", "message", "details"}, error
    assert isinstance(error["code"], str)
    assert error["code"]
    assert isinstance(error["message"], str)
    assert error["message"].strip()
    assert error["code"] == code, (status, error)
    return error


def assert_policy_id(body) -> uuid.UUID:
    """Check a create answer: exactly ``{"backup_policy_id": "<lower-case hyphenated uuid>"}``."""
    assert set(body) == {"backup_policy_id"}, body
    policy_id = body["backup_policy_id"]
    assert isinstance(policy_id, str)
    assert str(uuid.UUID(policy_id)) == policy_id
    return uuid.UUID(policy_id)


def stored_counts() -> tuple[int, int]:
    return BackupPolicy.objects.count(), PolicyTag.objects.count()


def fill(tenant, count: int, prefix: str = "existing") -> list[BackupPolicy]:
    """Give the tenant ``count`` policies, each with one tag."""
    return [
        BackupPolicyFactory(tenant=tenant, payload=valid_payload(backup_policy_name=f"{prefix}_{index}"))
        for index in range(count)
    ]


@pytest.fixture
def anonymous():
    return ContractClient(None)


# --- The lifecycle routes (docs/api.md, "The policy lifecycle") -------------------------------


def policy_url(tenant, policy_id) -> str:
    """``/v2/{project_id}/backuppolicy/{policy_id}``."""
    project_id = getattr(tenant, "project_id", tenant)
    return f"/v2/{project_id}/backuppolicy/{getattr(policy_id, 'pk', policy_id)}"


def project_tags_url(tenant) -> str:
    return f"/v2/{getattr(tenant, 'project_id', tenant)}/backuppolicy/tags"


def send(client: ContractClient, method: str, url: str, body=None, *, raw=None, **extra):
    """Any method with an optional JSON body (``raw`` bytes or text as they are)."""
    data = raw if raw is not None else ("" if body is None else json.dumps(body))
    extra.setdefault("content_type", "application/json")
    return client.client.generic(method, url, data, **client._headers(extra))
