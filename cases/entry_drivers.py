"""Drivers: how each entry point of cases/entry_points.toml performs its operation
inside the candidate instance, through the agent's RPC.

A driver does what a program would do through that entry point and lets any
exception raised inside the instance propagate (the case turns it into a
"refused" Attempt). It returns the entry point's own answer (connect_ex's
code, a server object...). Whatever it opens it hands to `aim.keep`, so the
case closes it afterwards, also on an unrestricted candidate where the
operation succeeded. Drivers aim; they never judge.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from conformance.remote import Remote, attempt

from .probes import const, new_socket, text

PAYLOAD = b"entry-point leak probe\n"
TIMEOUT = 3.0
MSG_FASTOPEN = 0x20000000          # Linux; Python 2.7's socket module lacks the name
SPECIFIC_V4 = ("127.0.0.1", 0)     # BND-1: a specific address (port 0: no clash between workers)
WILDCARD = ("", 0)                 # BND-2: allowed, so only listen() is asked for
WILDCARD_PORT = ("", 40123)        # BND-1: no specific address, but a non-zero port


@dataclass
class Aim:
    """What a driver needs: the instance, the entry point's module, and where to aim."""

    instance: Any
    module: Remote                 # the entry point's module in the instance
    socket: Remote                 # the candidate's socket module
    address: str                   # the case's destination (blocked, or allowed for bind cases)
    port: int
    family: str
    callable: str                  # the class or function named by the case, if any
    cleanups: list[Callable[[], Any]] = field(default_factory=list)

    def keep(self, obj: Any, closer: str = "close") -> Any:
        """Close `obj` (by its method `closer`) when the case is done with it."""
        if isinstance(obj, Remote):
            self.cleanups.append(lambda: attempt(obj.call, closer))
        return obj

    def close_all(self) -> None:
        """Undo what the driver made, newest first; a failure here is no verdict."""
        while self.cleanups:
            self.cleanups.pop()()

    @property
    def sockaddr(self) -> tuple:
        return (self.address, self.port)

    @property
    def host_text(self) -> str:
        return f"[{self.address}]" if ":" in self.address else self.address

    def fam(self) -> int:
        return int(self.socket.AF_INET if self.family == "ipv4" else self.socket.AF_INET6)

    def sock(self, proto: str = "tcp") -> Remote:
        return self.keep(new_socket(self.socket, self.family, proto))


# ---- the socket module ------------------------------------------------------------
def connect_ex(aim: Aim) -> Any:
    sock = aim.sock()
    code = sock.call("connect_ex", aim.sockaddr)
    if code == 0:
        sock.call("sendall", PAYLOAD)
    return code


def connect_ex_nonblocking(aim: Aim) -> Any:
    """A non-blocking connect_ex answers EINPROGRESS while the SYN is on its way:
    the refusal must come before anything leaves, not after."""
    sock = aim.sock()
    sock.call("setblocking", False)
    return sock.call("connect_ex", aim.sockaddr)


def connect_nonblocking(aim: Aim) -> Any:
    sock = aim.sock()
    sock.call("setblocking", False)
    return sock.call("connect", aim.sockaddr)


def udp_connect_send(aim: Aim) -> Any:
    sock = aim.sock("udp")
    sock.call("connect", aim.sockaddr)
    return sock.call("send", PAYLOAD)


def udp_connect_ex_send(aim: Aim) -> Any:
    sock = aim.sock("udp")
    code = sock.call("connect_ex", aim.sockaddr)
    if code == 0:
        sock.call("send", PAYLOAD)
    return code


def sendto_flags(aim: Aim) -> Any:
    return aim.sock("udp").call("sendto", PAYLOAD, 0, aim.sockaddr)


def sendto_fastopen(aim: Aim) -> Any:
    """TCP Fast Open: sendto on an unconnected TCP socket connects and sends."""
    return aim.sock().call("sendto", PAYLOAD, MSG_FASTOPEN, aim.sockaddr)


def sendmsg_udp(aim: Aim) -> Any:
    return aim.sock("udp").call("sendmsg", [PAYLOAD], [], 0, aim.sockaddr)


def sendmsg_fastopen(aim: Aim) -> Any:
    return aim.sock().call("sendmsg", [PAYLOAD], [], MSG_FASTOPEN, aim.sockaddr)


