"""EXC: the documented exceptions (Google Public DNS, the Gmail hosts) and their
limits, expanded from matrices/exc.toml."""

from __future__ import annotations

import pytest

from .matrix import family, params
from .probes import run_matrix_case, with_probes

CASES = with_probes(family("exc", clause_prefix="EXC-"))


@pytest.mark.parametrize("case", params(CASES))
def test_exception(case, instance, verdict, world):
    run_matrix_case(instance, verdict, world, case)
