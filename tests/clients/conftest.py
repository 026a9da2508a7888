"""Fixtures of the real VBS clients (the OTC SDK and the ``openstack vbs policy`` commands).

Both find the VBS endpoint in an OpenStack identity catalog, served by the stand-in in
tests/helpers/identity_standin.py; every VBS request goes over HTTP to the real API.
"""

import os

import pytest

from tests.helpers import cli_process
from tests.helpers.identity_standin import REGION, USER, IdentityStandIn


@pytest.fixture
def identity(live_server, tenant, token):
    with IdentityStandIn(
        token=token,
        project_id=tenant.project_id,
        vbs_url=f"{live_server.url}/v2/{tenant.project_id}",
        server_url=live_server.url,
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


def connect(identity, tenant):
    """An openstacksdk connection signed in through the identity stand-in, as a user's would be."""
    import openstack

    return openstack.connect(
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


@pytest.fixture
def vbs(identity, tenant, clean_environment):
    """The OTC SDK's VBS proxy (``conn.volume_backup``), signed in through the identity stand-in."""
    from otcextensions import sdk

    conn = connect(identity, tenant)
    sdk.register_otc_extensions(conn)
    yield conn.volume_backup
    conn.close()


@pytest.fixture
def block_storage(identity, tenant, clean_environment):
    """openstacksdk's block_storage proxy, signed in through the identity stand-in."""
    conn = connect(identity, tenant)
    yield conn.block_storage
    conn.close()


@pytest.fixture
def openstack(identity, tenant, tmp_path, tmp_path_factory):
    """Run ``openstack <args>``, each command a process of its own; return (exit status, stdout, stderr)."""
    signed_in = [
        *("--os-auth-type", "v3password", "--os-auth-url", identity.auth_url),
        *("--os-username", USER["name"], "--os-password", "not-checked-by-the-stand-in"),
        *("--os-project-id", tenant.project_id, "--os-user-domain-name", USER["domain"]["name"]),
        *("--os-region-name", REGION),
    ]
    # No OS_* variable or clouds.yaml of the machine may point the CLI elsewhere.
    env = {name: value for name, value in os.environ.items() if not name.startswith("OS_")}
    env.update(HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / ".config"))
    # The entry points' cache (stevedore's; it depends on the installed packages alone) is kept
    # from one test to the next, as a user's is from one command to the next.
    env.update(XDG_CACHE_HOME=str(tmp_path_factory.getbasetemp() / "cli-cache"))

    def run(*args: str) -> tuple[int, str, str]:
        return cli_process.run([*signed_in, *args], env, tmp_path)

    return run
