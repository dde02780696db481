"""A positive check waits (bounded, on the journal) for the effect it looks for.

Under CPU load the world may journal a close a moment after the candidate's
call returned; the verdict must wait for it rather than fail, and an effect
that never comes must still fail once the bound is spent.
"""

from __future__ import annotations

import time

import pytest

from conformance.fixtures import CaseState
from conformance.remote import Attempt
from conformance.verdict import EvidenceUnavailable, Verdict
from fakenet.journal import JournalEvent


class LateWorld:
    """A journal whose close event shows up only after `delay` seconds."""

    data = None

    def __init__(self, delay: float) -> None:
        self.ready_at = time.monotonic() + delay
        self.reads = 0

    def events(self, since: int) -> list[JournalEvent]:
        self.reads += 1
        if time.monotonic() < self.ready_at:
            return []
        return [JournalEvent(1, 0.0, "echo", "service", "tcp", "close", ("192.0.2.7", 7),
                             ("10.9.9.9", 40000), 3, "ab")]


def _verdict(world: LateWorld) -> Verdict:
    return Verdict(CaseState(mark=0), world)


def test_reached_waits_for_a_late_close() -> None:
    world = LateWorld(0.3)
    _verdict(world).reached("192.0.2.7", 7, "tcp", kind="close")
    assert world.reads > 1


def test_delivered_and_allowed_wait_too() -> None:
    _verdict(LateWorld(0.3)).delivered(3, "ab", port=7)
    _verdict(LateWorld(0.3)).allowed(Attempt(ok=True), "192.0.2.7", 7)


def test_the_wait_is_bounded() -> None:
    started = time.monotonic()
    assert _verdict(LateWorld(60)).await_event(timeout=0.2, port=7) == []
    assert time.monotonic() - started < 2


class WatchesPort7:
    """World data that watches port 7 on loopback (so "nothing reached" could be seen)."""

    hosts = ()
    watched = None

    @staticmethod
    def watched_ports(proto: str) -> set[int]:
        return {7}


class DroppingWorld(LateWorld):
    """A journal that says the kernel dropped datagrams during the case."""

    data = WatchesPort7()

    def events(self, since: int) -> list[JournalEvent]:
        return [JournalEvent(1, 0.0, "kernel", "world", "", "drops", ("", 0), ("", 0),
                             detail={"Udp:RcvbufErrors": 12})]


def test_nothing_reached_is_no_evidence_while_the_world_dropped_traffic() -> None:
    with pytest.raises(EvidenceUnavailable, match="RcvbufErrors"):
        _verdict(DroppingWorld(0)).nothing_reached("127.0.0.1", 7, "udp")
    with pytest.raises(EvidenceUnavailable, match="dropped"):
        _verdict(DroppingWorld(0)).blocked(Attempt(ok=False), "127.0.0.1", 7, "udp")
