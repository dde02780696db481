"""API: the standard socket module API, outbound only (API-1..8), and the
errno of blocked calls (API-5, SHOULD), one case per clause family."""

from __future__ import annotations

import errno

import pytest

from conformance.adapter import Unsupported
from conformance.remote import Attempt, attempt
from fakenet.world import generated_bytes

from .matrix import family, params
from .probes import (
    address_of,
    digest,
    new_socket,
    recv_exactly,
    run_matrix_case,
    with_probes,
    wrap_tls,
)

ECHO_NAME = "echo.example-public.net"
FAMILIES = ["ipv4", "ipv6"]
MARGIN = 1.0   # seconds a timeout may overrun


# ---- API-1 ----------------------------------------------------------------------
STANDARD_NAMES = [
    "socket", "create_connection", "getaddrinfo", "gethostbyname", "gethostbyname_ex",
    "error", "timeout", "gaierror", "herror", "AF_INET", "AF_INET6", "SOCK_STREAM",
    "SOCK_DGRAM", "SOL_SOCKET", "IPPROTO_TCP", "IPPROTO_UDP", "SHUT_RD", "SHUT_WR",
    "SHUT_RDWR", "getdefaulttimeout", "setdefaulttimeout", "inet_aton", "inet_ntoa",
    "inet_pton", "inet_ntop", "htons", "ntohs", "getfqdn", "gethostname",
]


@pytest.mark.clause("API-1", "MUST")
def test_module_has_the_standard_names(instance, verdict):
    socket = instance.module("socket")
    missing = [n for n in STANDARD_NAMES if attempt(getattr, socket, n).raised]
    verdict.check(not missing, name="names", expected="every standard name is present",
                  observed=f"missing: {missing}" if missing else "all present")


@pytest.mark.clause("API-1", "MUST")
def test_error_classes_are_related_as_documented(instance, verdict):
    builtins = instance.builtins()
    socket = instance.module("socket")
    pairs = [("gaierror", "error"), ("herror", "error"), ("timeout", "error")]
    wrong = [f"{a} !<= {b}" for a, b in pairs
             if not builtins.call("issubclass", getattr(socket, a), getattr(socket, b))]
    verdict.check(not wrong, name="hierarchy",
                  expected="gaierror, herror and timeout subclass socket.error",
                  observed="; ".join(wrong) or "as documented")


# ---- API-2 ----------------------------------------------------------------------
@pytest.mark.clause("API-2", "MUST")
@pytest.mark.parametrize("fam", [*FAMILIES, "name"])
def test_create_connection_echo_roundtrip_and_eof(fam, instance, verdict, world):
    target = ECHO_NAME if fam == "name" else address_of(world, "public-echo", fam)
    socket = instance.module("socket")
    payload = f"API-2 echo over {fam}\n".encode() * 50
    sock = socket.call("create_connection", (target, 7), 5)
    sock.call("sendall", payload)
    sock.call("shutdown", socket.SHUT_WR)
    got = instance.recv_until_eof(sock)
    tail = sock.call("recv", 16)
    sock.call("close")
    verdict.check(got.sha256 == digest(payload) and got.eof, name="echo",
                  expected=f"the {len(payload)} bytes come back, then EOF",
                  observed=f"{got.nbytes} bytes eof={got.eof}")
    verdict.check(bytes(tail) == b"", name="eof", expected="recv returns b'' at EOF",
                  observed=repr(tail))
    verdict.delivered(len(payload), digest(payload), port=7)


@pytest.mark.clause("API-2", "MUST")
@pytest.mark.parametrize("fam", FAMILIES)
def test_connect_ex_returns_zero_and_names(fam, instance, verdict, world):
    address = address_of(world, "public-echo", fam)
    socket = instance.module("socket")
    sock = new_socket(socket, fam)
    code = sock.call("connect_ex", (address, 7))
    peer = sock.call("getpeername")
    local = sock.call("getsockname")
    sock.call("close")
    verdict.check(code == 0, name="connect_ex", expected="0", observed=repr(code))
    size = 2 if fam == "ipv4" else 4
    verdict.check(tuple(peer[:2]) == (address, 7) and len(peer) == size, name="getpeername",
                  expected=f"({address!r}, 7{', 0, 0' if size == 4 else ''})",
                  observed=repr(peer))
    verdict.check(isinstance(local, tuple) and len(local) == size and isinstance(local[1], int),
                  name="getsockname", expected=f"a {size}-tuple", observed=repr(local))


@pytest.mark.clause("API-2", "MUST")
@pytest.mark.parametrize("fam", FAMILIES)
def test_getsockname_of_a_connected_socket_has_its_port(fam, instance, verdict, world):
    """A connected TCP socket is bound to a local port (the Python socket reference:
    getsockname is the socket's own address); port 0 would mean "not bound"."""
    socket = instance.module("socket")
    sock = socket.call("create_connection", (address_of(world, "public-echo", fam), 7), 5)
    local = sock.call("getsockname")
    sock.call("close")
    verdict.check(isinstance(local, tuple) and isinstance(local[1], int) and local[1] != 0,
                  name="getsockname", expected="(host, a non-zero local port, ...)",
                  observed=repr(local))


