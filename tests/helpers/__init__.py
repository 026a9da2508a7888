"""Helpers the tests import: builders, clients, payloads, stand-ins. Fixtures live in conftest.py files."""
