"""Talk to the API as a client does (Django's test client), and check its answers."""

import json
import uuid

from rest_framework.test import APIClient

from policies.models import BackupPolicy, PolicyTag


class ContractClient:
    """Send raw JSON bodies with X-Auth-Token, as an API client would."""

    def __init__(self, token: str | None) -> None:
        self.client = APIClient()
        self.token = token

    def _headers(self, extra):
        headers = {"HTTP_X_AUTH_TOKEN": self.token} if self.token else {}
        headers.update(extra)
        return headers

    def post(self, url, body=None, *, raw=None, content_type="application/json", **extra):
        data = raw if raw is not None else ("" if body is None else json.dumps(body))
        return self.client.generic("POST", url, data, content_type=content_type, **self._headers(extra))

    def request(self, method, url, **extra):
        return self.client.generic(method, url, "", **self._headers(extra))


def create_url(project_id) -> str:
    project_id = getattr(project_id, "project_id", project_id)
    return f"/v2/{project_id}/backuppolicy"


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


def error_of(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    return assert_envelope(status, json.loads(response.content), code)


def assert_policy_id(body) -> uuid.UUID:
    """Check a create answer: exactly ``{"backup_policy_id": "<lower-case hyphenated uuid>"}``."""
    assert set(body) == {"backup_policy_id"}, body
    policy_id = body["backup_policy_id"]
    assert isinstance(policy_id, str)
    assert str(uuid.UUID(policy_id)) == policy_id
    return uuid.UUID(policy_id)


def stored_counts() -> tuple[int, int]:
    return BackupPolicy.objects.count(), PolicyTag.objects.count()


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
