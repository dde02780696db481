"""The app-side module against an in-process service (loopback peers only)."""

from __future__ import annotations

import errno
import pickle
import select

import pytest

import sandbox.app.socket as sb
from sandbox.app import httpfetch
from sandbox.service.table import IDLE_LIMIT


def test_standard_names_present() -> None:
    for name in ("socket", "create_connection", "getaddrinfo", "gethostbyname", "error",
                 "timeout", "gaierror", "herror", "AF_INET", "AF_INET6", "SOCK_STREAM",
                 "SOCK_DGRAM", "SHUT_WR", "_GLOBAL_DEFAULT_TIMEOUT", "SocketIO"):
        assert hasattr(sb, name), name
    assert sb.error is OSError


def test_echo_select_makefile_shutdown(sandbox_service, echo_server) -> None:
    s = sb.create_connection(echo_server, timeout=5)
    assert s.getpeername() == tuple(echo_server)
    assert select.select([s], [], [], 0.05)[0] == []
    s.sendall(b"ping\n")
    assert select.select([s], [], [], 2)[0] == [s]
    f = s.makefile("rb")
    assert f.readline() == b"ping\n"
    f.close()
    payload = bytes(range(256)) * 8192  # 2 MiB
    import threading
    got = bytearray()

    def reader() -> None:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return
            got.extend(chunk)

    t = threading.Thread(target=reader)
    t.start()
    s.sendall(payload)
    s.shutdown(sb.SHUT_WR)
    t.join(10)
    assert bytes(got) == payload
    s.close()
    s.close()  # idempotent


def test_timeout_raises_socket_timeout(sandbox_service, echo_server) -> None:
    s = sb.create_connection(echo_server, timeout=0.2)
    with pytest.raises(sb.timeout):
        s.recv(10)
    assert s.gettimeout() == 0.2
    s.close()


def test_blocked_destinations_raise_eacces(sandbox_service) -> None:
    s = sb.socket()
    for host in ("10.0.0.1", "167772161", "0x0a000001", "10.1", "10.0.0.1."):
        with pytest.raises(OSError) as info:
            s.connect((host, 7))
        assert info.value.errno == errno.EACCES
        assert s.connect_ex((host, 7)) == errno.EACCES
    with pytest.raises(OSError) as info:
        sb.create_connection(("private.test", 7))
    assert info.value.errno == errno.EACCES
    u = sb.socket(sb.AF_INET, sb.SOCK_DGRAM)
    with pytest.raises(OSError) as info:
        u.sendto(b"x", ("10.0.0.1", 7))
    assert info.value.errno == errno.EACCES
    with pytest.raises(OSError):
        u.sendto(b"x", ("<broadcast>", 7))
    u.close()
    s.close()


def test_bad_input_raises_standard_errors(sandbox_service) -> None:
    s = sb.socket()
    with pytest.raises(TypeError):
        s.connect("127.0.0.1")
    with pytest.raises(TypeError):
        s.connect((1234, 7))
    with pytest.raises(TypeError):
        s.connect(("127.0.0.1", "7"))
    with pytest.raises(OverflowError):
        s.connect(("127.0.0.1", 70000))
    with pytest.raises(OverflowError):
        s.connect(("127.0.0.1", -1))
    with pytest.raises(sb.gaierror):
        s.connect(("no such host", 7))
    with pytest.raises(sb.gaierror):
        s.connect(("echo.test\x00.evil", 7))
    with pytest.raises(sb.gaierror):
        sb.getaddrinfo("unknown.test", 80)
    with pytest.raises(TypeError):
        sb.socket("inet")  # type: ignore[arg-type]
    with pytest.raises(OSError) as info:
        sb.socket(sb.AF_UNIX)
    assert info.value.errno == errno.EAFNOSUPPORT
    with pytest.raises(OSError) as info:
        sb.socket(sb.AF_INET, sb.SOCK_RAW)
    assert info.value.errno == errno.EPROTONOSUPPORT
    with pytest.raises(OSError):
        sb.socket(sb.AF_INET, sb.SOCK_STREAM, sb.IPPROTO_UDP)
    with pytest.raises(OSError):
        s.shutdown(7)
    s.close()


