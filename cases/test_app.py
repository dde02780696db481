"""APP: a pickled socket carries on in another instance of the same app (one
TCP connection at the peer), and is useless to another app (nothing sent)."""

from __future__ import annotations

import hashlib

import pytest

from conformance.adapter import Unsupported
from conformance.fixtures import EvidenceUnavailable
from conformance.remote import attempt


def _echo(world) -> str:
    return world.data.host("public-echo").ipv4[0]


@pytest.mark.clause("APP-1", "MUST")
@pytest.mark.parametrize("first_instance", ["lives", "ended"])
def test_same_app_carries_on(first_instance, instances, verdict, world):
    """"ended": the first instance is gone before the second unpickles (a request that
    stored its socket and finished), so the connection must outlive the instance."""
    first, second = instances.start("app-a"), instances.start("app-a")
    sock = first.module("socket").call("create_connection", (_echo(world), 7), 5)
    sock.call("sendall", b"one")
    first_echo = sock.call("recv", 16)
    pickled = attempt(first.pickle, sock)
    verdict.check(pickled.ok, name="pickle", expected="the socket pickles",
                  observed=pickled.describe())
    if first_instance == "ended":
        first.close()
    moved = second.unpickle(pickled.value)
    moved.call("sendall", b"two")
    second_echo = moved.call("recv", 16)
    moved.call("close")
    if first_instance == "lives":
        attempt(sock.call, "close")
    verdict.check(bytes(first_echo) == b"one" and bytes(second_echo) == b"two", name="echo",
                  expected="b'one' then b'two' echoed", observed=f"{first_echo!r} {second_echo!r}")
    connects = verdict.events(address=_echo(world), port=7, proto="tcp", kind="connect")
    verdict.check(len(connects) == 1, name="one-connection",
                  expected="the peer saw one connection", observed=f"{len(connects)} connects")
    verdict.delivered(6, hashlib.sha256(b"onetwo").hexdigest(), address=_echo(world), port=7)


@pytest.mark.clause("APP-1", "MUST")
def test_same_app_unpickles_a_socket_never_connected(instances, verdict, world):
    """A socket pickled before it was connected unpickles in another instance of the
    app, where it can then be connected and used like any new socket."""
    first, second = instances.start("app-a"), instances.start("app-a")
    socket = first.module("socket")
    sock = socket.call("socket", socket.AF_INET, socket.SOCK_STREAM)
    pickled = attempt(first.pickle, sock)
    verdict.check(pickled.ok, name="pickle", expected="the socket pickles",
                  observed=pickled.describe())
    moved = attempt(second.unpickle, pickled.value)

    def roundtrip() -> bytes:
        moved.value.call("settimeout", 5.0)
        moved.value.call("connect", (_echo(world), 7))
        moved.value.call("sendall", b"new here")
        return bytes(moved.value.call("recv", 16))

    used = attempt(roundtrip) if moved.ok else moved
    if moved.ok:
        attempt(moved.value.call, "close")
    attempt(sock.call, "close")
    verdict.check(used.ok and used.value == b"new here", name="used",
                  expected="unpickled, it connects and b'new here' is echoed",
                  observed=used.describe())


@pytest.mark.clause("APP-1", "MUST")
def test_pickle_outlives_an_instance_that_used_it(instances, verdict, world):
    """The socket belongs to the app, not to the instance that last used it: an
    instance takes it up, uses it and ends without closing it; another instance of
    the app unpickles the same pickle and carries on the same connection."""
    first, second, third = (instances.start("app-a") for _ in range(3))
    sock = first.module("socket").call("create_connection", (_echo(world), 7), 5)
    sock.call("sendall", b"one")
    sock.call("recv", 16)
    pickled = first.pickle(sock)
    used = second.unpickle(pickled)
    used.call("sendall", b"two")
    second_echo = attempt(used.call, "recv", 16)
    second.close()
    moved = attempt(third.unpickle, pickled)
    third_echo = moved
    if moved.ok:
        sock3 = moved.value
        sock3.call("settimeout", 5.0)
        third_echo = attempt(lambda: (sock3.call("sendall", b"three"),
                                      bytes(sock3.call("recv", 16)))[1])
        attempt(sock3.call, "close")
    attempt(sock.call, "close")
    verdict.check(second_echo.ok and bytes(second_echo.value) == b"two", name="second",
                  expected="b'two' echoed in the second instance", observed=second_echo.describe())
    verdict.check(third_echo.ok and third_echo.value == b"three", name="third",
                  expected="after the second instance ended, the third unpickles the socket "
                           "and b'three' comes back",
                  observed=third_echo.describe())
    connects = verdict.events(address=_echo(world), port=7, proto="tcp", kind="connect")
    verdict.check(len(connects) == 1, name="one-connection",
                  expected="the peer saw one connection", observed=f"{len(connects)} connects")


