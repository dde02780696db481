"""DEV-1 (MAY): under profile dev-server, record where the development server
is looser than production on a sample of MUST clauses."""

from __future__ import annotations

import pytest

from conformance.remote import attempt

from .probes import new_socket

SAMPLE = [
    ("DST-1", "tcp", "10.0.0.1", 7),
    ("DST-2", "tcp", "169.254.169.254", 80),
    ("DST-5", "tcp", "172.217.16.14", 80),
    ("EXC-3", "tcp", "smtp.gmail.com", 993),
    ("P25-1", "tcp", "93.184.215.14", 25),
    ("DST-1", "udp", "10.0.0.1", 7),
]


@pytest.mark.clause("DEV-1", "MAY")
@pytest.mark.parametrize(("clause", "proto", "target", "port"), SAMPLE,
                         ids=[f"{c}-{p}-{t}-{n}" for c, p, t, n in SAMPLE])
def test_dev_server_looser_than_production(clause, proto, target, port, candidate, instance,
                                           verdict, world):
    candidate.require_profile("dev-server")
    # the probe aims at a blocked cell on purpose: the clause's own cases judge it, this
    # records it, so it is no leak of this case (conformance.leaks)
    address = target if target[0].isdigit() else world.data.host_named(target).address("ipv4")
    verdict.expect(address, port, proto)
    sock = new_socket(instance.module("socket"), "ipv4", proto)
    if proto == "tcp":
        tried = attempt(sock.call, "connect", (target, port))
    else:
        tried = attempt(sock.call, "sendto", b"dev-server probe", (target, port))
    sock.call("close")
    hits = verdict.events(port=port, proto=proto)
    verdict.check(tried.raised and not hits, name=f"{clause}-as-production",
                  expected=f"(recorded) {clause}: blocked as in production",
                  observed=f"{tried.describe()}; {len(hits)} journal event(s)")


@pytest.mark.clause("DEV-1", "MAY")
def test_dev_server_listen_recorded(candidate, instance, verdict):
    candidate.require_profile("dev-server")
    sock = new_socket(instance.module("socket"))
    tried = attempt(sock.call, "listen", 1)
    sock.call("close")
    verdict.check(tried.raised, name="LSN-1-as-production",
                  expected="(recorded) LSN-1: listen() raises as in production",
                  observed=tried.describe())
