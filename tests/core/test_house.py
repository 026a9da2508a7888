"""A product module stays short enough to read whole: at most 400 lines (migrations aside).

ruff and radon measure functions, not modules, so this one rule is a test; `make lint` holds the
rest of the house (the import contracts, no function above radon's grade C).
"""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAX_LINES = 400


def too_long(root: Path, packages: tuple[str, ...] = ("policies", "config")) -> dict[str, int]:
    """Every module of ``packages`` under ``root`` longer than it may be, with its line count."""
    found = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            name = path.relative_to(root).as_posix()
            lines = len(path.read_text(encoding="utf-8").splitlines())
            if "/migrations/" not in name and lines > MAX_LINES:
                found[name] = lines
    return found


def test_no_product_module_passes_its_line_limit():
    assert too_long(ROOT) == {}


@pytest.mark.parametrize(("lines", "refused"), [(MAX_LINES, False), (MAX_LINES + 1, True)])
def test_the_limit_refuses_the_first_line_past_it(tmp_path, lines, refused):
    (tmp_path / "policies" / "migrations").mkdir(parents=True)
    (tmp_path / "policies" / "long.py").write_text("x = 1\n" * lines)
    (tmp_path / "policies" / "migrations" / "0001_long.py").write_text("x = 1\n" * 1000)
    assert too_long(tmp_path, ("policies",)) == ({"policies/long.py": lines} if refused else {})
