"""The maths modules of the core return values; every sentence about them is in domain/words.py."""

import ast
import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.template import Context, Template

from policies.domain import words
from policies.domain.retention import results
from policies.domain.retention.steady import SteadyState
from policies.domain.schedule import nextruns, zones
from policies.domain.schedule.instants import NextRun

DOMAIN = Path(words.__file__).parent


# Every module of the schedule and retention maths, and the forecast over them. The simulation is
# the one reader of the words: it hands each simulated backup its explanation.
MATHS = sorted(
    str(path.relative_to(DOMAIN).with_suffix(""))
    for folder in ("schedule", "retention")
    for path in (DOMAIN / folder).glob("*.py")
    if path.name not in ("__init__.py", "simulation.py")
) + ["forecast"]


@pytest.mark.parametrize("module", MATHS)
def test_a_maths_module_does_not_import_the_words(module):
    tree = ast.parse((DOMAIN / f"{module}.py").read_text())
    imported = {
        alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) for alias in node.names
    } | {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert "words" not in imported


@pytest.mark.parametrize("value_type", [NextRun, results.Backup, SteadyState, zones.LocalTimeChange])
def test_a_value_object_has_no_property_that_speaks(value_type):
    speaking = [
        name
        for name, member in vars(value_type).items()
        if isinstance(member, property) and (name.endswith("_words") or name in ("sentence", "summary"))
    ]
    assert speaking == []


def test_one_type_tells_a_daylight_saving_change():
    assert nextruns.LocalTimeChange is zones.LocalTimeChange
    assert not hasattr(zones, "DstNote")
    fields = {field.name for field in dataclasses.fields(zones.LocalTimeChange)}
    assert {"zone_name", "change", "stored_minutes", "keeps_local", "first_run"} <= fields


def test_each_word_filter_is_the_core_function_of_the_same_name():
    from policies.templatetags import forecast_words

    for name, function in forecast_words.register.filters.items():
        assert function is getattr(words, name)


def test_a_template_says_a_duration_as_the_api_does():
    at = datetime(2026, 1, 1, tzinfo=UTC)
    steady = SteadyState(at, at, 2, 1, 60, 120, 90, at, at)
    rendered = Template("{% load forecast_words %}{{ steady|steady_gap_words }}").render(
        Context({"steady": steady})
    )
    assert rendered == words.steady_gap_words(steady) == words.duration_words(90) == "1 hour 30 minutes"


@pytest.mark.parametrize(
    ("gib", "shown"),
    [
        (0, "0 B"),
        (100 / 2**30, "100 B"),
        (1536 / 2**30, "1.5 KiB"),
        (0.000244, "256 KiB"),  # 256 KiB as the inventory stores it (to a millionth of a GiB)
        (3 / 1024, "3 MiB"),
        (1.5, "1.5 GiB"),
        (40, "40 GiB"),
        (2048, "2 TiB"),
    ],
)
def test_a_size_reads_in_the_unit_that_fits_with_three_figures_at_most(gib, shown):
    assert words.size_words(gib) == shown