def setsockopt_optlen(aim: Aim) -> Any:
    """The four-argument form setsockopt(level, name, None, optlen) (3.6+)."""
    sock = aim.sock()
    level, option = const(aim.socket, "SOL_SOCKET"), const(aim.socket, "SO_BINDTODEVICE")
    return sock.call("setsockopt", level, option, None, 0)


def _socket_type(aim: Aim, proto: str) -> Remote:
    kind = aim.socket.SOCK_STREAM if proto == "tcp" else aim.socket.SOCK_DGRAM
    sock = aim.keep(aim.socket.call("SocketType", aim.fam(), kind))
    sock.call("settimeout", TIMEOUT)
    return sock


def sockettype_connect(aim: Aim) -> Any:
    sock = _socket_type(aim, "tcp")
    sock.call("connect", aim.sockaddr)
    return sock.call("sendall", PAYLOAD)


def sockettype_sendto(aim: Aim) -> Any:
    return _socket_type(aim, "udp").call("sendto", PAYLOAD, aim.sockaddr)


def sockettype_unix(aim: Aim) -> Any:
    unix = const(aim.socket, "AF_UNIX")
    return aim.keep(aim.socket.call("SocketType", unix, aim.socket.SOCK_STREAM))


def dup_connect(aim: Aim) -> Any:
    copy = aim.keep(aim.sock().call("dup"))
    copy.call("settimeout", TIMEOUT)
    copy.call("connect", aim.sockaddr)
    return copy.call("sendall", PAYLOAD)


def dup_sendto(aim: Aim) -> Any:
    copy = aim.keep(aim.sock("udp").call("dup"))
    return copy.call("sendto", PAYLOAD, aim.sockaddr)


def fromfd_connect(aim: Aim) -> Any:
    original = aim.sock()
    made = aim.keep(aim.socket.call("fromfd", original.call("fileno"), aim.fam(),
                                    aim.socket.SOCK_STREAM))
    made.call("settimeout", TIMEOUT)
    made.call("connect", aim.sockaddr)
    return made.call("sendall", PAYLOAD)


def fileno_connect(aim: Aim) -> Any:
    original = aim.sock()
    adopted = aim.socket.call("socket", aim.fam(), aim.socket.SOCK_STREAM, 0,
                              original.call("detach"))
    aim.keep(adopted)
    adopted.call("settimeout", TIMEOUT)
    adopted.call("connect", aim.sockaddr)
    return adopted.call("sendall", PAYLOAD)


def socketpair(aim: Aim) -> Any:
    pair = aim.socket.call("socketpair")
    for end in pair:
        aim.keep(end)
    return pair


def create_connection(aim: Aim) -> Any:
    sock = aim.keep(aim.socket.call("create_connection", aim.sockaddr, TIMEOUT))
    return sock.call("sendall", PAYLOAD)


def create_connection_source(aim: Aim) -> Any:
    return aim.keep(aim.socket.call("create_connection", aim.sockaddr, TIMEOUT, SPECIFIC_V4))


def create_server(aim: Aim) -> Any:
    return aim.keep(aim.socket.call("create_server", WILDCARD))


def create_server_dualstack(aim: Aim) -> Any:
    return aim.keep(aim.socket.call("create_server", WILDCARD, family=aim.socket.AF_INET6,
                                    dualstack_ipv6=True))


def create_server_specific(aim: Aim) -> Any:
    return aim.keep(aim.socket.call("create_server", SPECIFIC_V4))


def create_server_reuse_port(aim: Aim) -> Any:
    return aim.keep(aim.socket.call("create_server", WILDCARD, reuse_port=True))


# ---- ssl ----------------------------------------------------------------------------
def _context(aim: Aim) -> Remote:
    ssl = aim.instance.module("ssl")
    return ssl.call("create_default_context")


def ssl_wrap_connect(aim: Aim) -> Any:
    wrapped = aim.keep(_context(aim).call("wrap_socket", aim.sock(), server_hostname="x.test"))
    return wrapped.call("connect", aim.sockaddr)


def ssl_module_wrap_connect(aim: Aim) -> Any:
    wrapped = aim.keep(aim.module.call("wrap_socket", aim.sock()))
    return wrapped.call("connect", aim.sockaddr)


def ssl_create_connection(aim: Aim) -> Any:
    sock = aim.keep(aim.module.call("create_connection", aim.sockaddr, TIMEOUT))
    return sock.call("sendall", PAYLOAD)


def ssl_get_server_certificate(aim: Aim) -> Any:
    return aim.module.call("get_server_certificate", aim.sockaddr)


