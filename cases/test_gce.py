"""GCE-1: Compute Engine addresses are not Google's: allowed on any port but 25
(port 25 is P25-1's row in matrices/ports.toml)."""

from __future__ import annotations

import pytest

from .matrix import family, params
from .probes import run_matrix_case, with_probes

CASES = with_probes(family("ports", clause_prefix="GCE-"))


@pytest.mark.parametrize("case", params(CASES))
def test_compute_engine(case, instance, verdict, world):
    run_matrix_case(instance, verdict, world, case)
