"""Production settings: a clear refusal without a secret key, and a clean deployment check."""

import os
import subprocess
import sys

import pytest

from config.settings import BASE_DIR

ROOT = BASE_DIR


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}
    environ.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_debug_off_without_a_secret_key_refuses_to_start_and_says_how_to_fix_it():
    result = manage("check", DJANGO_DEBUG="0")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off" in result.stderr


def test_the_deployment_check_is_clean_under_production_settings():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="a-long-random-production-secret-" + "x" * 40,
        DJANGO_ALLOWED_HOSTS="console.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_debug_value_that_is_not_a_boolean_is_refused():
    result = manage("check", DJANGO_DEBUG="maybe")
    assert result.returncode != 0
    assert "DJANGO_DEBUG='maybe' is not a boolean" in result.stderr


# Committed here on purpose: a key that is in the repository is public, whatever it looks like.
COMMITTED_KEY = "Vq3-committed-to-the-repository-so-anyone-can-read-it-9xZ"
STRONG_KEY = "".join(chr(33 + (index * 7) % 90) for index in range(60))  # built, so never in a file


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("django-insecure-" + STRONG_KEY, "starts with 'django-insecure-'"),
        (STRONG_KEY[:49], "too weak: 49 characters"),
        ("ab" * 40, "2 different ones"),
        (COMMITTED_KEY, "appears in tests/server/test_settings.py"),
    ],
    ids=["django-insecure", "too-short", "low-variety", "in-the-repository"],
)
def test_debug_off_with_an_insecure_secret_key_refuses_to_start_and_says_how_to_make_one(key, reason):
    result = manage("check", DJANGO_DEBUG="0", DJANGO_SECRET_KEY=key, DJANGO_ALLOWED_HOSTS="example.com")
    assert result.returncode != 0
    assert reason in result.stderr
    assert "secrets.token_urlsafe(50)" in result.stderr


def test_a_strong_key_that_is_nowhere_in_the_repository_is_accepted():
    result = manage(
        "check", DJANGO_DEBUG="0", DJANGO_SECRET_KEY=STRONG_KEY, DJANGO_ALLOWED_HOSTS="example.com"
    )
    assert result.returncode == 0, result.stderr


def production_setting(expression: str, **env: str) -> str:
    result = manage(
        "shell",
        "-c",
        f"from django.conf import settings; print({expression})",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=STRONG_KEY,
        DJANGO_ALLOWED_HOSTS="example.com",
        **env,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_the_forwarded_proto_header_is_trusted_only_when_asked():
    # Without a TLS proxy that sets it, any client could send the header and pass as HTTPS.
    assert production_setting("settings.SECURE_PROXY_SSL_HEADER") == "None"
    assert production_setting("settings.SECURE_PROXY_SSL_HEADER", DJANGO_SECURE_PROXY_SSL_HEADER="1") == str(
        ("HTTP_X_FORWARDED_PROTO", "https")
    )


def test_production_serves_static_files_compressed_under_hashed_names():
    backend = production_setting("settings.STORAGES['staticfiles']['BACKEND']")
    assert backend == "whitenoise.storage.CompressedManifestStaticFilesStorage"
