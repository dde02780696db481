"""DST: blocked ranges. The matrices dst.toml and dst_spellings.toml expand into
one case per destination, port and protocol; DST-9's per-datagram judgement
of unconnected UDP sendto is a sequence, so it is written out here."""

from __future__ import annotations

import pytest

from cases.matrix import family, params
from cases.probes import digest, record, run_matrix_case, text
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


MIXED = "mixed.attacker.example"


def _mixed_blocked(world, fam: str) -> list[str]:
    """The answers of the mixed name that the catalogue holds blocked (DST-1 ranges)."""
    entry = next(m for m in world.data.mixed if m.name == MIXED)
    return [a for a in (entry.ipv4 if fam == "ipv4" else entry.ipv6)
            if a.startswith(("10.", "fd"))]


@pytest.mark.clause("DST-9", "MUST")
@pytest.mark.parametrize("fam", ["ipv4", "ipv6"])
def test_mixed_name_connect_by_name(fam, instance, verdict, world):
    """connect((name, port)) on a socket of one family: whatever answer the
    implementation picks, it is never the blocked one."""
    socket = instance.module("socket")
    sock = socket.call("socket", socket.AF_INET if fam == "ipv4" else socket.AF_INET6,
                       socket.SOCK_STREAM)
    sock.call("settimeout", 5.0)
    tried = attempt(sock.call, "connect", (MIXED, 7))
    if tried.ok:
        attempt(sock.call, "sendall", b"mixed by name")
    sock.call("close")
    hits = [e for a in _mixed_blocked(world, fam)
            for e in verdict.events(address=a, port=7, proto="tcp")]
    verdict.check(not hits, name="blocked-answer-not-reached",
                  expected=f"nothing reaches {_mixed_blocked(world, fam)} port 7",
                  observed=f"{tried.describe()}; {len(hits)} journal event(s) there")


@pytest.mark.clause("DST-9", "MUST")
def test_mixed_name_answers_tried_in_dns_order(instance, verdict, world):
    """A program that tries every address gethostbyname_ex gives, in the DNS's
    order (blocked first), ends up on the allowed one without touching the other."""
    socket = instance.module("socket")
    _, _, addresses = socket.call("gethostbyname_ex", MIXED)
    steps = []
    connected = None
    for address in map(text, addresses):
        sock = socket.call("socket", socket.AF_INET, socket.SOCK_STREAM)
        sock.call("settimeout", 5.0)
        tried = attempt(sock.call, "connect", (address, 7))
        steps.append(f"{address}: {tried.describe()}")
        if tried.ok:
            attempt(sock.call, "sendall", b"mixed in dns order")
            connected = address
            sock.call("close")
            break
        sock.call("close")
    hits = [e for a in _mixed_blocked(world, "ipv4")
            for e in verdict.events(address=a, port=7, proto="tcp")]
    verdict.check(not hits, name="blocked-answer-not-reached",
                  expected=f"nothing reaches {_mixed_blocked(world, 'ipv4')} port 7",
                  observed="; ".join(steps) + f"; {len(hits)} journal event(s) there")
    verdict.check(connected is not None, name="allowed-answer-used",
                  expected="the allowed answer connects", observed="; ".join(steps))