@pytest.mark.clause("API-2", "MUST")
@pytest.mark.parametrize(("fam", "proto"), [("ipv4", "tcp"), ("ipv6", "tcp"), ("ipv4", "udp")])
def test_getsockname_before_connect(fam, proto, instance, verdict):
    """A socket that is neither bound nor connected has the wildcard address and port 0
    as its own (the Python socket reference: getsockname is the socket's own address)."""
    socket = instance.module("socket")
    sock = new_socket(socket, fam, proto)
    local = sock.call("getsockname")
    sock.call("close")
    want = ("0.0.0.0", 0) if fam == "ipv4" else ("::", 0, 0, 0)
    verdict.check(tuple(local) == want, name="getsockname", expected=repr(want),
                  observed=repr(local))


@pytest.mark.clause("API-2", "MUST")
@pytest.mark.parametrize("proto", ["tcp", "udp"])
def test_getpeername_of_an_unconnected_socket_raises(proto, instance, verdict, world):
    """An unconnected socket has no peer: getpeername raises socket.error (ENOTCONN on
    Linux), also for a UDP socket that has sent a datagram with sendto."""
    socket = instance.module("socket")
    sock = new_socket(socket, "ipv4", proto)
    if proto == "udp":
        sock.call("sendto", b"no peer for all that", (address_of(world, "public-echo"), 7))
    tried = attempt(sock.call, "getpeername")
    sock.call("close")
    verdict.raised(tried, socket_error=True)


@pytest.mark.clause("API-2", "MUST")
@pytest.mark.parametrize("proto", ["tcp", "udp"])
def test_recv_into(proto, instance, verdict, world):
    """Without nbytes, recv_into fills up to the buffer's size: a whole datagram on UDP,
    at least some of the bytes on TCP (a stream may hand them over in parts)."""
    socket = instance.module("socket")
    buf = instance.builtins().call("bytearray", 32)
    sock = new_socket(socket, "ipv4", proto)
    sock.call("connect", (address_of(world, "public-echo"), 7))
    sock.call("sendall", b"recv_into works")
    count = sock.call("recv_into", buf)
    got = bytes(instance.builtins().call("bytes", buf))
    sock.call("close")
    least = 15 if proto == "udp" else 1
    verdict.check(got[:count] == b"recv_into works"[:count] and count >= least,
                  name="recv_into", expected=f"at least {least} of the bytes land in the buffer",
                  observed=f"{count}: {got!r}")


@pytest.mark.clause("API-2", "MUST")
def test_socket_on_descriptor_zero(instance, verdict, world):
    """A program that closed its stdin gets descriptor 0 for its next socket (the
    lowest free one), and that socket works like any other. Descriptor 0 goes back to
    /dev/null afterwards, as the instance had it."""
    os = instance.module("os")
    socket = instance.module("socket")
    os.call("close", 0)
    try:
        sock = new_socket(socket)
        fileno = sock.call("fileno")

        def roundtrip() -> bytes:
            sock.call("connect", (address_of(world, "public-echo"), 7))
            sock.call("sendall", b"on descriptor 0")
            return recv_exactly(sock, len(b"on descriptor 0"))

        echoed = attempt(roundtrip)
        sock.call("close")
    finally:
        devnull = os.call("open", os.devnull, os.O_RDONLY)
        if devnull != 0:
            os.call("dup2", devnull, 0)
            os.call("close", devnull)
    verdict.check(echoed.ok and echoed.value == b"on descriptor 0", name="echo",
                  expected="connect, sendall and recv work on the socket",
                  observed=f"fileno {fileno}: {echoed.describe()}")


@pytest.mark.clause("API-2", "MUST")
def test_makefile_write_flush_readline(instance, verdict, world):
    socket = instance.module("socket")
    sock = socket.call("create_connection", (address_of(world, "public-echo"), 7), 5)
    stream = sock.call("makefile", "rwb")
    stream.call("write", b"a line through makefile\r\n")
    stream.call("flush")
    line = stream.call("readline")
    stream.call("close")
    sock.call("close")
    verdict.check(bytes(line) == b"a line through makefile\r\n", name="makefile",
                  expected="readline returns the echoed line", observed=repr(line))


@pytest.mark.clause("API-2", "MUST")
@pytest.mark.parametrize("fam", FAMILIES)
def test_udp_sendto_recvfrom(fam, instance, verdict, world):
    address = address_of(world, "public-echo", fam)
    socket = instance.module("socket")
    sock = new_socket(socket, fam, "udp")
    payload = f"API-2 datagram {fam}".encode()
    sent = sock.call("sendto", payload, (address, 7))
    data, source = sock.call("recvfrom", 2048)
    sock.call("close")
    verdict.check(sent == len(payload) and bytes(data) == payload
                  and tuple(source[:2]) == (address, 7), name="udp-echo",
                  expected=f"sendto returns {len(payload)}; the datagram comes back from "
                           f"({address}, 7)", observed=f"sent {sent}; {data!r} from {source!r}")
    verdict.delivered(len(payload), digest(payload), address=address, port=7, proto="udp")


