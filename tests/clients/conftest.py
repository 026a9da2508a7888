"""Fixtures of the real VBS clients (the OTC SDK and the ``openstack vbs policy`` commands).

Both find the VBS endpoint in an OpenStack identity catalog, served by the stand-in in
tests/helpers/identity_standin.py; every VBS request goes over HTTP to the real API.
"""

import pytest

from tests.helpers.identity_standin import REGION, USER, IdentityStandIn


@pytest.fixture
def identity(live_server, tenant, token):
    with IdentityStandIn(
        token=token, project_id=tenant.project_id, vbs_url=f"{live_server.url}/v2/{tenant.project_id}"
    ) as stand_in:
        yield stand_in


@pytest.fixture
def clean_environment(monkeypatch, tmp_path):
    """No OS_* variable or clouds.yaml of the machine may point the clients elsewhere."""
    import os

    for name in list(os.environ):
        if name.startswith("OS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / ".config"))


@pytest.fixture
def vbs(identity, tenant, clean_environment):
    """The OTC SDK's VBS proxy (``conn.volume_backup``), signed in through the identity stand-in."""
    import openstack
    from otcextensions import sdk

    conn = openstack.connect(
        auth_type="v3password",
        auth={
            "auth_url": identity.auth_url,
            "username": USER["name"],
            "password": "not-checked-by-the-stand-in",
            "project_id": tenant.project_id,
            "user_domain_name": USER["domain"]["name"],
        },
        region_name=REGION,
        load_yaml_config=False,
        load_envvars=False,
    )
    sdk.register_otc_extensions(conn)
    yield conn.volume_backup
    conn.close()