def test_options_bind_listen(sandbox_service) -> None:
    s = sb.socket()
    assert s.getsockopt(sb.SOL_SOCKET, sb.SO_SNDBUF) == s.getsockopt(sb.SOL_SOCKET, sb.SO_SNDBUF)
    before = s.getsockopt(sb.SOL_SOCKET, sb.SO_KEEPALIVE)
    s.setsockopt(sb.SOL_SOCKET, sb.SO_KEEPALIVE, 1)
    assert s.getsockopt(sb.SOL_SOCKET, sb.SO_KEEPALIVE) == before
    for level, opt in ((sb.SOL_SOCKET, sb.SO_BROADCAST), (sb.IPPROTO_IP, sb.IP_TTL)):
        with pytest.raises(OSError) as info:
            s.setsockopt(level, opt, 1)
        assert info.value.errno == errno.EACCES
        with pytest.raises(OSError):
            s.getsockopt(level, opt)
    assert s.getsockopt(sb.SOL_SOCKET, sb.SO_TYPE) == sb.SOCK_STREAM
    s.bind(("", 0))
    s.bind(("0.0.0.0", 0))
    for addr in (("127.0.0.1", 0), ("", 8080)):
        with pytest.raises(OSError) as info:
            s.bind(addr)
        assert info.value.errno == errno.EACCES
    with pytest.raises(OSError):
        s.listen(1)
    with pytest.raises(OSError):
        s.accept()
    s.close()


def test_socketpair_is_refused() -> None:
    """socketpair is the module's other way to an AF_UNIX socket (PRT-2)."""
    with pytest.raises(OSError) as info:
        sb.socketpair()
    assert info.value.errno == errno.EAFNOSUPPORT


def test_gethostbyaddr_is_not_implemented_and_a_socket_error() -> None:
    with pytest.raises(NotImplementedError) as info:
        sb.gethostbyaddr("127.0.0.1")
    assert isinstance(info.value, sb.error)


# ------------------------------------------------------------------ APP-1/2: descriptor scoping
def test_pickle_same_app_carries_the_connection(sandbox_service, echo_server, monkeypatch) -> None:
    s = sb.create_connection(echo_server, timeout=5)
    name = s.getsockname()
    data = pickle.dumps(s)
    s2 = pickle.loads(data)
    assert s2.getsockname() == name  # the same TCP connection
    s2.sendall(b"again")
    assert s2.recv(10) == b"again"
    s2.close()


def test_pickle_other_app_cannot_use_it(sandbox_service, echo_server, monkeypatch) -> None:
    s = sb.create_connection(echo_server, timeout=5)
    data = pickle.dumps(s)
    monkeypatch.setenv("CONFORMANCE_APP_ID", "app-b")
    with pytest.raises(OSError) as info:
        pickle.loads(data)
    assert info.value.errno == errno.EBADF
    monkeypatch.setenv("CONFORMANCE_APP_ID", "app-a")
    s.sendall(b"still mine")
    assert s.recv(20) == b"still mine"
    s.close()


def test_descriptor_table_scopes_by_app(sandbox_service) -> None:
    import socket

    table = sandbox_service.service.table
    entry = table.add("app-a", "tcp", socket.AF_INET, socket.socket())
    assert table.get("app-a", entry.desc) is entry
    from sandbox.service.table import ServiceError

    for app, desc in (("app-b", entry.desc), ("app-a", "0" * 32), ("app-a", 12)):
        with pytest.raises(ServiceError) as info:
            table.get(app, desc)
        assert info.value.errno == errno.EBADF
    table.close(entry)


