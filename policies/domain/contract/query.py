"""Query strings: every parameter known and given once (code AutoBackup.0013, docs/api.md)."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence

from policies.domain.contract.codes import QUERY_PARAM, Problem


def single_values(
    params: Mapping[str, Sequence[str]], known: Sequence[str]
) -> tuple[dict[str, str], list[Problem]]:
    """Return each known parameter's one value, and a problem for each unknown or repeated one."""
    values, problems = {}, []
    for name, given in params.items():
        if name not in known:
            match = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
            hint = f"did you mean '{match[0]}'? " if match else ""
            detail = f"is not a query parameter here; {hint}known ones are {', '.join(known)}"
            problems.append(Problem(name, QUERY_PARAM, detail))
        elif len(given) != 1:
            problems.append(Problem(name, QUERY_PARAM, f"is given {len(given)} times; give it once"))
        else:
            values[name] = given[0]
    return values, problems
