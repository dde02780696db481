"""DST: blocked ranges. The matrices dst.toml and dst_spellings.toml expand into
one case per destination, port and protocol; DST-9's per-datagram judgement
of unconnected UDP sendto is a sequence, so it is written out here."""

from __future__ import annotations

import pytest

from conformance.fixtures import EvidenceUnavailable
from conformance.remote import attempt

from .matrix import family, params
from .probes import digest, new_socket, run_matrix_case, text

CASES = family("dst", "dst_spellings", clause_prefix="DST-")


@pytest.mark.parametrize("case", params(CASES))
def test_destination(case, instance, verdict, world):
    run_matrix_case(instance, verdict, world, case)


@pytest.mark.clause("DST-9", "MUST")
@pytest.mark.parametrize("fam", ["ipv4", "ipv6"])
def test_unconnected_udp_sendto_judged_per_datagram(fam, instance, verdict, world):
    """allowed, blocked, allowed on one socket: the blocked datagram raises and never
    arrives; the allowed ones on either side of it arrive intact."""
    allowed = world.data.host("public-mail").address(fam)
    blocked_host = "private-10" if fam == "ipv4" else "private-ula"
    blocked = world.data.host(blocked_host).address(fam)
    sock = new_socket(instance.module("socket"), fam, "udp")
    first, middle, last = (f"dst9-{fam}-{n}".encode() * 4 for n in ("first", "blocked", "last"))
    sent_first = attempt(sock.call, "sendto", first, (allowed, 9))
    sent_blocked = attempt(sock.call, "sendto", middle, (blocked, 9))
    sent_last = attempt(sock.call, "sendto", last, (allowed, 9))
    sock.call("close")
    leaked = verdict.events(address=blocked, port=9, proto="udp")
    arrived = {e.sha256 for e in verdict.events(address=allowed, port=9, proto="udp",
                                                kind="datagram")}
    verdict.evidence({"matrix": {
        "destination": f"{blocked_host} ({blocked})",
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


def _check_blocked_answers_untouched(verdict, world, fam: str, story: str) -> None:
    """Nothing reached port 7 of the mixed name's answers in `fam` that the catalogue
    holds blocked (the DST-1 ranges)."""
    entry = next(m for m in world.data.mixed if m.name == MIXED)
    blocked = [a for a in (entry.ipv4 if fam == "ipv4" else entry.ipv6)
               if a.startswith(("10.", "fd"))]
    if not blocked:   # else "nothing reached" would hold of nothing
        raise EvidenceUnavailable(f"the world's {MIXED} has no blocked {fam} answer")
    hits = [e for a in blocked for e in verdict.events(address=a, port=7, proto="tcp")]
    verdict.check(not hits, name="blocked-answer-not-reached",
                  expected=f"nothing reaches {blocked} port 7",
                  observed=f"{story}; {len(hits)} journal event(s) there")


@pytest.mark.clause("DST-9", "MUST")
@pytest.mark.parametrize("fam", ["ipv4", "ipv6"])
def test_mixed_name_connect_by_name(fam, instance, verdict, world):
    """connect((name, port)) on a socket of one family: whatever answer the
    implementation picks, it is never the blocked one."""
    sock = new_socket(instance.module("socket"), fam)
    tried = attempt(sock.call, "connect", (MIXED, 7))
    if tried.ok:
        attempt(sock.call, "sendall", b"mixed by name")
    sock.call("close")
    _check_blocked_answers_untouched(verdict, world, fam, tried.describe())


@pytest.mark.clause("DST-9", "MUST")
def test_mixed_name_answers_tried_in_dns_order(instance, verdict, world):
    """A program that tries every address gethostbyname_ex gives, in the DNS's
    order (blocked first), ends up on the allowed one without touching the other."""
    socket = instance.module("socket")
    _, _, addresses = socket.call("gethostbyname_ex", MIXED)
    steps = []
    connected = None
    for address in map(text, addresses):
        sock = new_socket(socket)
        tried = attempt(sock.call, "connect", (address, 7))
        steps.append(f"{address}: {tried.describe()}")
        if tried.ok:
            attempt(sock.call, "sendall", b"mixed in dns order")
            connected = address
            sock.call("close")
            break
        sock.call("close")
    _check_blocked_answers_untouched(verdict, world, "ipv4", "; ".join(steps))
    verdict.check(connected is not None, name="allowed-answer-used",
                  expected="the allowed answer connects", observed="; ".join(steps))