@pytest.mark.clause("API-2", "MUST")
@pytest.mark.parametrize(("method", "proto"), [("recvfrom", "tcp"), ("recvfrom_into", "tcp"),
                                               ("recvfrom_into", "udp")])
def test_recvfrom_and_recvfrom_into(method, proto, instance, verdict, world):
    """recvfrom and recvfrom_into with their defaults (no flags; for recvfrom_into, the
    buffer's size) take what arrived: a whole datagram on UDP, with its source; on TCP
    only the bytes count. (recvfrom on UDP: test_udp_sendto_recvfrom.)"""
    address = address_of(world, "public-echo")
    socket = instance.module("socket")
    buf = instance.builtins().call("bytearray", 64)
    sock = new_socket(socket, "ipv4", proto)
    payload = f"{method} over {proto}".encode()
    if proto == "tcp":
        sock.call("connect", (address, 7))
        sock.call("sendall", payload)
    else:
        sock.call("sendto", payload, (address, 7))
    if method == "recvfrom":
        data, source = sock.call("recvfrom", 64)
        got = bytes(data)
    else:
        count, source = sock.call("recvfrom_into", buf)
        got = bytes(instance.builtins().call("bytes", buf))[:count]
    sock.call("close")
    if proto == "tcp":
        verdict.check(len(got) > 0 and got == payload[:len(got)], name=method,
                      expected=f"a prefix of {payload!r}", observed=repr(got))
    else:
        verdict.check(got == payload and tuple(source[:2]) == (address, 7), name=method,
                      expected=f"{payload!r} from ({address}, 7)",
                      observed=f"{got!r} from {source!r}")


@pytest.mark.clause("API-2", "MUST")
@pytest.mark.parametrize("method", ["recv", "recv_into"])
def test_reset_by_peer_raises_on_read(method, instance, verdict, world):
    """The world's reset endpoint answers a connection with RST: the Python socket
    reference raises ConnectionResetError (ECONNRESET), which a read must not pass off
    as EOF nor as another error. (A sandbox that learns of the reset before its
    connect returns may raise there, with whatever socket.error it saw.)"""
    socket = instance.module("socket")
    sock = new_socket(socket)
    tried = attempt(sock.call, "connect", (address_of(world, "public-echo"), 2001))
    connected = tried.ok
    if connected:
        args = (instance.builtins().call("bytearray", 16),) if method == "recv_into" else (16,)
        tried = attempt(sock.call, method, *args)
    attempt(sock.call, "close")
    verdict.raised(tried, errno="ECONNRESET" if connected else None, socket_error=True,
                   timeout=False)


@pytest.mark.clause("API-2", "MUST")
def test_getpeername_after_a_reset_raises(instance, verdict, world):
    """Once the peer's reset has shown (at a read, or already at connect) the socket is
    no longer connected, so getpeername raises socket.error (ENOTCONN on Linux)."""
    socket = instance.module("socket")
    sock = new_socket(socket)
    read = attempt(sock.call, "connect", (address_of(world, "public-echo"), 2001))
    if read.ok:   # the reset may already show at connect
        read = attempt(sock.call, "recv", 16)
    tried = attempt(sock.call, "getpeername")
    sock.call("close")
    verdict.raised(read, socket_error=True, timeout=False)
    verdict.raised(tried, socket_error=True)


@pytest.mark.clause("API-2", "MUST")
@pytest.mark.parametrize("send", ["send", "sendall"])
def test_udp_connected_send_recv(send, instance, verdict, world):
    socket = instance.module("socket")
    sock = new_socket(socket, "ipv4", "udp")
    sock.call("connect", (address_of(world, "public-echo"), 7))
    sock.call(send, b"connected datagram")
    data = sock.call("recv", 2048)
    sock.call("close")
    verdict.check(bytes(data) == b"connected datagram", name="udp-connected",
                  expected=f"{send}/recv on a connected UDP socket", observed=repr(data))


@pytest.mark.clause("API-2", "MUST")
@pytest.mark.parametrize("fam", FAMILIES)
def test_bulk_1mib_to_sink_by_digest(fam, instance, verdict, world):
    """1 MiB out; the sink only answers after EOF, so its answer also proves
    shutdown(SHUT_WR) delivered EOF."""
    socket = instance.module("socket")
    sock = socket.call("create_connection", (address_of(world, "public-echo", fam), 9), 10)
    with instance.timeout(60):
        sent = instance.sendall_pattern(sock, 1 << 20)
        sock.call("shutdown", socket.SHUT_WR)
        answer = instance.recv_until_eof(sock)
    sock.call("close")
    want = f"{sent.nbytes} {sent.sha256}\n".encode()
    verdict.check(bytes(answer.head) == want, name="sink-answer", expected=repr(want),
                  observed=repr(bytes(answer.head)))
    verdict.delivered(sent.nbytes, sent.sha256, port=9)