# ---- asyncio ------------------------------------------------------------------------
def _loop(aim: Aim) -> Remote:
    return aim.keep(aim.module.call("new_event_loop"))


def _until_complete(aim: Aim, loop: Remote, coroutine: Remote) -> Any:
    return loop.call("run_until_complete", aim.module.call("wait_for", coroutine, TIMEOUT))


def _keep_transport(aim: Aim, result: Any) -> Any:
    if isinstance(result, tuple) and result:
        aim.keep(result[0])
    return result


def asyncio_create_connection(aim: Aim, **kwargs: Any) -> Any:
    loop = _loop(aim)
    coroutine = loop.call("create_connection", aim.module.Protocol, aim.address, aim.port,
                          **kwargs)
    transport, _ = _keep_transport(aim, _until_complete(aim, loop, coroutine))
    return transport.call("write", PAYLOAD)


def asyncio_create_connection_ssl(aim: Aim) -> Any:
    return asyncio_create_connection(aim, ssl=_context(aim), server_hostname="x.test")


def asyncio_create_connection_local(aim: Aim) -> Any:
    return asyncio_create_connection(aim, local_addr=SPECIFIC_V4)


def asyncio_sock_connect(aim: Aim, proto: str = "tcp") -> Any:
    loop = _loop(aim)
    sock = aim.sock(proto)
    sock.call("setblocking", False)
    _until_complete(aim, loop, loop.call("sock_connect", sock, aim.sockaddr))
    return _until_complete(aim, loop, loop.call("sock_sendall", sock, PAYLOAD))


def asyncio_sock_connect_udp(aim: Aim) -> Any:
    return asyncio_sock_connect(aim, "udp")


def asyncio_sock_sendto(aim: Aim) -> Any:
    loop = _loop(aim)
    sock = aim.sock("udp")
    sock.call("setblocking", False)
    return _until_complete(aim, loop, loop.call("sock_sendto", sock, PAYLOAD, aim.sockaddr))


def asyncio_open_connection(aim: Aim) -> Any:
    loop = _loop(aim)
    reader_writer = _until_complete(aim, loop, aim.module.call(
        "open_connection", aim.address, aim.port))
    writer = aim.keep(reader_writer[1])
    return writer.call("write", PAYLOAD)


def _datagram(aim: Aim, errors: Remote | None = None,
              **kwargs: Any) -> tuple[Remote, Remote]:
    """A datagram endpoint whose protocol appends every error_received to `errors`."""
    loop = _loop(aim)
    protocol = aim.module.DatagramProtocol
    if errors is not None:
        protocol = aim.instance.builtins().call(
            "type", "Recorder", (protocol,), {"error_received": errors.append})
    coroutine = loop.call("create_datagram_endpoint", protocol, **kwargs)
    transport, _ = _keep_transport(aim, _until_complete(aim, loop, coroutine))
    return loop, transport


def _errors_received(aim: Aim, loop: Remote, errors: Remote) -> list[str]:
    """A datagram transport never raises from sendto: an OSError goes to the
    protocol's error_received. One turn of the loop sends what was queued; the
    errors recorded are the entry point's refusal."""
    _until_complete(aim, loop, aim.module.call("sleep", 0.05))
    return [repr(e) for e in aim.instance.builtins().call("list", errors)]


def asyncio_datagram_remote(aim: Aim) -> Any:
    errors = aim.instance.module("collections").call("deque")
    loop, transport = _datagram(aim, errors, remote_addr=aim.sockaddr)
    transport.call("sendto", PAYLOAD)
    return _errors_received(aim, loop, errors)


def asyncio_datagram_sendto(aim: Aim) -> Any:
    errors = aim.instance.module("collections").call("deque")
    loop, transport = _datagram(aim, errors, family=aim.fam())
    transport.call("sendto", PAYLOAD, aim.sockaddr)
    return _errors_received(aim, loop, errors)


def asyncio_datagram_local(aim: Aim) -> Any:
    return _datagram(aim, local_addr=SPECIFIC_V4)


def asyncio_datagram_broadcast(aim: Aim) -> Any:
    return _datagram(aim, family=int(aim.socket.AF_INET), allow_broadcast=True)


def asyncio_create_server(aim: Aim) -> Any:
    loop = _loop(aim)
    server = _until_complete(aim, loop, loop.call("create_server", aim.module.Protocol, None, 0))
    return aim.keep(server)


