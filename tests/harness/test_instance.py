"""A candidate that crashes, hangs or speaks garbage becomes CandidateError, with
its stderr tail, and is killed; per-call timeouts hold."""

from __future__ import annotations

import time

import pytest

from conformance.instance import CandidateError
from conformance.protocol import ProtocolError

from .helpers import CrashingAdapter, GarbageAdapter, HangingAdapter


def test_call_timeout_kills_the_instance(start):
    inst = start()
    time_module = inst.module("time")
    began = time.monotonic()
    with inst.timeout(0.5), pytest.raises(CandidateError, match=r"no answer within 0\.5s"):
        time_module.sleep(30)
    assert time.monotonic() - began < 5
    assert not inst.alive and inst.process.poll() is not None
    with pytest.raises(CandidateError, match="not running"):
        inst.module("os")


def test_crash_during_a_call(start):
    inst = start()
    os_module = inst.module("os")
    os_module.write(2, b"last words before the crash\n")
    with pytest.raises(CandidateError) as caught:
        os_module._exit(3)
    assert caught.value.returncode == 3
    assert "last words before the crash" in caught.value.stderr_tail
    assert "exited or closed its protocol channel" in str(caught.value)


def test_crash_at_start_reports_the_traceback(start):
    with pytest.raises(CandidateError) as caught:
        start(CrashingAdapter())
    assert "exploded on purpose" in caught.value.stderr_tail
    assert "Traceback" in caught.value.stderr_tail


def test_hang_at_start(start):
    began = time.monotonic()
    with pytest.raises(CandidateError, match="no answer within 1s"):
        start(HangingAdapter(), start_timeout=1.0)
    assert time.monotonic() - began < 5


def test_garbage_instead_of_hello(start):
    with pytest.raises(CandidateError, match="did not start the agent protocol") as caught:
        start(GarbageAdapter())
    assert "Welcome to my sandbox" in str(caught.value)


def test_garbage_in_the_middle_of_a_session(start):
    """The candidate writes to the agent's private protocol descriptor."""
    inst = start()
    agent = inst.module("__main__")
    os_module = inst.module("os")
    with pytest.raises(CandidateError, match="wrote garbage"):
        os_module.write(agent.PROTO_OUT, b"\x00\xffnot a reply\n")
    assert not inst.alive


def test_reply_for_the_wrong_request(start):
    inst = start()
    agent = inst.module("__main__")
    with pytest.raises(CandidateError, match="answered request 999"):
        inst.module("os").write(agent.PROTO_OUT, b'{"id": 999, "ok": true, "value": 1}\n')


def test_oversized_line_is_garbage(start):
    inst = start()
    inst._lines._limit = 1000   # the real limit is 64 MiB; same code path
    agent = inst.module("__main__")
    with pytest.raises(CandidateError, match="longer than 1000"):
        inst.module("os").write(agent.PROTO_OUT, b"x" * 5000)


def test_agent_refusal_is_a_protocol_error_not_a_candidate_verdict(start):
    inst = start()
    with pytest.raises(ProtocolError, match="unknown op"):
        inst.request("no-such-op")
    assert inst.alive


def test_close_is_clean(start):
    inst = start()
    inst.close()
    assert inst.process.returncode == 0
