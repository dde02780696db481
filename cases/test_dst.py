"""DST: blocked ranges. The matrices dst.toml and dst_spellings.toml expand into
one case per destination, port and protocol; DST-9's per-datagram judgement
of unconnected UDP sendto is a sequence, so it is written out here."""

from __future__ import annotations

import pytest

from cases.matrix import family, params
from cases.probes import digest, record, run_matrix_case
from conformance.remote import attempt

CASES = family("dst", "dst_spellings", clause_prefix="DST-")


@pytest.mark.parametrize("case", params(CASES))
def test_destination(case, request, instance, verdict, world):
    run_matrix_case(request, instance, verdict, world, case)


@pytest.mark.clause("DST-9", "MUST")
@pytest.mark.parametrize("fam", ["ipv4", "ipv6"])
def test_unconnected_udp_sendto_judged_per_datagram(fam, request, instance, verdict, world):
    """allowed, blocked, allowed on one socket: the blocked datagram raises and never
    arrives; the allowed ones on either side of it arrive intact."""
    allowed = world.data.host("public-mail").address(fam)
    blocked = world.data.host("private-10" if fam == "ipv4" else "private-ula").address(fam)
    socket = instance.module("socket")
    sock = socket.call("socket", socket.AF_INET if fam == "ipv4" else socket.AF_INET6,
                       socket.SOCK_DGRAM)
    sock.call("settimeout", 5.0)
    first, middle, last = (f"dst9-{fam}-{n}".encode() * 4 for n in ("first", "blocked", "last"))
    sent_first = attempt(sock.call, "sendto", first, (allowed, 9))
    sent_blocked = attempt(sock.call, "sendto", middle, (blocked, 9))
    sent_last = attempt(sock.call, "sendto", last, (allowed, 9))
    sock.call("close")
    leaked = verdict.events(address=blocked, port=9, proto="udp")
    arrived = {e.sha256 for e in verdict.events(address=allowed, port=9, proto="udp",
                                                kind="datagram")}
    record(request, verdict, {"matrix": {
        "destination": f"{'private-10' if fam == 'ipv4' else 'private-ula'} ({blocked})",
        "port": 9, "proto": "udp", "expected": "blocked",
        "observed": "allowed" if leaked else ("blocked" if sent_blocked.raised else "error")}})
    verdict.check(sent_blocked.raised and not leaked, name="blocked datagram",
                  expected=f"sendto {blocked}:9 raises and nothing arrives there",
                  observed=f"{sent_blocked.describe()}; {len(leaked)} event(s) at {blocked}")
    verdict.check(sent_first.ok and sent_last.ok
                  and {digest(first), digest(last)} <= arrived, name="allowed datagrams",
                  expected=f"both datagrams to {allowed}:9 are sent and arrive intact",
                  observed=f"first {sent_first.describe()}; last {sent_last.describe()}; "
                           f"{len(arrived)} digest(s) arrived")