@pytest.mark.clause("API-2", "MUST")
def test_bulk_4mib_download_by_digest(instance, verdict, world):
    body = next(b for b in world.data.http_bodies if b.size)
    socket = instance.module("socket")
    sock = socket.call("create_connection", (ECHO_NAME, 80), 10)
    sock.call("sendall", f"GET {body.path} HTTP/1.0\r\nHost: {ECHO_NAME}\r\n\r\n".encode())
    header = b""
    while not header.endswith(b"\r\n\r\n") and len(header) < 8192:
        chunk = bytes(sock.call("recv", 1))
        if not chunk:
            break
        header += chunk
    with instance.timeout(60):
        got = instance.recv_until_eof(sock)
    sock.call("close")
    want = digest(generated_bytes(body.size or 0))
    verdict.check(got.sha256 == want and got.nbytes == body.size, name="download",
                  expected=f"{body.size} bytes sha256={want[:16]}...",
                  observed=f"{got.nbytes} bytes sha256={got.sha256[:16]}... after "
                           f"{header[:40]!r}")


@pytest.mark.clause("API-2", "MUST")
def test_create_connection_refused_raises_the_error(instance, verdict, world):
    """Nothing listens on port 3 of the echo host (no service, no canary), so every
    address of the name refuses, and create_connection raises the refusal (the Python
    socket reference: the error of the last attempt), ConnectionRefusedError."""
    socket = instance.module("socket")
    tried = attempt(socket.call, "create_connection", (ECHO_NAME, 3), 5)
    if tried.ok:
        tried.value.call("close")
    verdict.raised(tried, errno="ECONNREFUSED", socket_error=True)


@pytest.mark.clause("API-2", "MUST")
@pytest.mark.parametrize("fam", FAMILIES)
def test_connect_ex_returns_the_refusal(fam, instance, verdict, world):
    """connect_ex to a port of an allowed host where nothing listens (port 3: no
    service, no canary) returns ECONNREFUSED, the errno the Python reference says it
    answers instead of raising: not another code."""
    sock = new_socket(instance.module("socket"), fam)
    code = attempt(sock.call, "connect_ex", (address_of(world, "public-echo", fam), 3))
    sock.call("close")
    verdict.check(code.ok and code.value == errno.ECONNREFUSED, name="connect_ex",
                  expected=f"connect_ex returns ECONNREFUSED ({errno.ECONNREFUSED})",
                  observed=code.describe())


MANY = 16


@pytest.mark.clause("API-2", "MUST")
def test_many_connections_open_at_once(instance, verdict, world):
    """Sockets are independent: MANY connections open side by side each carry
    their own bytes (an implementation that serves each connection on a worker
    must not run out of them)."""
    socket = instance.module("socket")
    address = address_of(world, "public-echo")
    socks = [socket.call("create_connection", (address, 7), 5) for _ in range(MANY)]
    for n, sock in enumerate(socks):
        sock.call("sendall", f"connection {n:02d}".encode())
    echoes = [recv_exactly(sock, len(b"connection 00")) for sock in socks]
    for sock in socks:
        sock.call("close")
    wrong = [(n, e) for n, e in enumerate(echoes) if e != f"connection {n:02d}".encode()]
    verdict.check(not wrong, name="each-its-own",
                  expected=f"each of {MANY} open connections echoes its own line",
                  observed=f"wrong: {wrong}" if wrong else "all echoed")


@pytest.mark.clause("API-2", "MUST")
def test_close_is_idempotent(instance, verdict, world):
    socket = instance.module("socket")
    sock = socket.call("create_connection", (address_of(world, "public-echo"), 7), 5)
    first = attempt(sock.call, "close")
    second = attempt(sock.call, "close")
    after = attempt(sock.call, "send", b"x")
    verdict.check(first.ok and second.ok, name="close-twice", expected="close() twice is fine",
                  observed=f"{first.describe()}; {second.describe()}")
    verdict.check(after.raised, name="closed", expected="send on a closed socket raises",
                  observed=after.describe())


@pytest.mark.clause("API-2", "MUST")
def test_context_manager_closes(instance, verdict, world):
    socket = instance.module("socket")
    sock = socket.call("create_connection", (address_of(world, "public-echo"), 7), 5)
    if instance.python_major == 2 and not instance.builtins().call("hasattr", sock, "__enter__"):
        sock.call("close")
        raise Unsupported("Python 2.7's socket objects have no context manager (added in 3.2); "
                          "this runtime's module follows its own Python")
    with sock:
        sock.call("sendall", b"inside with")
        echoed = sock.call("recv", 64)
    after = attempt(sock.call, "send", b"x")
    verdict.check(bytes(echoed) == b"inside with", name="inside", expected="echo inside with",
                  observed=repr(echoed))
    verdict.check(after.raised, name="closed", expected="the socket is closed after with",
                  observed=after.describe())
    verdict.reached(address_of(world, "public-echo"), 7, "tcp", kind="close")


