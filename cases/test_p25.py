"""P25: port 25 is blocked everywhere (matrices/ports.toml), while authenticated
submission on 587 to the same public host works, with the real smtplib."""

from __future__ import annotations

import pytest

from .matrix import family, params
from .probes import run_matrix_case, with_probes
from .test_lib import PUBLIC_USER, submit_and_check

CASES = with_probes(family("ports", clause_prefix="P25-"))


@pytest.mark.parametrize("case", params(CASES))
def test_port_25(case, instance, verdict, world):
    run_matrix_case(instance, verdict, world, case)


@pytest.mark.clause("P25-2", "MUST")
def test_smtplib_submission_587_to_public_host(instance, verdict, world):
    """The host whose port 25 is blocked takes an authenticated submission on 587."""
    submit_and_check(instance, verdict, world, host="smtp.mailhostingcompany.net", port=587,
                     user=PUBLIC_USER, implicit_tls=False)
