"""IDLE: reclamation after 10 minutes of inactivity, checked with the
candidate's virtual clock (the `clock` fixture: UNSUPPORTED without one)."""

from __future__ import annotations

import pytest

from conformance.remote import attempt

MINUTE = 60.0


def _connected(instance, world):
    sock = instance.module("socket").call(
        "create_connection", (world.data.host("public-echo").ipv4[0], 7), 5)
    sock.call("sendall", b"start")
    sock.call("recv", 16)
    return sock


def _works(sock, tag: bytes):
    def roundtrip():
        sock.call("sendall", tag)
        return bytes(sock.call("recv", 64))
    return attempt(roundtrip)


@pytest.mark.clause("IDLE-1", "MUST")
@pytest.mark.parametrize("minutes", [5, 9.5])
def test_idle_less_than_10_minutes_still_works(minutes, clock, instance, verdict, world):
    sock = _connected(instance, world)
    clock.advance(minutes * MINUTE)
    tried = _works(sock, b"still here")
    attempt(sock.call, "close")
    verdict.check(tried.ok and tried.value == b"still here", name="works",
                  expected=f"the socket works after {minutes} idle minutes",
                  observed=tried.describe())


@pytest.mark.clause("IDLE-2", "MUST")
def test_operations_renew_the_10_minutes(clock, instance, verdict, world):
    sock = _connected(instance, world)
    seen = []
    for at in (9, 18, 27):
        clock.advance(9 * MINUTE)
        seen.append((at, _works(sock, f"at {at}".encode())))
    attempt(sock.call, "close")
    verdict.check(all(t.ok and t.value == f"at {m}".encode() for m, t in seen), name="renewed",
                  expected="operations at 9, 18 and 27 minutes all work",
                  observed="; ".join(f"{m} min: {t.describe()}" for m, t in seen))


def _after_long_idle(clock, instance, world):
    sock = _connected(instance, world)
    sock.call("settimeout", 5.0)
    clock.advance(10 * MINUTE + 30)
    tried = _works(sock, b"after idle")
    attempt(sock.call, "close")
    return tried


@pytest.mark.clause("IDLE-3", "MUST")
def test_after_long_idle_works_or_raises_promptly(clock, instance, verdict, world):
    tried = _after_long_idle(clock, instance, world)
    works = tried.ok and tried.value == b"after idle"
    raised_promptly = (tried.error is not None and tried.error.is_socket_error
                       and not tried.error.is_timeout and tried.elapsed < 5.0)
    verdict.check(works or raised_promptly, name="no-hang-no-silence",
                  expected="the echo comes back, or socket.error (not a timeout) within 5 s",
                  observed=f"{tried.describe()}")


@pytest.mark.clause("IDLE-3", "MAY")
def test_reclaimed_after_long_idle_recorded(clock, instance, verdict, world):
    tried = _after_long_idle(clock, instance, world)
    verdict.check(tried.raised, name="reclaimed",
                  expected="(recorded) whether the socket was reclaimed after 10.5 idle minutes",
                  observed=tried.describe())


@pytest.mark.clause("IDLE-3", "MUST")
@pytest.mark.parametrize("method", ["recv", "recv_into"])
def test_read_after_long_idle_times_out_or_raises(method, clock, instance, verdict, world):
    """A read with nothing to read after the long idle: a live socket times out after
    its timeout, a reclaimed one raises socket.error at once. An end of stream (b'' or
    0) is neither: the peer never closed, so it would be a silent lie."""
    sock = instance.module("socket").call(
        "create_connection", (world.data.host("public-echo").ipv4[0], 7), 5)
    buf = instance.builtins().call("bytearray", 64)

    def read():
        return sock.call(method, buf) if method == "recv_into" else sock.call(method, 64)

    sock.call("sendall", b"start")
    echoed = read()   # read the same way before the idle as after it
    sock.call("settimeout", 0.5)
    clock.advance(10 * MINUTE + 30)
    tried = attempt(read)
    attempt(sock.call, "close")
    error = tried.error
    timed_out = error is not None and error.is_timeout
    raised = error is not None and error.is_socket_error and not error.is_timeout
    verdict.check((timed_out or raised) and tried.elapsed < 5.0, name="no-false-eof",
                  expected="socket.timeout after 0.5 s, or socket.error at once, within 5 s",
                  observed=f"before the idle {echoed!r}; after it {tried.describe()}")