@pytest.mark.clause("API-2", "MUST")
def test_tls_connect_ex_returns_zero_and_names(instance, verdict, world):
    """An ssl socket wrapped before it connects: connect_ex answers 0 once connected
    (and handshaken), and its names are the TCP connection's, as with a plain socket."""
    name = "www.mailhostingcompany.net"
    address = address_of(world, "public-mail")
    context = instance.module("ssl").call("create_default_context")
    tls = context.call("wrap_socket", new_socket(instance.module("socket")),
                       server_hostname=name)
    code = attempt(tls.call, "connect_ex", (address, 443))
    peer = attempt(tls.call, "getpeername")
    local = attempt(tls.call, "getsockname")
    attempt(tls.call, "close")
    verdict.check(code.ok and code.value == 0, name="connect_ex", expected="0",
                  observed=code.describe())
    verdict.check(peer.ok and tuple(peer.value) == (address, 443), name="getpeername",
                  expected=f"({address!r}, 443)", observed=peer.describe())
    verdict.check(local.ok and isinstance(local.value, tuple) and len(local.value) == 2
                  and isinstance(local.value[1], int) and local.value[1] != 0,
                  name="getsockname", expected="(host, a non-zero local port)",
                  observed=local.describe())

@pytest.mark.clause("API-2", "MUST")
@pytest.mark.parametrize("kind", ["plain", "ssl-wrapped"])
def test_connect_after_close_raises(kind, instance, verdict, world):
    """connect on a socket closed before it connected raises (EBADF), for an ssl socket
    wrapped first as for a plain one, as the standard modules do; nothing is dialled."""
    socket = instance.module("socket")
    sock = new_socket(socket)
    if kind == "ssl-wrapped":
        context = instance.module("ssl").call("create_default_context")
        sock = context.call("wrap_socket", sock, server_hostname=ECHO_NAME,
                            do_handshake_on_connect=False)
    sock.call("close")
    address = address_of(world, "public-echo")
    tried = attempt(sock.call, "connect", (address, 7))
    # a new connection: a late close of an earlier case's connection there is not this one
    hits = verdict.events(address=address, port=7, proto="tcp", kind="connect")
    verdict.check(tried.error is not None and tried.error.is_socket_error and not hits,
                  name="raises", expected=f"connect after close raises socket.error and "
                  f"nothing reaches {address}:7",
                  observed=f"{tried.describe()}; {len(hits)} journal event(s)")


@pytest.mark.clause("API-2", "MUST")
def test_tls_shutdown_wr_half_closes(instance, verdict, world):
    """shutdown(SHUT_WR) on an ssl socket drops the TLS layer and half-closes the TCP
    connection, as the standard ssl socket's does: the read side stays open, so the
    HTTPS server's answer to the request sent before it still arrives (as raw TLS
    records, the session being gone), then EOF."""
    name = "www.mailhostingcompany.net"
    socket = instance.module("socket")
    sock = socket.call("create_connection", (address_of(world, "public-mail"), 443), 5)
    tls = wrap_tls(instance, sock, name)
    tls.call("sendall", f"GET / HTTP/1.0\r\nHost: {name}\r\n\r\n".encode())
    shut = attempt(tls.call, "shutdown", socket.SHUT_WR)
    got = attempt(instance.recv_until_eof, tls)
    attempt(tls.call, "close")
    verdict.check(shut.ok and got.ok and got.value.nbytes > 0 and got.value.eof, name="half-close",
                  expected="shutdown(SHUT_WR) returns, the server's answer still arrives, "
                           "then EOF",
                  observed=f"shutdown {shut.describe()}; read "
                           + (f"{got.value.nbytes} bytes eof={got.value.eof}" if got.ok
                              else got.describe()))


# ---- API-3 ----------------------------------------------------------------------
# Short timeouts: the clause is about raising socket.timeout within the timeout plus
# MARGIN, which a short timeout shows as well as a long one, without the wait.
SHORT, SHORT_ARG = 0.2, 0.3


def _check_timed_out(verdict, tried: Attempt, timeout: float) -> None:
    """The read raised socket.timeout, and no later than `timeout` plus the margin."""
    verdict.raised(tried, timeout=True)
    verdict.check(tried.elapsed < timeout + MARGIN, name="prompt",
                  expected=f"< {timeout + MARGIN} s", observed=f"{tried.elapsed:.2f} s")


@pytest.mark.clause("API-3", "MUST")
@pytest.mark.parametrize("fam", FAMILIES)
def test_recv_from_silent_peer_times_out(fam, instance, verdict, world):
    socket = instance.module("socket")
    sock = new_socket(socket, fam)
    sock.call("settimeout", SHORT)
    sock.call("connect", (address_of(world, "public-echo", fam), 2000))
    got = sock.call("gettimeout")
    tried = attempt(sock.call, "recv", 16)
    sock.call("close")
    verdict.check(got == SHORT, name="gettimeout", expected=repr(SHORT), observed=repr(got))
    _check_timed_out(verdict, tried, SHORT)


