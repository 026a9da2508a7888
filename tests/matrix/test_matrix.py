"""Every operation on every kind of policy from every entrance; named zones in winter and in summer.

The table is ``tests/helpers/matrix.py``: a kind is a line of KINDS, an operation a line of
OPERATIONS. Each cell drives one entrance in-process and asserts what the core says of it.
"""

import pytest

from tests.helpers.matrix import OPERATIONS, cells


@pytest.mark.parametrize(("kind", "operation", "entrance", "season"), cells())
def test_cell(world, kind, operation, entrance, season):
    function, _ = OPERATIONS[operation]
    function(world, entrance)