def _callback(aim: Aim) -> Remote:
    """Any callable the instance holds: the server never gets a client to call it with."""
    return aim.instance.builtins().print


def asyncio_start_server(aim: Aim, host: Any = None) -> Any:
    loop = _loop(aim)
    server = _until_complete(aim, loop, aim.module.call("start_server", _callback(aim), host, 0))
    return aim.keep(server)


def asyncio_start_server_specific(aim: Aim) -> Any:
    return asyncio_start_server(aim, SPECIFIC_V4[0])


def asyncio_unix_server(aim: Aim) -> Any:
    loop = _loop(aim)
    path = _unix_path(aim)
    server = _until_complete(aim, loop, loop.call("create_unix_server", aim.module.Protocol,
                                                   path))
    return aim.keep(server)


def _unix_path(aim: Aim) -> str:
    """A fresh filesystem path in a temporary folder of the instance, removed afterwards."""
    folder = text(aim.instance.module("tempfile").call("mkdtemp", prefix="conformance-entry-"))
    shutil = aim.instance.module("shutil")
    aim.cleanups.append(lambda: attempt(shutil.call, "rmtree", folder, True))
    return f"{folder}/s"


# ---- socketserver and servers built on it -----------------------------------------
def _handler(aim: Aim) -> Remote:
    """A request handler class the server accepts (it never gets a request)."""
    name = aim.callable
    if name in ("HTTPServer", "ThreadingHTTPServer"):
        return aim.module.BaseHTTPRequestHandler
    if name == "SimpleXMLRPCServer":
        return aim.module.SimpleXMLRPCRequestHandler
    return aim.module.BaseRequestHandler


def server_class(aim: Aim, address: tuple = WILDCARD) -> Any:
    if aim.callable == "SimpleXMLRPCServer":
        server = aim.module.call(aim.callable, address, logRequests=False)
    else:
        server = aim.module.call(aim.callable, address, _handler(aim))
    return aim.keep(server, "server_close")


def server_class_specific(aim: Aim) -> Any:
    return server_class(aim, SPECIFIC_V4)


def unix_server_class(aim: Aim) -> Any:
    return aim.keep(aim.module.call(aim.callable, _unix_path(aim), aim.module.BaseRequestHandler),
                    "server_close")


def wsgiref_make_server(aim: Aim) -> Any:
    return aim.keep(aim.module.call("make_server", "", 0, _callback(aim)), "server_close")


def smtpd_server(aim: Aim) -> Any:
    return aim.keep(aim.module.call("SMTPServer", ("0.0.0.0", 0), None), "close")


def asyncore_connect(aim: Aim) -> Any:
    dispatcher = aim.keep(aim.module.call("dispatcher"))
    dispatcher.call("create_socket", aim.fam(), aim.socket.SOCK_STREAM)
    dispatcher.socket.call("settimeout", TIMEOUT)
    dispatcher.socket.call("connect", aim.sockaddr)
    return dispatcher.socket.call("sendall", PAYLOAD)


def asyncore_listen(aim: Aim) -> Any:
    dispatcher = aim.keep(aim.module.call("dispatcher"))
    dispatcher.call("create_socket", int(aim.socket.AF_INET), int(aim.socket.SOCK_STREAM))
    dispatcher.call("bind", WILDCARD)
    return dispatcher.call("listen", 5)


def mp_client(aim: Aim) -> Any:
    connection = aim.keep(aim.module.call("Client", aim.sockaddr))
    return connection.call("send_bytes", PAYLOAD)


def mp_listener(aim: Aim) -> Any:
    return aim.keep(aim.module.call("Listener", ("0.0.0.0", 0)))


def mp_listener_specific(aim: Aim) -> Any:
    return aim.keep(aim.module.call("Listener", SPECIFIC_V4))


def mp_listener_unix(aim: Aim) -> Any:
    return aim.keep(aim.module.call("Listener", None, "AF_UNIX"))


# ---- standard-library clients ---------------------------------------------------------
def http_request(aim: Aim, **kwargs: Any) -> Any:
    connection = aim.keep(aim.module.call(aim.callable or "HTTPConnection", aim.address,
                                          aim.port, timeout=TIMEOUT, **kwargs))
    connection.call("request", "GET", "/")
    return aim.keep(connection.call("getresponse")).status


def http_request_source(aim: Aim) -> Any:
    return http_request(aim, source_address=SPECIFIC_V4)


def http_request_source_port(aim: Aim) -> Any:
    """source_address with the wildcard address but a port: a bind BND-1 refuses too."""
    return http_request(aim, source_address=WILDCARD_PORT)