@pytest.mark.clause("API-3", "MUST")
def test_udp_recvfrom_times_out(instance, verdict, world):
    socket = instance.module("socket")
    sock = new_socket(socket, "ipv4", "udp")
    sock.call("settimeout", SHORT)
    sock.call("sendto", b"into the void", (address_of(world, "public-echo"), 2000))
    tried = attempt(sock.call, "recvfrom", 16)
    sock.call("close")
    _check_timed_out(verdict, tried, SHORT)


@pytest.mark.clause("API-3", "MUST")
def test_setblocking(instance, verdict, world):
    socket = instance.module("socket")
    sock = socket.call("create_connection", (address_of(world, "public-echo"), 2000), 5)
    sock.call("setblocking", False)
    nonblocking = sock.call("gettimeout")
    tried = attempt(sock.call, "recv", 16)
    sock.call("setblocking", True)
    blocking = sock.call("gettimeout")
    sock.call("close")
    verdict.check(nonblocking == 0.0 and blocking is None, name="gettimeout",
                  expected="0.0 after setblocking(False), None after setblocking(True)",
                  observed=f"{nonblocking!r}, {blocking!r}")
    verdict.raised(tried, socket_error=True, timeout=False)
    verdict.check(tried.elapsed < MARGIN, name="immediate",
                  expected="a non-blocking recv returns at once", observed=f"{tried.elapsed:.2f} s")


@pytest.mark.clause("API-3", "MUST")
@pytest.mark.parametrize("proto", ["tcp", "udp"])
def test_sock_nonblock_type_makes_a_nonblocking_socket(proto, instance, verdict):
    """SOCK_NONBLOCK in the type is setblocking(False) from the start (the Python socket
    reference: such a socket's gettimeout() is 0.0)."""
    socket = instance.module("socket")
    flag = attempt(getattr, socket, "SOCK_NONBLOCK")
    if flag.raised:
        raise Unsupported(f"the module has no SOCK_NONBLOCK ({flag.describe()})")
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    sock = socket.call("socket", socket.AF_INET, kind | flag.value)
    got = sock.call("gettimeout")
    sock.call("close")
    verdict.check(got == 0.0, name="gettimeout", expected="0.0", observed=repr(got))


@pytest.mark.clause("API-3", "MUST")
def test_nonblocking_connect_then_data(instance, verdict, world):
    """After setblocking(False), connect either completes at once or raises EINPROGRESS
    while the handshake goes on (the Python socket reference: non-blocking operations
    fail if they cannot complete at once); the connection is made either way, so once
    the socket blocks again it carries data (what asyncio's sock_connect relies on)."""
    socket = instance.module("socket")
    sock = new_socket(socket)
    sock.call("setblocking", False)
    opened = attempt(sock.call, "connect", (address_of(world, "public-echo"), 7))
    sock.call("settimeout", 5.0)

    def roundtrip() -> bytes:
        sock.call("sendall", b"after a non-blocking connect")
        return recv_exactly(sock, len(b"after a non-blocking connect"))

    echoed = attempt(roundtrip)
    sock.call("close")
    verdict.check(opened.ok or (opened.error is not None
                                and opened.error.has_errno("EINPROGRESS")), name="connect",
                  expected="connect returns, or raises EINPROGRESS", observed=opened.describe())
    verdict.check(echoed.ok and echoed.value == b"after a non-blocking connect", name="echo",
                  expected="the echo comes back once the socket blocks again",
                  observed=echoed.describe())


@pytest.mark.clause("API-3", "MUST")
@pytest.mark.parametrize("value", [0.7, 0.0])
def test_setdefaulttimeout_applies_to_new_sockets(value, instance, verdict):
    """0.0 is a timeout like any other: new sockets start non-blocking."""
    socket = instance.module("socket")
    try:
        set_ = attempt(socket.call, "setdefaulttimeout", value)
        default = socket.call("getdefaulttimeout")
        sock = socket.call("socket", socket.AF_INET, socket.SOCK_STREAM)
        inherited = sock.call("gettimeout")
        sock.call("close")
    finally:
        socket.call("setdefaulttimeout", None)
    verdict.succeeded(set_)
    verdict.check(default == value and inherited == value, name="default-timeout",
                  expected=f"getdefaulttimeout() and a new socket's gettimeout() are {value}",
                  observed=f"{default!r}, {inherited!r}")


@pytest.mark.clause("API-3", "MUST")
def test_create_connection_timeout_argument(instance, verdict, world):
    socket = instance.module("socket")
    sock = socket.call("create_connection", (address_of(world, "public-echo"), 2000),
                       SHORT_ARG)
    got = sock.call("gettimeout")
    tried = attempt(sock.call, "recv", 1)
    sock.call("close")
    verdict.check(got == SHORT_ARG, name="gettimeout", expected=repr(SHORT_ARG),
                  observed=repr(got))
    _check_timed_out(verdict, tried, SHORT_ARG)