@pytest.mark.clause("APP-1", "MUST")
def test_same_app_carries_on_connected_udp(instances, verdict, world):
    """A connected UDP socket keeps its peer across the pickle: getpeername names
    it and send() needs no address in the other instance."""
    first, second = instances.start("app-a"), instances.start("app-a")
    socket = first.module("socket")
    sock = socket.call("socket", socket.AF_INET, socket.SOCK_DGRAM)
    sock.call("connect", (_echo(world), 7))
    peer = sock.call("getpeername")
    pickled = attempt(first.pickle, sock)
    verdict.check(pickled.ok, name="pickle", expected="the socket pickles",
                  observed=pickled.describe())
    moved = second.unpickle(pickled.value)
    moved_peer = attempt(moved.call, "getpeername")
    sent = attempt(moved.call, "send", b"udp after the pickle")
    attempt(moved.call, "close")
    attempt(sock.call, "close")
    verdict.check(moved_peer.ok and tuple(moved_peer.value) == tuple(peer), name="peer",
                  expected=f"getpeername() == {tuple(peer)!r}", observed=moved_peer.describe())
    verdict.check(sent.ok, name="send", expected="send() on the unpickled socket works",
                  observed=sent.describe())
    verdict.delivered(20, hashlib.sha256(b"udp after the pickle").hexdigest(),
                      address=_echo(world), port=7, proto="udp")


@pytest.mark.clause("APP-2", "MUST")
def test_other_app_cannot_use_it(instances, verdict, world):
    owner, stranger = instances.start("app-a"), instances.start("app-b")
    sock = owner.module("socket").call("create_connection", (_echo(world), 7), 5)
    sock.call("sendall", b"one")
    sock.call("recv", 16)
    pickled = attempt(owner.pickle, sock)
    if pickled.raised:
        raise Unsupported("the socket does not pickle in its own app, so there is nothing for "
                          f"another app to misuse (APP-1 covers it): {pickled.describe()}")
    stolen = attempt(stranger.unpickle, pickled.value)
    used = stolen
    if stolen.ok:
        used = attempt(stolen.value.call, "sendall", b"stolen")
    verdict.check(used.error is not None and used.error.is_socket_error, name="refused",
                  expected="unpickling or the first operation raises socket.error",
                  observed=f"unpickle {stolen.describe()}; first use {used.describe()}")
    # Nothing sent: the echo would hand b"stolen" back to the owner before b"two".
    # (After a pickle the owner's close() may not close the connection, since
    # ownership travels with the pickle; ending the owner's process does.)
    sock.call("settimeout", 2.0)
    owner_use = attempt(lambda: (sock.call("sendall", b"two"), bytes(sock.call("recv", 64)))[1])
    owner.close()
    closes = verdict.events(address=_echo(world), port=7, proto="tcp", kind="close")
    clean = {hashlib.sha256(b).hexdigest() for b in (b"one", b"onetwo")}
    if closes:
        verdict.check(all(e.sha256 in clean for e in closes), name="nothing-sent",
                      expected="the peer received b'one' (and the owner's b'two'), nothing else",
                      observed="; ".join(f"{e.nbytes}B {e.sha256[:12]}" for e in closes))
    elif owner_use.ok:
        verdict.check(owner_use.value == b"two", name="nothing-sent",
                      expected="the owner's next echo is b'two' alone (no stolen bytes first)",
                      observed=repr(owner_use.value))
    else:
        raise EvidenceUnavailable(
            "neither a close event nor a working owner socket: cannot tell whether the "
            f"stranger's bytes reached the peer ({owner_use.describe()})")
