"""Tests that need a real part (Chromium, PostgreSQL, nginx) say so with ``require``."""

import os

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


def require(condition: bool, reason: str) -> None:
    """Skip a test that lacks a real part on a developer's machine; in CI, fail instead."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI=true and {reason}: CI must run every test", pytrace=False)
    pytest.skip(reason)