# ---- API-4 ----------------------------------------------------------------------
@pytest.mark.clause("API-4", "MUST")
def test_getaddrinfo_both_families(instance, verdict, world):
    host = world.data.host("public-echo")
    socket = instance.module("socket")
    infos = socket.call("getaddrinfo", ECHO_NAME, 7)   # the defaults: every family and type
    found = {tuple(i[4]) for i in infos}
    v4 = [sa for sa in found if sa[0] == host.ipv4[0]]
    v6 = [sa for sa in found if sa[0] == host.ipv6[0]]
    kinds = {int(i[1]) for i in infos}
    verdict.check(bool(v4) and bool(v6), name="answers",
                  expected=f"{host.ipv4[0]} and {host.ipv6[0]}", observed=repr(sorted(found)))
    # the Python socket reference: zero for family, type and proto selects the full range
    verdict.check({int(socket.SOCK_STREAM), int(socket.SOCK_DGRAM)} <= kinds, name="types",
                  expected="SOCK_STREAM and SOCK_DGRAM answers", observed=repr(sorted(kinds)))
    verdict.check(all(len(sa) == 2 for sa in v4) and all(len(sa) == 4 for sa in v6),
                  name="tuples", expected="IPv4 2-tuples, IPv6 4-tuples",
                  observed=repr(v4 + v6))


@pytest.mark.clause("API-4", "MUST")
def test_getaddrinfo_ipv6_only_gives_4_tuples(instance, verdict, world):
    socket = instance.module("socket")
    infos = socket.call("getaddrinfo", ECHO_NAME, 7, socket.AF_INET6)
    sockaddrs = [tuple(i[4]) for i in infos]
    want = world.data.host("public-echo").ipv6[0]
    verdict.check(bool(sockaddrs) and all(len(sa) == 4 and sa[0] == want for sa in sockaddrs),
                  name="ipv6", expected=f"({want!r}, 7, flowinfo, scope_id) only",
                  observed=repr(sockaddrs))


@pytest.mark.clause("API-4", "MUST")
def test_gethostbyname_and_ex(instance, verdict, world):
    want = world.data.host("public-echo").ipv4[0]
    socket = instance.module("socket")
    single = socket.call("gethostbyname", ECHO_NAME)
    name, aliases, addresses = socket.call("gethostbyname_ex", ECHO_NAME)
    verdict.check(single == want and want in list(addresses), name="resolved",
                  expected=want, observed=f"{single!r}; {name!r} {aliases!r} {addresses!r}")


@pytest.mark.clause("API-4", "MUST")
def test_cname_is_followed(instance, verdict, world):
    want = world.data.host("public-mail").ipv4[0]
    socket = instance.module("socket")
    got = socket.call("gethostbyname", "mail-alias.mailhostingcompany.net")
    verdict.check(got == want, name="cname", expected=want, observed=repr(got))


@pytest.mark.clause("API-4", "MUST")
@pytest.mark.parametrize("call", ["getaddrinfo", "gethostbyname"])
def test_unknown_name_raises_gaierror(call, instance, verdict):
    socket = instance.module("socket")
    args = ("no-such-host.invalid", 80) if call == "getaddrinfo" else ("no-such-host.invalid",)
    tried = attempt(socket.call, call, *args)
    verdict.check(tried.error is not None and tried.error.is_gaierror, name="gaierror",
                  expected="socket.gaierror", observed=tried.describe())


# ---- API-5 and the errno of blocked calls (SHOULD) ------------------------------
# CLAUSES.md: a blocked call raises with errno EACCES as SHOULD; API-5 is the
# clause that names EACCES for blocked destinations. One row per clause family.
BLOCKED = [
    ("DST", "private-10", "10.0.0.1", 7),
    ("EXC", "gmail-smtp", "smtp.gmail.com", 993),
    ("P25", "public-mail", "93.184.215.14", 25),
    ("DST-5", "google-web", "172.217.16.14", 80),
    ("DST-3", "broadcast", "<broadcast>", 7),
]
BLOCKED_IDS = [f"{f}-{h}-{p}" for f, h, _, p in BLOCKED]


@pytest.mark.clause("API-5", "SHOULD")
@pytest.mark.parametrize(("family_", "host", "target", "port"), BLOCKED, ids=BLOCKED_IDS)
def test_connect_ex_returns_eacces(family_, host, target, port, instance, verdict, world):
    socket = instance.module("socket")
    sock = new_socket(socket)
    code = attempt(sock.call, "connect_ex", (target, port))
    sock.call("close")
    _check_connect_ex_eacces(verdict, world, host, port, code, "connect_ex")


