"""OPT: socket options. Eight are supported (set is ignored, get answers a mock);
every other raises on get and on set; SO_ERROR and SO_TYPE may answer truthfully."""

from __future__ import annotations

import struct

import pytest

from conformance.adapter import Unsupported
from conformance.remote import attempt

from .probes import address_of, const, new_socket, wrap_tls

SUPPORTED = [
    ("SOL_SOCKET", "SO_KEEPALIVE", 1),
    ("SOL_SOCKET", "SO_DEBUG", 1),
    ("IPPROTO_TCP", "TCP_NODELAY", 1),
    ("SOL_SOCKET", "SO_LINGER", struct.pack("ii", 1, 5)),
    ("SOL_SOCKET", "SO_OOBINLINE", 1),
    ("SOL_SOCKET", "SO_SNDBUF", 32768),
    ("SOL_SOCKET", "SO_RCVBUF", 32768),
    ("SOL_SOCKET", "SO_REUSEADDR", 1),
]
UNSUPPORTED = [
    ("SOL_SOCKET", "SO_BROADCAST", 1, "tcp"),
    ("IPPROTO_IP", "IP_TTL", 5, "tcp"),
    ("IPPROTO_IP", "IP_TOS", 0x10, "tcp"),
    ("SOL_SOCKET", "SO_BINDTODEVICE", b"lo\0", "tcp"),
    ("IPPROTO_TCP", "TCP_KEEPIDLE", 30, "tcp"),
    ("IPPROTO_TCP", "TCP_MAXSEG", 1200, "tcp"),
    ("SOL_SOCKET", "SO_PRIORITY", 3, "tcp"),
    ("IPPROTO_IP", "IP_MULTICAST_TTL", 4, "udp"),
    ("SOL_SOCKET", "SO_BROADCAST", 1, "udp"),
]


PRE_181 = "sdk-pre-1.8.1"


@pytest.fixture
def post_181(candidate) -> None:
    """OPT-1..3 describe SDK 1.8.1 and later; under profile sdk-pre-1.8.1 OPT-4 replaces them."""
    if candidate.profile == PRE_181:
        raise Unsupported(f"not checked under profile {PRE_181}, where OPT-4 applies instead")


def _get(sock, level: int, option: int, name: str):
    if name == "SO_LINGER":
        return sock.call("getsockopt", level, option, 8)
    if name == "SO_BINDTODEVICE":
        return sock.call("getsockopt", level, option, 16)
    return sock.call("getsockopt", level, option)


@pytest.mark.clause("OPT-1", "MUST")
@pytest.mark.parametrize(("level", "name", "value"), SUPPORTED, ids=[s[1] for s in SUPPORTED])
def test_supported_option_set_and_get(level, name, value, post_181, instance, verdict):
    socket = instance.module("socket")
    sock = new_socket(socket)
    lvl, opt = const(socket, level), const(socket, name)
    set_ = attempt(sock.call, "setsockopt", lvl, opt, value)
    got = attempt(_get, sock, lvl, opt, name)
    sock.call("close")
    verdict.check(set_.ok, name="set", expected=f"setsockopt({name}) does not raise",
                  observed=set_.describe())
    verdict.check(got.ok and got.value is not None, name="get",
                  expected=f"getsockopt({name}) returns a value", observed=got.describe())


@pytest.mark.clause("OPT-1", "MUST")
@pytest.mark.parametrize(("level", "name"), [(lv, n) for lv, n, _ in SUPPORTED if n != "SO_LINGER"],
                         ids=[n for _, n, _ in SUPPORTED if n != "SO_LINGER"])
