"""The service's operations: open, relay, attach, control RPCs and admin.

Threads, one job each: an outbound relay per attached channel (channel ->
real socket), one inbound relay per descriptor (real socket -> the most
recently attached channel), a handler per control connection, a sweeper.
Blocking I/O with big buffers keeps the relay close to native speed.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import select
import socket
from collections.abc import Iterator
from typing import Any

from ..policy import Policy
from ..wire import WireError, encode, read_frame, send_frame
from . import urlfetch
from .resolve import (
    ResolveError,
    Resolver,
    choose,
    resolver_errors,
    sockaddr,
    system_resolver,
)
from .table import Clock, DescriptorTable, Entry, ServiceError
from .workers import Workers

BUF = 1 << 20
CHANNEL_BUF = 1 << 20
F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)


def error_reply(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, ServiceError):
        return {"ok": False, "errno": exc.errno, "message": exc.message}
    if isinstance(exc, ResolveError):
        return {"ok": False, "gai": exc.code, "message": exc.message}
    if isinstance(exc, socket.timeout):
        return {"ok": False, "timeout": True, "message": "timed out"}
    if isinstance(exc, OSError) and exc.errno:
        return {"ok": False, "errno": exc.errno, "message": exc.strerror or str(exc)}
    return {"ok": False, "errno": errno.EINVAL, "message": f"invalid request: {exc}"}


def _port(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 65535:
        raise ServiceError(errno.EINVAL, "port must be 0-65535")
    return value


def _family(value: object) -> int:
    if value not in (socket.AF_INET, socket.AF_INET6):
        raise ServiceError(errno.EAFNOSUPPORT)
    return int(value)  # type: ignore[call-overload]


def _timeout(value: object) -> float | None:
    if value is None:
        return None
    if not isinstance(value, (int, float)) or value < 0:
        raise ServiceError(errno.EINVAL, "bad timeout")
    return float(value)


def _str(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise ServiceError(errno.EINVAL, f"{what} must be a string")
    return value


class Service:
    def __init__(self, policy: Policy, clock: Clock | None = None,
                 resolver: Resolver = system_resolver, cafile: str | None = None) -> None:
        self.policy = policy
        self.clock = clock or Clock()
        self.table = DescriptorTable(self.clock)
        self.resolver = resolver
        self.cafile = cafile
        self.workers = Workers()

    # ---------------------------------------------------------------- connections
    def handle(self, conn: socket.socket) -> None:
        """Serve one connection from an instance until it closes."""
        try:
            header, _ = read_frame(conn)
            op = header.get("op")
            app = _str(header.get("app"), "app")
            if op == "control":
                send_frame(conn, {"ok": True})
                self._control_loop(conn, app)
            elif op == "connect":
                entry = self._open_tcp(conn, app, header)
                if entry is not None:
                    self._relay(entry, conn, start_inbound=True)
            elif op == "udp":
                self._open_udp(conn, app, header)
            elif op == "attach":
                self._attach(conn, app, header)
            else:
                send_frame(conn, {"ok": False, "errno": errno.EINVAL, "message": "unknown op"})
                conn.close()
        except (WireError, OSError):
            conn.close()
        except ServiceError as exc:
            with contextlib.suppress(OSError):
                send_frame(conn, error_reply(exc))
            conn.close()

    def _prepare_channel(self, conn: socket.socket) -> None:
        for opt in (socket.SO_SNDBUF, socket.SO_RCVBUF):
            with contextlib.suppress(OSError):
                conn.setsockopt(socket.SOL_SOCKET, opt, CHANNEL_BUF)

    # ---------------------------------------------------------------- TCP
    def _open_tcp(self, conn: socket.socket, app: str, req: dict[str, Any]) -> Entry | None:
        try:
            family = _family(req.get("family"))
            host = _str(req.get("host"), "host")
            port = _port(req.get("port"))
            hint = req.get("hint") if isinstance(req.get("hint"), str) else None
            timeout = _timeout(req.get("timeout"))
            addr, _ = choose(self.policy, self.resolver, family, host, port, "tcp", hint)
            real = socket.socket(family, socket.SOCK_STREAM)
            try:
                real.settimeout(timeout)
                real.connect(sockaddr(family, addr, port))
                real.settimeout(None)
                real.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except BaseException:
                real.close()
                raise
        except (ServiceError, ResolveError, OSError) as exc:
            send_frame(conn, error_reply(exc))
            conn.close()
            return None
        entry = self.table.add(app, "tcp", family, real)
        self._prepare_channel(conn)
        entry.add_channel(conn)
        send_frame(conn, {"ok": True, "desc": entry.desc, "sockname": list(real.getsockname()),
                          "peername": list(real.getpeername())})
        return entry

    def _relay(self, entry: Entry, chan: socket.socket, start_inbound: bool) -> None:
        if start_inbound:
            self.workers.submit(self._inbound, entry)
        self._outbound(entry, chan)

    def _outbound(self, entry: Entry, chan: socket.socket) -> None:
        """channel -> real socket, until the channel ends; then apply what the app asked."""
        real, table, app = entry.sock, self.table, entry.app
        try:
            if not _splice_relay(chan, real, entry, table):
                buf = bytearray(BUF)
                view = memoryview(buf)
                while True:
                    n = chan.recv_into(buf)
                    if not n:
                        break
                    real.sendall(view[:n])
                    table.count(app, n)
                    entry.last = table.clock.now()
        except OSError as exc:
            if not entry.closed and exc.errno not in (errno.EBADF, None):
                entry.error = entry.error or exc.errno
        with entry.lock:
            shut_wr = entry.shut_wr_requested and not entry.closed
        if shut_wr:
            with contextlib.suppress(OSError):
                real.shutdown(socket.SHUT_WR)
            entry.wr_done.set()
            _wait_hangup(chan)
        self._channel_ended(entry, chan)

    def _inbound(self, entry: Entry) -> None:
        """real socket -> the current channel; EOF or error is passed on to the app."""
        buf = bytearray(BUF)
        view = memoryview(buf)
        real, clock = entry.sock, self.table.clock
        while True:
            try:
                n = real.recv_into(buf)
            except OSError as exc:
                if not entry.closed:
                    entry.error = exc.errno or errno.EIO
                n = 0
            if not n:
                break
            entry.last = clock.now()
            self._deliver(entry, view[:n])
        with entry.lock:
            chan = entry.inbound
        if chan is not None and not entry.closed:
            with contextlib.suppress(OSError):
                chan.shutdown(socket.SHUT_WR)

    def _deliver(self, entry: Entry, data: memoryview) -> None:
        """Write to the newest channel; if it is gone but the socket was pickled,
        wait for an instance to attach."""
        while not entry.closed:
            with entry.lock:
                chan = entry.inbound
                if chan is None:
                    entry.lock.wait(1.0)
                    continue
            try:
                chan.sendall(data)
                return
            except OSError:
                entry.channel_ended(chan)

    def _attach(self, conn: socket.socket, app: str, req: dict[str, Any]) -> None:
        try:
            entry = self.table.get(app, req.get("desc"))
        except ServiceError as exc:
            send_frame(conn, error_reply(exc))
            conn.close()
            return
        self._prepare_channel(conn)
        entry.retained = True
        entry.add_channel(conn)
        send_frame(conn, {"ok": True, "kind": entry.kind, "family": entry.family})
        if entry.kind == "tcp":
            self._outbound(entry, conn)
        else:
            self._udp_watch(entry, conn)

    # ---------------------------------------------------------------- UDP
    def _open_udp(self, conn: socket.socket, app: str, req: dict[str, Any]) -> None:
        family = _family(req.get("family"))
        real = socket.socket(family, socket.SOCK_DGRAM)
        entry = self.table.add(app, "udp", family, real)
        entry.add_channel(conn)
        send_frame(conn, {"ok": True, "desc": entry.desc})
        self.workers.submit(self._udp_inbound, entry)
        self._udp_watch(entry, conn)

    def _udp_inbound(self, entry: Entry) -> None:
        """Datagrams from the real socket -> the current channel, one frame each."""
        while not entry.closed:
            try:
                data, peer = entry.sock.recvfrom(65536)
            except OSError:
                continue  # an ICMP error on a connected socket; or closed: the loop ends
            if peer is None or entry.closed:
                continue
            entry.last = self.table.clock.now()
            self._deliver(entry, memoryview(encode({"addr": list(peer)}, data)))

    def _udp_watch(self, entry: Entry, chan: socket.socket) -> None:
        """A UDP channel carries nothing app -> service; wait for it to end."""
        _wait_hangup(chan)
        self._channel_ended(entry, chan)

    def _channel_ended(self, entry: Entry, chan: socket.socket) -> None:
        """A channel is done: a pickled socket waits for the next instance to attach;
        otherwise the descriptor closes with its last channel."""
        if entry.channel_ended(chan):
            chan.close()
        else:
            self.table.close(entry)

    # ---------------------------------------------------------------- control
    def _control_loop(self, conn: socket.socket, app: str) -> None:
        while True:
            try:
                header, payload = read_frame(conn)
            except (WireError, OSError):
                conn.close()
                return
            try:
                reply, data = self.control(app, header, payload)
            except (ServiceError, ResolveError, OSError, ValueError, TypeError) as exc:
                reply, data = error_reply(exc), b""
            try:
                send_frame(conn, reply, data)
            except OSError:
                conn.close()
                return

    def control(self, app: str, req: dict[str, Any],
                payload: bytes) -> tuple[dict[str, Any], bytes]:
        op = req.get("op")
        if op == "getaddrinfo":
            return {"ok": True, "infos": self._getaddrinfo(req)}, b""
        if op == "gethostbyname_ex":
            return {"ok": True, "value": self._gethostbyname_ex(req)}, b""
        if op == "urlfetch":
            status, body = urlfetch.fetch(self, app, req, payload)
            return {"ok": True, "status": status}, body
        if op == "flush":
            # Wait until what the app wrote before shutdown/close has reached the
            # real socket, so the peer sees it when the app's call returns.
            waiting = self.table.lookup(app, req.get("desc"))
            if waiting is not None:
                event = waiting.done if req.get("what") == "close" else waiting.wr_done
                event.wait(3.0)
            return {"ok": True}, b""
        if op == "status":
            done = self.table.finished_error(app, req.get("desc"))
            if done is not None:
                return {"ok": True, "error": done}, b""
        entry = self.table.get(app, req.get("desc"))
        if op == "status":
            err, entry.error = entry.error, 0
            return {"ok": True, "error": err}, b""
        if op == "touch":
            return {"ok": True}, b""
        if op in ("peername", "sockname"):
            try:
                name = entry.sock.getpeername() if op == "peername" else entry.sock.getsockname()
            except OSError as exc:
                raise ServiceError(exc.errno or errno.ENOTCONN) from exc
            return {"ok": True, "value": list(name)}, b""
        if op == "retain":
            entry.retained = True
            return {"ok": True}, b""
        if op == "close":
            with entry.lock:
                entry.close_requested = True
                idle = not entry.channels or entry.kind == "udp"
            if idle:
                self.table.close(entry)
            return {"ok": True}, b""
        if op == "shutdown":
            how = req.get("how")
            if how not in (socket.SHUT_RD, socket.SHUT_WR, socket.SHUT_RDWR):
                raise ServiceError(errno.EINVAL)
            if how in (socket.SHUT_WR, socket.SHUT_RDWR):
                if entry.kind == "tcp":
                    entry.shut_wr_requested = True
                else:
                    entry.sock.shutdown(socket.SHUT_WR)
            if how in (socket.SHUT_RD, socket.SHUT_RDWR):
                with contextlib.suppress(OSError):
                    entry.sock.shutdown(socket.SHUT_RD)
            return {"ok": True}, b""
        if op == "udp_connect":
            host = _str(req.get("host"), "host")
            port = _port(req.get("port"))
            addr, _ = choose(self.policy, self.resolver, entry.family, host, port, "udp",
                             req.get("hint") if isinstance(req.get("hint"), str) else None)
            entry.sock.connect(sockaddr(entry.family, addr, port))
            return {"ok": True, "peername": list(entry.sock.getpeername())}, b""
        if op == "udp_send":
            target = req.get("host")
            if target is None:
                try:
                    entry.sock.getpeername()
                except OSError as exc:
                    raise ServiceError(errno.EDESTADDRREQ) from exc
                n = entry.sock.send(payload)
            else:
                port = _port(req.get("port"))
                # Judged per datagram, by this datagram's destination (DST-9).
                addr, _ = choose(self.policy, self.resolver, entry.family, _str(target, "host"),
                                 port, "udp", None)
                n = entry.sock.sendto(payload, sockaddr(entry.family, addr, port))
            self.table.count(app, n)
            return {"ok": True, "n": n, "sockname": list(entry.sock.getsockname())}, b""
        raise ServiceError(errno.EINVAL, f"unknown op {op!r}")

    def _getaddrinfo(self, req: dict[str, Any]) -> list[list[Any]]:
        host = req.get("host")
        port = req.get("port")
        if not (host is None or isinstance(host, str)) or not (
                port is None or isinstance(port, (str, int))):
            raise ServiceError(errno.EINVAL)
        if isinstance(host, str) and "\x00" in host:
            raise ResolveError(socket.EAI_NONAME, "Name or service not known")
        family = int(req.get("family", 0))
        args = (int(req.get("type", 0)), int(req.get("proto", 0)),
                int(req.get("flags", 0)) | socket.AI_NUMERICHOST)
        with resolver_errors():
            if host is None:
                infos = socket.getaddrinfo(None, port, family, *args)
            else:
                # Names go through the same resolver the connect path uses.
                infos = []
                for addr in self.resolver(host, family):
                    infos.extend(socket.getaddrinfo(str(addr), port, family, *args))
        if not infos:
            raise ResolveError(socket.EAI_NONAME, "Name or service not known")
        return [[int(f), int(t), int(p), c, list(sa)] for f, t, p, c, sa in infos
                if f in (socket.AF_INET, socket.AF_INET6)]

    def _gethostbyname_ex(self, req: dict[str, Any]) -> list[Any]:
        host = _str(req.get("host"), "host")
        if "\x00" in host:
            raise ResolveError(socket.EAI_NONAME, "Name or service not known")
        with resolver_errors():
            name, aliases, addrs = socket.gethostbyname_ex(host)
        return [name, aliases, addrs]

    # ---------------------------------------------------------------- admin
    def admin(self, req: dict[str, Any]) -> dict[str, Any]:
        op = req.get("op")
        if op == "advance":
            self.clock.advance(float(req["seconds"]))
            return {"ok": True, "reclaimed": len(self.table.sweep())}
        if op == "meter":
            return {"ok": True, "bytes": self.table.meter[str(req["app"])]}
        if op == "ping":
            return {"ok": True}
        raise ValueError(f"unknown admin op {op!r}")


def _splice_relay(chan: socket.socket, real: socket.socket, entry: Entry,
                  table: DescriptorTable) -> bool:
    """channel -> real socket through a pipe with splice(2): the bytes never enter
    Python. False if splice is unavailable (then the caller copies)."""
    splice = getattr(os, "splice", None)
    if splice is None:
        return False
    try:
        rd, wr = os.pipe()
    except OSError:
        return False
    try:
        with contextlib.suppress(OSError):
            fcntl.fcntl(wr, F_SETPIPE_SZ, BUF)
        app = entry.app
        first = True
        with _own_fd(chan) as src, _own_fd(real) as dst:
            while True:
                try:
                    n = splice(src, wr, BUF)
                except OSError as exc:
                    if first and exc.errno in (errno.EINVAL, errno.ENOSYS):
                        return False
                    raise
                first = False
                if not n:
                    return True
                left = n
                while left:
                    left -= splice(rd, dst, left)
                table.count(app, n)
                entry.last = table.clock.now()
    finally:
        os.close(rd)
        os.close(wr)


@contextlib.contextmanager
def _own_fd(sock: socket.socket) -> Iterator[int]:
    """A private duplicate of `sock`'s descriptor, for a loop that blocks on a raw fd.

    Another thread may close the socket meanwhile (a sweep, a close RPC), and the
    kernel gives the freed number to the next socket opened in the process: a cached
    number would then splice another connection's bytes (an app's control frames).
    The duplicate keeps the same socket; the closer's shutdown() still ends the loop."""
    fd = os.dup(sock.fileno())
    try:
        yield fd
    finally:
        os.close(fd)


def _wait_hangup(chan: socket.socket) -> None:
    """Block until the app closes its end of a channel (POLLHUP), reading and
    discarding anything it still sends."""
    poller = select.poll()
    try:
        poller.register(chan.fileno(), select.POLLIN)
    except (ValueError, OSError):
        return
    while True:
        try:
            events = poller.poll()
        except OSError:
            return
        for _fd, ev in events:
            if ev & (select.POLLHUP | select.POLLERR | select.POLLNVAL):
                return
            if ev & select.POLLIN:
                try:
                    if not chan.recv(65536):
                        # EOF on read but not hung up: the app shut down writing only.
                        poller.modify(chan.fileno(), 0)
                except OSError:
                    return