def _check_connect_ex_eacces(verdict, world, host: str, port: int, code: Attempt,
                             what: str) -> None:
    address = address_of(world, host)
    hits = verdict.events(address=address, port=port, proto="tcp")
    verdict.check(code.ok and code.value == errno.EACCES and not hits, name="connect_ex",
                  expected=f"{what} returns EACCES ({errno.EACCES}) and nothing reaches "
                           f"{address}:{port}",
                  observed=f"{code.describe()}; {len(hits)} journal event(s)")


@pytest.mark.clause("API-5", "SHOULD")
def test_tls_connect_ex_returns_eacces(instance, verdict, world):
    """An ssl socket wrapped before it connects: its connect_ex answers the errno as the
    plain socket's does (the ssl module's own connect_ex returns the code too)."""
    _, host, target, port = BLOCKED[0]
    context = instance.module("ssl").call("create_default_context")
    tls = context.call("wrap_socket", new_socket(instance.module("socket")),
                       server_hostname="intranet.corp.example", do_handshake_on_connect=False)
    code = attempt(tls.call, "connect_ex", (target, port))
    attempt(tls.call, "close")
    _check_connect_ex_eacces(verdict, world, host, port, code, "the ssl socket's connect_ex")


@pytest.mark.clause("API-5", "SHOULD")
@pytest.mark.parametrize(("family_", "host", "target", "port"), BLOCKED, ids=BLOCKED_IDS)
def test_blocked_connect_raises_eacces(family_, host, target, port, instance, verdict):
    socket = instance.module("socket")
    sock = new_socket(socket)
    tried = attempt(sock.call, "connect", (target, port))
    sock.call("close")
    verdict.raised(tried, errno="EACCES", socket_error=True)


@pytest.mark.clause("API-5", "SHOULD")
def test_blocked_sendto_raises_eacces(instance, verdict):
    socket = instance.module("socket")
    sock = new_socket(socket, "ipv4", "udp")
    tried = attempt(sock.call, "sendto", b"blocked datagram", ("10.0.0.1", 7))
    sock.call("close")
    verdict.raised(tried, errno="EACCES", socket_error=True)


# ---- API-6 ----------------------------------------------------------------------
@pytest.mark.clause("API-6", "SHOULD")
@pytest.mark.parametrize(("fam", "proto"), [("ipv4", "tcp"), ("ipv6", "tcp"), ("ipv4", "udp")])
def test_select_reports_readiness(fam, proto, instance, verdict, world):
    socket = instance.module("socket")
    select = instance.module("select")
    address = address_of(world, "public-echo", fam)
    sock = new_socket(socket, fam, proto)
    sock.call("connect", (address, 7))
    idle, writable, _ = select.call("select", [sock], [sock], [], 0.2)
    sock.call("send", b"ready?")
    readable, _, _ = select.call("select", [sock], [], [], 2.0)
    sock.call("recv", 16)
    sock.call("close")
    verdict.check(len(idle) == 0 and len(writable) == 1 and len(readable) == 1, name="select",
                  expected="not readable before data, writable at once, readable after the echo",
                  observed=f"readable-before={len(idle)} writable={len(writable)} "
                           f"readable-after={len(readable)}")


# ---- API-7, API-8 (MAY: recorded) -------------------------------------------------
@pytest.mark.clause("API-7", "MAY")
def test_asyncio_connection_recorded(instance, verdict, world):
    imported = attempt(instance.module, "asyncio")
    if imported.raised:
        raise Unsupported(f"the instance's Python has no asyncio ({imported.describe()})")
    asyncio = imported.value
    address = address_of(world, "public-echo")
    coroutine = asyncio.call("open_connection", address, 7)
    tried = attempt(asyncio.call, "run", coroutine)
    hits = verdict.events(address=address, port=7, proto="tcp")
    verdict.check(tried.ok and bool(hits), name="asyncio-works",
                  expected="(recorded) whether asyncio.open_connection reaches the peer",
                  observed=f"{tried.describe()}; {len(hits)} journal event(s)")


@pytest.mark.clause("API-8", "MAY")
def test_byte_meter_beside_journal(candidate, instance, verdict, world):
    before = candidate.bytes_metered()
    socket = instance.module("socket")
    sock = socket.call("create_connection", (address_of(world, "public-echo"), 9), 5)
    sent = instance.sendall_pattern(sock, 65536)
    sock.call("shutdown", socket.SHUT_WR)
    instance.recv_until_eof(sock)
    sock.call("close")
    after = candidate.bytes_metered()
    seen = verdict.delivered(sent.nbytes, sent.sha256, port=9)
    verdict.check(after - before >= seen.nbytes, name="metered",
                  expected=f"(recorded) the meter counts at least the {seen.nbytes} bytes "
                           "the peer saw",
                  observed=f"meter delta {after - before}")



SPELLINGS = with_probes(family("api_forms", clause_prefix="API-"))


@pytest.mark.parametrize("case", params(SPELLINGS))
def test_allowed_address_form(case, instance, verdict, world):
    """An odd spelling of an allowed address reaches exactly that address or is
    refused; a text that is no address is refused (api_forms.toml)."""
    run_matrix_case(instance, verdict, world, case)