@pytest.mark.parametrize("args", [("x", 1, 0, None, None, None), (2, 1, 0, 42, None, None),
                                  (2, 1, 0, "nonexistent", None, None),
                                  (2, 1, 0, None, "slow", None)])
def test_corrupted_pickle_raises_socket_error(sandbox_service, args) -> None:
    with pytest.raises(OSError):
        sb._restore(*args)


def test_garbage_pickle_raises_unpickling_error(sandbox_service, echo_server) -> None:
    s = sb.create_connection(echo_server, timeout=5)
    data = pickle.dumps(s)
    with pytest.raises((pickle.UnpicklingError, EOFError, OSError, ValueError)):
        pickle.loads(data[: len(data) // 2])
    s.close()


# ------------------------------------------------------------------ IDLE on the fake clock
def test_idle_renewal_and_reclamation(sandbox_service, echo_server) -> None:
    svc, fake = sandbox_service.service, sandbox_service.time
    s = sb.create_connection(echo_server, timeout=5)
    fake.now += 9 * 60
    assert svc.table.sweep() == []
    s.sendall(b"a")
    assert s.recv(1) == b"a"          # renewed at 9 minutes
    fake.now += 9 * 60
    assert svc.table.sweep() == []    # 18 minutes: still alive
    s.sendall(b"b")
    assert s.recv(1) == b"b"
    fake.now += IDLE_LIMIT + 1
    assert len(svc.table.sweep()) == 1
    with pytest.raises(OSError):
        s.recv(1)
    with pytest.raises(OSError):
        s.getpeername()
    s.close()


def test_admin_advance_reclaims(sandbox_service, echo_server) -> None:
    s = sb.create_connection(echo_server, timeout=5)
    reply = sandbox_service.service.admin({"op": "advance", "seconds": 601})
    assert reply["reclaimed"] == 1
    with pytest.raises(OSError):
        s.sendall(b"x" * 100000)
        s.sendall(b"x" * 100000)
    s.close()


def test_byte_meter_counts_outgoing(sandbox_service, echo_server) -> None:
    s = sb.create_connection(echo_server, timeout=5)
    s.sendall(b"x" * 1000)
    assert len(s.recv(2000)) > 0
    s.close()
    assert sandbox_service.service.admin({"op": "meter", "app": "app-a"})["bytes"] == 1000


# ------------------------------------------------------------------ HTTP-1/2 switch
def test_urlfetch_switch() -> None:
    assert not httpfetch.uses_sockets({})
    assert httpfetch.uses_sockets({"GAE_USE_SOCKETS_HTTPLIB": ""})
    assert httpfetch.uses_sockets({"GAE_USE_SOCKETS_HTTPLIB": "anyvalue"})


def test_urlfetch_signs_user_agent() -> None:
    from sandbox.service.urlfetch import rewrite_request

    raw = (b"GET / HTTP/1.1\r\nHost: x\r\nUser-Agent: Python-urllib/3.11\r\n"
           b"Connection: keep-alive\r\n\r\n")
    out = rewrite_request(raw, "app-a").decode()
    assert ("User-Agent: Python-urllib/3.11 AppEngine-Google; "
            "(+http://code.google.com/appengine; appid: app-a)") in out
    assert "Connection: close" in out and "keep-alive" not in out
    bare = rewrite_request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "app-b").decode()
    assert "User-Agent: AppEngine-Google; (+http://code.google.com/appengine; appid: app-b)" in bare


def test_http_client_through_urlfetch(sandbox_service, monkeypatch) -> None:
    """http.client, unmodified, over the urlfetch stand-in (loopback HTTP server)."""
    import http.client
    import http.server
    import threading

    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.headers.get("User-Agent", ""))
            body = b"hello"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.delenv("GAE_USE_SOCKETS_HTTPLIB", raising=False)
    conn = httpfetch.install_into(http.client)
    try:
        c = conn.HTTPConnection("127.0.0.1", server.server_address[1], timeout=5)
        c.request("GET", "/", headers={"User-Agent": "test-agent"})
        r = c.getresponse()
        assert (r.status, r.read()) == (200, b"hello")
        assert seen == ["test-agent AppEngine-Google; (+http://code.google.com/appengine; "
                        "appid: app-a)"]
    finally:
        httpfetch.uninstall_from(http.client)
        server.shutdown()


