"""Every error code the product can answer is in docs/api.md's tables: a code no page explains is a bug."""

import re
from pathlib import Path

from policies.api import errors
from policies.domain.contract import codes, volumes

ROOT = Path(__file__).resolve().parents[2]
CODE = re.compile(r"AutoBackup\.(\d{4})")


def defined_codes() -> set[str]:
    found = set()
    for module in (codes, volumes, errors):
        for value in vars(module).values():
            if isinstance(value, str) and (match := CODE.fullmatch(value)):
                found.add(match.group(1))
    return found


def test_the_modules_define_the_codes_this_test_expects_to_find():
    assert {"0000", "0205", "0240", "0245", "0250", "1400"} <= defined_codes()


def test_every_code_has_a_row_in_the_api_docs():
    documented = set(re.findall(r"^\| `(\d{4})` \|", (ROOT / "docs" / "api.md").read_text(), re.MULTILINE))
    assert defined_codes() - documented == set()
