"""LSN: no listening sockets. listen() raises (MUST), as a socket.error with
EACCES or EOPNOTSUPP (SHOULD); accept() raises on any sandbox socket (MUST)."""

from __future__ import annotations

import pytest

from conformance.remote import attempt

from .probes import new_socket

VARIANTS = [("ipv4", False), ("ipv4", True), ("ipv6", False), ("ipv6", True)]
IDS = [f"{f}-{'after-bind0' if b else 'unbound'}" for f, b in VARIANTS]


def _listen(instance, fam: str, bind_first: bool):
    socket = instance.module("socket")
    sock = new_socket(socket, fam)
    if bind_first:
        attempt(sock.call, "bind", ("" if fam == "ipv4" else "::", 0))
    return sock, attempt(sock.call, "listen", 5)


@pytest.mark.clause("LSN-1", "MUST")
@pytest.mark.parametrize(("fam", "bind_first"), VARIANTS, ids=IDS)
def test_listen_raises(fam, bind_first, instance, verdict):
    sock, tried = _listen(instance, fam, bind_first)
    sock.call("close")
    verdict.raised(tried)


@pytest.mark.clause("LSN-1", "SHOULD")
@pytest.mark.parametrize(("fam", "bind_first"), VARIANTS[:2], ids=IDS[:2])
def test_listen_raises_socket_error(fam, bind_first, instance, verdict):
    sock, tried = _listen(instance, fam, bind_first)
    sock.call("close")
    verdict.raised(tried, socket_error=True, errno=("EACCES", "EOPNOTSUPP"))
    verdict.check(not (tried.error and tried.error.type == "NotImplementedError"),
                  name="not-bare-notimplemented", expected="not a bare NotImplementedError",
                  observed=tried.describe())


@pytest.mark.clause("LSN-2", "MUST")
@pytest.mark.parametrize("fam", ["ipv4", "ipv6"])
def test_accept_raises_even_after_listen_was_asked(fam, instance, verdict):
    """If listen() slipped through, a client connects to the socket's address:
    accept() must still raise (it must not hand over a connection)."""
    socket = instance.module("socket")
    sock, listened = _listen(instance, fam, True)
    client = None
    if listened.ok:
        where = attempt(sock.call, "getsockname")
        if where.ok:
            client = new_socket(socket, fam)
            local = "127.0.0.1" if fam == "ipv4" else "::1"
            attempt(client.call, "connect", (local, where.value[1]))
    sock.call("settimeout", 2.0)
    tried = attempt(sock.call, "accept")
    if tried.ok:
        attempt(tried.value[0].call, "close")
    if client is not None:
        client.call("close")
    sock.call("close")
    verdict.raised(tried)


@pytest.mark.clause("LSN-2", "MUST")
def test_accept_on_connected_socket_raises(instance, verdict, world):
    socket = instance.module("socket")
    sock = socket.call("create_connection", (world.data.host("public-echo").ipv4[0], 7), 5)
    sock.call("settimeout", 0.5)
    tried = attempt(sock.call, "accept")
    sock.call("close")
    verdict.raised(tried)


@pytest.mark.clause("LSN-2", "MUST")
def test_accept_on_udp_socket_raises(instance, verdict):
    socket = instance.module("socket")
    sock = new_socket(socket, "ipv4", "udp")
    sock.call("settimeout", 0.5)
    tried = attempt(sock.call, "accept")
    sock.call("close")
    verdict.raised(tried)