@pytest.mark.parametrize(("source", "refused"), [
    (("127.0.0.1", 0), True), (("", 8080), True), (("", 0), False), (("0.0.0.0", 0), False)])
def test_urlfetch_refuses_a_source_address_bind(source, refused, monkeypatch) -> None:
    """http.client's source_address is a bind (BND-1) even when urlfetch carries the request."""
    import http.client

    monkeypatch.delenv("GAE_USE_SOCKETS_HTTPLIB", raising=False)
    conn = httpfetch.install_into(http.client)
    try:
        c = conn.HTTPConnection("192.0.2.1", 80, timeout=1, source_address=source)
        if refused:
            with pytest.raises(OSError) as info:
                c.connect()
            assert info.value.errno == errno.EACCES
        else:
            c.connect()
            assert isinstance(c.sock, httpfetch.UrlfetchConnection)
    finally:
        httpfetch.uninstall_from(http.client)


def test_unconnected_socket_behaves_like_the_standard_one(sandbox_service) -> None:
    s = sb.socket()
    with pytest.raises(OSError) as info:
        s.recv(1)
    assert info.value.errno == errno.ENOTCONN
    with pytest.raises(OSError) as info:
        s.send(b"x")
    assert info.value.errno == errno.ENOTCONN
    with pytest.raises(OSError) as info:
        s.getpeername()
    assert info.value.errno == errno.ENOTCONN
    assert s.getsockname() == ("0.0.0.0", 0)
    s.close()
    with pytest.raises(OSError) as info:
        s.recv(1)
    assert info.value.errno == errno.EBADF
    n = sb.socket(sb.AF_INET, sb.SOCK_STREAM | sb.SOCK_NONBLOCK)
    assert n.gettimeout() == 0.0
    n.close()


def test_getpeername_renews_the_idle_clock(sandbox_service, echo_server) -> None:
    svc, fake = sandbox_service.service, sandbox_service.time
    s = sb.create_connection(echo_server, timeout=5)
    fake.now += 9 * 60
    s.getpeername()                   # an operation: renews
    fake.now += 9 * 60
    assert svc.table.sweep() == []
    fake.now += IDLE_LIMIT + 1
    assert len(svc.table.sweep()) == 1
    s.close()


def test_recvfrom_on_tcp_is_recv_with_no_address(sandbox_service, echo_server) -> None:
    s = sb.create_connection(echo_server, timeout=5)
    s.sendall(b"abc")
    got, buf = b"", bytearray(8)
    while len(got) < 3:
        n, addr = s.recvfrom_into(buf)
        assert addr is None and n
        got += bytes(buf[:n])
    assert got == b"abc"
    s.sendall(b"de")
    got = b""
    while len(got) < 2:
        data, addr = s.recvfrom(8)
        assert addr is None and data
        got += data
    assert got == b"de"
    s.close()


def test_bad_sizes_raise_as_the_standard_module(sandbox_service) -> None:
    s = sb.socket()
    for buflen in (-1, 1025):
        with pytest.raises(OSError, match="buflen out of range"):
            s.getsockopt(sb.SOL_SOCKET, sb.SO_KEEPALIVE, buflen)
    with pytest.raises(TypeError, match="pair"):
        s.connect(("127.0.0.1", 7, 0))
    u = sb.socket(sb.AF_INET, sb.SOCK_DGRAM)
    with pytest.raises(OSError) as info:
        u.sendto(b"x" * (1 << 17), ("127.0.0.1", 9))
    assert info.value.errno == errno.EMSGSIZE
    u.close()
    s.close()