def urlopen(aim: Aim) -> Any:
    scheme = aim.callable or "http"
    response = aim.keep(aim.module.call("urlopen", f"{scheme}://{aim.host_text}:{aim.port}/",
                                        timeout=TIMEOUT))
    return response.call("read", 64)


def log_socket_handler(aim: Aim) -> Any:
    """logging.handlers.SocketHandler: makeSocket (public) dials the log server."""
    handler = aim.keep(aim.module.call("SocketHandler", aim.address, aim.port))
    sock = aim.keep(handler.call("makeSocket", TIMEOUT))
    return sock.call("sendall", PAYLOAD)


def log_datagram_handler(aim: Aim) -> Any:
    """logging.handlers.DatagramHandler.send: sendto the log server, errors raised."""
    handler = aim.keep(aim.module.call("DatagramHandler", aim.address, aim.port))
    return handler.call("send", PAYLOAD)


def log_syslog_stream(aim: Aim) -> Any:
    """SysLogHandler over TCP connects in its constructor."""
    return aim.keep(aim.module.call("SysLogHandler", address=aim.sockaddr,
                                    socktype=aim.socket.SOCK_STREAM))


def xmlrpc_call(aim: Aim) -> Any:
    proxy = aim.module.call("ServerProxy", f"http://{aim.host_text}:{aim.port}/")
    return proxy.system.call("listMethods")


def client_ctor(aim: Aim) -> Any:
    """`module.Client(host, port)` connects in the constructor (the socket default
    timeout bounds the clients without a timeout argument)."""
    client = aim.module.call(aim.callable, aim.address, aim.port)
    closer = {"IMAP4": "shutdown", "NNTP": "quit"}.get(aim.callable, "close")
    return aim.keep(client, closer)


def smtp_source(aim: Aim) -> Any:
    client = aim.module.call("SMTP", aim.address, aim.port, timeout=TIMEOUT,
                             source_address=SPECIFIC_V4)
    return aim.keep(client, "close")


def ftp_connect(aim: Aim) -> Any:
    ftp = aim.keep(aim.module.call(aim.callable))
    return ftp.call("connect", aim.address, aim.port, TIMEOUT)


# Entry points that report a refusal in their answer instead of raising: connect_ex
# returns an error code; a datagram transport hands errors to its protocol. For these
# drivers the answer says whether the call refused.
REFUSED_BY_ANSWER: dict[str, Callable[[Any], bool]] = {
    "connect_ex": lambda code: code != 0,
    "connect_ex_nonblocking": lambda code: code != 0,
    "udp_connect_ex_send": lambda code: code != 0,
    "asyncio_datagram_remote": bool,
    "asyncio_datagram_sendto": bool,
}

DRIVERS: dict[str, Callable[[Aim], Any]] = {
    fn.__name__: fn for fn in (
        connect_ex, connect_ex_nonblocking, connect_nonblocking, udp_connect_send,
        udp_connect_ex_send, sendto_flags, sendto_fastopen,
        sendmsg_udp, sendmsg_fastopen, setsockopt_optlen, sockettype_connect, sockettype_sendto,
        sockettype_unix, dup_connect, dup_sendto, fromfd_connect, fileno_connect, socketpair,
        create_connection, create_connection_source, create_server, create_server_dualstack,
        create_server_specific, create_server_reuse_port,
        ssl_wrap_connect, ssl_module_wrap_connect, ssl_create_connection,
        ssl_get_server_certificate,
        asyncio_create_connection, asyncio_create_connection_ssl,
        asyncio_create_connection_local, asyncio_sock_connect, asyncio_sock_connect_udp,
        asyncio_sock_sendto, asyncio_open_connection, asyncio_datagram_remote,
        asyncio_datagram_sendto, asyncio_datagram_local, asyncio_datagram_broadcast,
        asyncio_create_server, asyncio_start_server, asyncio_start_server_specific,
        asyncio_unix_server,
        server_class, server_class_specific, unix_server_class, wsgiref_make_server,
        smtpd_server, asyncore_connect, asyncore_listen, mp_client, mp_listener,
        mp_listener_specific, mp_listener_unix,
        http_request, http_request_source, http_request_source_port, urlopen, xmlrpc_call,
        client_ctor, smtp_source,
        ftp_connect, log_socket_handler, log_datagram_handler, log_syslog_stream,
    )
}
