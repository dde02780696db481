"""The harness against the real fake internet (fakenet.WorldHandle, a core world):
evidence checks, per-case attribution with pooled instances, and Python 2.7
inside the namespace. `native` has no policy, so blocked paths are reached."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.adapters.native import NativeAdapter, NativePy27Adapter
from conformance.fixtures import CaseState, RunState, default_world
from conformance.instance import Instance
from conformance.verdict import EvidenceUnavailable, Verdict
from tests.fakenet.worlds import write_core_world

pytestmark = pytest.mark.world

ECHO = "1.1.1.1"          # public-echo: echo on 7, sink on 9
PRIVATE = "10.0.0.1"      # DST-1, a canary answers on every watched port


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Iterator[RunState]:
    world_file = write_core_world(Path(tmp_path_factory.mktemp("world")))
    state = RunState(adapter_factory=NativeAdapter, profile=None,
                     world_factory=lambda: default_world(world_file))
    yield state
    state.close()


def new_case(run: RunState) -> tuple[CaseState, Verdict]:
    """What the plugin does before a case: mark (the world settles first)."""
    world = run.get_world()
    case = CaseState(mark=world.mark())
    return case, Verdict(case, world)


def end_case(run: RunState, case: CaseState) -> None:
    run.case_events(case)


def test_allowed_and_delivered(run):
    case, verdict = new_case(run)
    inst = run.checkout("app-a")
    socket = inst.module("socket")
    tried = inst.attempt(socket.create_connection, (ECHO, 7), 5)
    verdict.allowed(tried, address=ECHO, port=7)
    s = tried.value
    sent = inst.sendall_pattern(s, 1 << 20)
    s.call("shutdown", socket.SHUT_WR)
    echoed = inst.recv_until_eof(s)
    s.call("close")
    assert echoed.sha256 == sent.sha256
    event = verdict.delivered(sent.nbytes, sent.sha256, address=ECHO, port=7)
    assert event.kind == "close" and event.role == "service"
    assert all(c.ok for c in case.checks)
    run.checkin(inst)
    end_case(run, case)


def test_blocked_is_violated_by_native_with_evidence(run):
    case, verdict = new_case(run)
    inst = run.checkout("app-a")
    socket = inst.module("socket")
    tried = inst.attempt(socket.create_connection, (PRIVATE, 7), 5)
    assert tried.ok                               # native has no policy
    with pytest.raises(AssertionError, match=r"nothing reaches 10\.0\.0\.1:7/tcp"):
        verdict.blocked(tried, address=PRIVATE, port=7, proto="tcp")
    check = case.checks[-1]
    assert not check.ok and "canary" in check.observed and "connect" in check.observed
    run.checkin(inst)
    end_case(run, case)


def test_udp_blocked_check_sees_the_datagram(run):
    case, verdict = new_case(run)
    inst = run.checkout("app-a")
    socket = inst.module("socket")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    tried = inst.attempt(s.sendto, b"x" * 10, (PRIVATE, 53))
    with pytest.raises(AssertionError):
        verdict.blocked(tried, address=PRIVATE, port=53, proto="udp")
    hits = verdict.events(address=PRIVATE, port=53, proto="udp", kind="datagram")
    assert len(hits) == 1 and hits[0].nbytes == 10
    assert hits[0].sha256 == hashlib.sha256(b"x" * 10).hexdigest()
    run.checkin(inst)
    end_case(run, case)


def test_pooled_reset_does_not_leak_into_the_next_case(run):
    first, _ = new_case(run)
    inst = run.checkout("app-a")
    s = inst.module("socket").create_connection((PRIVATE, 80), 5)
    s.call("sendall", b"left open by the first case")
    run.checkin(inst)           # reset closes it: the canary's close event comes late
    end_case(run, first)
    second, verdict = new_case(run)
    verdict.nothing_reached(PRIVATE, 80, "tcp")
    assert run.checkout("app-a") is inst     # the same, pooled instance
    run.checkin(inst)
    end_case(run, second)


def test_unobservable_destinations_are_an_error_not_a_pass(run):
    case, verdict = new_case(run)
    inst = run.checkout("app-a")
    tried = inst.attempt(inst.module("socket").create_connection, (PRIVATE, 4444), 2)
    with pytest.raises(EvidenceUnavailable, match="does not watch tcp port 4444"):
        verdict.blocked(tried, address=PRIVATE, port=4444, proto="tcp")
    with pytest.raises(EvidenceUnavailable, match="does not watch address"):
        verdict.blocked(tried, address="44.0.0.1", port=7, proto="tcp")
    with pytest.raises(EvidenceUnavailable, match="not an IP address"):
        verdict.nothing_reached("echo.example-public.net", 7, "tcp")
    # an IPv4-mapped address is judged as its IPv4 address
    verdict.nothing_reached("::ffff:10.0.0.2", 7, "tcp")
    run.checkin(inst)
    end_case(run, case)


def test_python27_instance_in_the_world(run):
    world = run.get_world()
    spec = NativePy27Adapter().instance("app-a")
    inst = Instance.start(spec, "app-a", world, base_env={"PATH": "/usr/bin:/bin"},
                          workdir=run.workdir / "py27")
    try:
        assert inst.hello is not None and inst.hello.python.startswith("2.7")
        socket = inst.module("socket")
        s = socket.create_connection((ECHO, 7), 5)
        s.sendall(b"from 2.7")
        assert s.recv(8) == b"from 2.7"
        assert s.getpeername()[0] == ECHO
        # a name from the world's DNS, resolved inside the namespace
        assert socket.gethostbyname("echo.example-public.net") == ECHO
        missing = inst.attempt(socket.gethostbyname, "no-such-host.example-public.net")
        assert missing.error is not None and missing.error.is_gaierror
    finally:
        inst.close()
