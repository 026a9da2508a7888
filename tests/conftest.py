"""Shared fixtures: users, tenants, tokens, and an API client that speaks the contract.

Helpers (builders, clients, payloads) are in tests/helpers/; this file holds fixtures only.
"""

import tempfile
from pathlib import Path

import pytest
from django.db import connection

from policies import accounts
from tests.helpers.api import ContractClient
from tests.helpers.factories import MembershipFactory, TenantFactory, UserFactory


@pytest.fixture
def tenant(db):
    return TenantFactory(project_id="tenant-a", name="Tenant A")


@pytest.fixture
def other_tenant(db):
    return TenantFactory(project_id="tenant-b", name="Tenant B")


@pytest.fixture
def user(db, tenant):
    member = UserFactory(username="alice")
    MembershipFactory(user=member, tenant=tenant)
    return member


@pytest.fixture
def token(user):
    _, raw = accounts.token_issue(user=user)
    return raw


@pytest.fixture
def api(token):
    return ContractClient(token)


@pytest.fixture(autouse=True)
def fast_password_hashers(settings):
    """Hash passwords with MD5 in tests: PBKDF2 costs ~0.3 s per user, and tests make many."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def local_provider_roots(settings, tmp_path_factory):
    """Every test gets its own volume and backup folders: none writes into the project's var/."""
    # mkdtemp's random name, not mktemp's next number: to number a folder, pytest lists every
    # earlier test's, which grows with the square of the tests a process runs.
    root = Path(tempfile.mkdtemp(prefix="local-provider-", dir=tmp_path_factory.getbasetemp()))
    settings.LOCAL_VOLUME_ROOT = root / "volumes"
    settings.LOCAL_BACKUP_ROOT = root / "backups"
    settings.BACKUP_PROVIDER = "local"
    settings.LOCAL_COPY_BYTES_PER_SECOND = None
    return root


def on_postgresql() -> bool:
    """Whether this pass runs on PostgreSQL (``make test-postgres``) rather than SQLite."""
    return connection.vendor == "postgresql"


@pytest.fixture(scope="session", autouse=True)
def flush_by_delete():
    """On PostgreSQL, empty the tables after a transactional test with DELETE, not TRUNCATE.

    Django empties every table after each test that commits (the live server's, the workers'):
    one TRUNCATE of some forty tables, which gives each a new file and costs 0.4 to 1 s here,
    against milliseconds for deleting the few rows a test leaves. The foreign keys Django makes
    are deferred, so the order of the deletes does not matter within the flush's transaction. A
    flush that restarts the sequences keeps Django's own statement.
    """
    if not on_postgresql():
        yield
        return
    from django.db.backends.postgresql.operations import DatabaseOperations as operations

    truncate = operations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if reset_sequences or not tables:
            return truncate(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        deletes = [
            f"{style.SQL_KEYWORD('DELETE FROM')} {style.SQL_FIELD(self.quote_name(table))};"
            for table in tables
        ]
        return ["SET CONSTRAINTS ALL DEFERRED;", *deletes]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(operations, "sql_flush", sql_flush)
        yield


# What a test needs to reach the database: pytest-django's fixtures (the live server brings
# transactional_db with it) or its marker. pytest-django refuses any other access from the test's
# process, so a test without one of them answers the same on every database.
DATABASE_FIXTURES = {
    "db",
    "transactional_db",
    "django_db_reset_sequences",
    "django_db_serialized_rollback",
    "live_server",
}


def uses_the_database(item) -> bool:
    return bool(item.get_closest_marker("django_db")) or not DATABASE_FIXTURES.isdisjoint(
        getattr(item, "fixturenames", ())
    )


def deselect(config, items, leave_out) -> None:
    left_out = [item for item in items if leave_out(item)]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if not leave_out(item)]


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """A test marked ``postgres`` runs in the PostgreSQL pass only: on SQLite it is deselected (the
    run says so), never collected and skipped, so nothing in a CI run can skip quietly. The
    PostgreSQL pass, in turn, leaves out the tests that never reach the database (the SQLite pass
    runs them; they would check the same thing twice)."""
    # The tests marked ``slow`` go first (a stable sort, last of the hooks: the rest keep the order
    # pytest gave them), so that pytest-xdist's workers, taking queued tests from each other
    # (``--dist worksteal``), end together: none starts a long test when the others are done.
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
    if on_postgresql():
        deselect(
            config,
            items,
            lambda item: not uses_the_database(item) and not item.get_closest_marker("postgres"),
        )
    else:
        deselect(config, items, lambda item: item.get_closest_marker("postgres"))