def test_supported_option_get_is_an_integer(level, name, post_181, instance, verdict):
    """getsockopt(level, option) with no buffer length answers an integer, as the
    standard module does: "a value" a program can compare with a number, not bytes."""
    socket = instance.module("socket")
    sock = new_socket(socket)
    got = attempt(sock.call, "getsockopt", const(socket, level), const(socket, name))
    sock.call("close")
    verdict.check(got.ok and isinstance(got.value, int) and not isinstance(got.value, bool),
                  name="get-int", expected=f"getsockopt({name}) returns an int",
                  observed=got.describe())


@pytest.mark.clause("OPT-1", "MUST")
def test_so_linger_get_without_buffer_length_returns_a_value(post_181, instance, verdict):
    """getsockopt(SOL_SOCKET, SO_LINGER) in its plain form, with no buffer length,
    as a program that only reads l_onoff calls it: OPT-1 asks for a value."""
    socket = instance.module("socket")
    sock = new_socket(socket)
    got = attempt(sock.call, "getsockopt", socket.SOL_SOCKET, socket.SO_LINGER)
    sock.call("close")
    verdict.check(got.ok and got.value is not None, name="get",
                  expected="getsockopt(SO_LINGER) returns a value", observed=got.describe())


@pytest.mark.clause("OPT-2", "SHOULD")
@pytest.mark.parametrize(("level", "name", "value"), SUPPORTED, ids=[s[1] for s in SUPPORTED])
def test_supported_option_is_a_constant_mock(level, name, value, post_181, instance, verdict):
    socket = instance.module("socket")
    first, second = new_socket(socket), new_socket(socket)
    lvl, opt = const(socket, level), const(socket, name)
    before = _get(first, lvl, opt, name)
    if isinstance(value, int) and before == value:
        value = 0 if name not in ("SO_SNDBUF", "SO_RCVBUF") else value * 2
    first.call("setsockopt", lvl, opt, value)
    after = _get(first, lvl, opt, name)
    other = _get(second, lvl, opt, name)
    first.call("close")
    second.call("close")
    verdict.check(after == before and other == before, name="mock",
                  expected=f"getsockopt({name}) unchanged by a set, the same on every socket",
                  observed=f"before {before!r}, after set({value!r}) {after!r}, "
                           f"other socket {other!r}")


def _try_both(instance, level, name, value, proto):
    socket = instance.module("socket")
    sock = new_socket(socket, "ipv4", proto)
    lvl, opt = const(socket, level), const(socket, name)
    got = attempt(_get, sock, lvl, opt, name)
    set_ = attempt(sock.call, "setsockopt", lvl, opt, value)
    sock.call("close")
    return got, set_


@pytest.mark.clause("OPT-3", "MUST")
@pytest.mark.parametrize(("level", "name", "value", "proto"), UNSUPPORTED,
                         ids=[f"{u[1]}-{u[3]}" for u in UNSUPPORTED])
def test_other_option_raises_on_get_and_set(level, name, value, proto, post_181, instance, verdict):
    got, set_ = _try_both(instance, level, name, value, proto)
    for what, tried in (("getsockopt", got), ("setsockopt", set_)):
        verdict.check(tried.error is not None and tried.error.is_socket_error, name=what,
                      expected=f"{what}({name}) raises socket.error", observed=tried.describe())


@pytest.mark.clause("OPT-3", "SHOULD")
@pytest.mark.parametrize(("level", "name", "value", "proto"), UNSUPPORTED[:5],
                         ids=[f"{u[1]}-{u[3]}" for u in UNSUPPORTED[:5]])
def test_other_option_errno_eacces(level, name, value, proto, post_181, instance, verdict):
    got, set_ = _try_both(instance, level, name, value, proto)
    verdict.raised(got, errno="EACCES")
    verdict.raised(set_, errno="EACCES")


