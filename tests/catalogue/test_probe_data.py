"""An allowed matrix row is only as good as its probe: a row aimed at a service no
probe speaks is a data error when the catalogue loads, never a silent fall back to
the canary's probe (which only sends bytes and expects no answer)."""

from __future__ import annotations

import dataclasses

import pytest

from cases.matrix import MatrixDataError, matrix
from cases.probes import PROBES, probe_for, service_at, with_probes
from fakenet.world import load_world


def test_every_allowed_row_of_the_catalogue_has_a_probe():
    world = load_world()
    cases = [c for name in ("dst", "exc", "ports") for c in matrix(name)]
    assert with_probes(cases, world) == cases
    services = {service_at(world, c.host, c.proto, c.port) for c in cases
                if c.expected == "allowed"}
    assert services - {None}, "the allowed rows talk to real services, not only canaries"


def test_a_service_without_a_probe_is_a_data_error(monkeypatch):
    world = load_world()
    case = next(c for c in matrix("dst") if c.expected == "allowed" and c.port == 7
                and c.proto == "tcp")
    monkeypatch.delitem(PROBES, ("tcp", "echo"))
    with pytest.raises(MatrixDataError, match="no probe speaks 'echo'"):
        with_probes([case], world)
    with pytest.raises(MatrixDataError):
        probe_for("tcp", "echo", case.source)
    blocked = dataclasses.replace(case, expected="blocked")
    assert with_probes([blocked], world) == [blocked]   # blocked rows aim, never probe