@pytest.mark.clause("OPT-3", "MAY")
@pytest.mark.parametrize("name", ["SO_ERROR", "SO_TYPE"])
def test_read_only_options_recorded(name, post_181, instance, verdict):
    socket = instance.module("socket")
    sock = new_socket(socket)
    got = attempt(sock.call, "getsockopt", const(socket, "SOL_SOCKET"), const(socket, name))
    sock.call("close")
    truthful = {"SO_ERROR": 0, "SO_TYPE": const(socket, "SOCK_STREAM")}[name]
    verdict.check(got.ok and got.value == truthful, name="truthful",
                  expected=f"(recorded) getsockopt({name}) answers {truthful}",
                  observed=got.describe())


# An ssl socket over a sandbox socket is the app's socket too: the same options hold,
# wrapped before it connects (it would then connect itself) as after a handshake.
TLS_NAME = "www.mailhostingcompany.net"
TLS_STATES = ["wrapped-unconnected", "connected-then-wrapped"]


def _tls_socket(instance, world, state: str):
    socket = instance.module("socket")
    if state == "connected-then-wrapped":
        sock = socket.call("create_connection", (address_of(world, "public-mail"), 443), 5)
        return wrap_tls(instance, sock, TLS_NAME)
    context = instance.module("ssl").call("create_default_context")
    return context.call("wrap_socket", new_socket(socket), server_hostname=TLS_NAME,
                        do_handshake_on_connect=False)


@pytest.mark.clause("OPT-1", "MUST")
@pytest.mark.parametrize("state", TLS_STATES)
@pytest.mark.parametrize(("level", "name", "value"), [SUPPORTED[0], SUPPORTED[2]],
                         ids=[SUPPORTED[0][1], SUPPORTED[2][1]])
def test_supported_option_on_a_tls_socket(level, name, value, state, post_181, instance,
                                          verdict, world):
    tls = _tls_socket(instance, world, state)
    socket = instance.module("socket")
    lvl, opt = const(socket, level), const(socket, name)
    set_ = attempt(tls.call, "setsockopt", lvl, opt, value)
    got = attempt(tls.call, "getsockopt", lvl, opt)
    attempt(tls.call, "close")
    verdict.check(set_.ok, name="set", expected=f"setsockopt({name}) does not raise",
                  observed=set_.describe())
    verdict.check(got.ok and isinstance(got.value, int) and not isinstance(got.value, bool),
                  name="get", expected=f"getsockopt({name}) returns an int",
                  observed=got.describe())


@pytest.mark.clause("OPT-3", "MUST")
@pytest.mark.parametrize("state", TLS_STATES)
@pytest.mark.parametrize(("level", "name", "value", "proto"), UNSUPPORTED[:2],
                         ids=[u[1] for u in UNSUPPORTED[:2]])
def test_other_option_raises_on_a_tls_socket(level, name, value, proto, state, post_181,
                                             instance, verdict, world):
    tls = _tls_socket(instance, world, state)
    socket = instance.module("socket")
    lvl, opt = const(socket, level), const(socket, name)
    got = attempt(_get, tls, lvl, opt, name)
    set_ = attempt(tls.call, "setsockopt", lvl, opt, value)
    attempt(tls.call, "close")
    for what, tried in (("getsockopt", got), ("setsockopt", set_)):
        verdict.check(tried.error is not None and tried.error.is_socket_error, name=what,
                      expected=f"{what}({name}) raises socket.error", observed=tried.describe())


@pytest.mark.clause("OPT-4", "MUST")
@pytest.mark.parametrize(("level", "name", "value"), SUPPORTED[:4],
                         ids=[s[1] for s in SUPPORTED[:4]])
def test_pre_181_options_raise_not_implemented(level, name, value, candidate, instance, verdict):
    candidate.require_profile(PRE_181)
    socket = instance.module("socket")
    sock = new_socket(socket)
    lvl, opt = const(socket, level), const(socket, name)
    got = attempt(_get, sock, lvl, opt, name)
    set_ = attempt(sock.call, "setsockopt", lvl, opt, value)
    sock.call("close")
    verdict.raised(got, is_a="NotImplementedError")
    verdict.raised(set_, is_a="NotImplementedError")
