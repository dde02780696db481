# mypy: disable-error-code="no-redef, misc, assignment, attr-defined, override"
"""The drop-in `socket` module of an instance (API-1): the standard names,
backed by the socket service.

How a sandbox socket works. Each socket object is a real `socket.socket`
whose file descriptor is a unix-domain *channel* to the service, reported
with the IP family and type the app asked for. `connect()` sends one frame
on the channel; the service judges the destination, dials it, and from then
on relays the raw TCP byte stream between the channel and the real socket.
So recv/send/makefile/timeouts run natively on the channel, `select.select`
sees real readiness (API-6), and `ssl` can wrap the descriptor unchanged.
Everything else (options, bind, listen, names, shutdown, pickling) is
answered here or by an RPC on the instance's control connection.

UDP sockets use their channel only to receive (each datagram arrives as a
frame with its source address); every datagram sent is an RPC, judged by its
own destination (DST-9).
"""

# ruff: noqa: F403, F405
from __future__ import annotations

import _socket
import contextlib
import errno as _errno
import json as _json
import os as _os
import socket as _real
from socket import *  # the standard names (API-1)
from typing import Any

from .. import options as _options
from ..wire import HEAD as _HEAD
from ..wire import WireError as _WireError
from ..wire import encode as _encode
from ..wire import read_frame as _read_frame
from .control import CONTROL as _CONTROL
from .control import app_id as _app_id
from .control import raise_reply as _raise_reply
from .control import service_path as _service_path

# Names `from socket import *` leaves out but stdlib clients use.
_GLOBAL_DEFAULT_TIMEOUT = _real._GLOBAL_DEFAULT_TIMEOUT
error = OSError
timeout = _real.timeout
gaierror = _real.gaierror
herror = _real.herror
SocketIO = _real.SocketIO
AddressFamily = _real.AddressFamily
SocketKind = _real.SocketKind
_intenum_converter = _real._intenum_converter

PROFILE_ENV = "SANDBOX_PROFILE"
_default_timeout: float | None = None


class SocketApiNotImplementedError(NotImplementedError, OSError):
    """Raised for calls the service does not implement; also a socket.error (RES-1)."""

    def __init__(self, message: str = "not implemented in the App Engine socket API") -> None:
        OSError.__init__(self, _errno.ENOSYS, message)


def _err(code: int, message: str | None = None) -> OSError:
    return OSError(code, message or _os.strerror(code))


def _check_port(port: object, what: str) -> int:
    if not isinstance(port, int):
        raise TypeError(f"'{type(port).__name__}' object cannot be interpreted as an integer")
    if not 0 <= port <= 65535:
        raise OverflowError(f"{what}(): port must be 0-65535.")
    return port


def _host_text(host: object) -> str:
    if isinstance(host, (bytes, bytearray)):
        try:
            return bytes(host).decode("ascii")
        except UnicodeDecodeError:
            raise gaierror(EAI_NONAME, "Name or service not known") from None
    if not isinstance(host, str):
        raise TypeError(f"str, bytes or bytearray expected, not {type(host).__name__}")
    return host


def _parse_address(family: int, address: object, what: str) -> tuple[str, int]:
    """(host, port) from an address argument, with the standard module's errors."""
    if family == AF_INET6:
        if not isinstance(address, tuple) or not 2 <= len(address) <= 4:
            raise TypeError("AF_INET6 address must be a tuple (host, port[, flowinfo[, scopeid]])")
        if len(address) > 2:
            flow = address[2]
            if not isinstance(flow, int):
                raise TypeError("an integer is required")
            if not 0 <= flow <= 0xFFFFF:
                raise OverflowError(f"{what}(): flowinfo must be 0-1048575.")
    elif not isinstance(address, tuple):
        raise TypeError(f"{what}(): AF_INET address must be tuple, not {type(address).__name__}")
    elif len(address) != 2:
        raise TypeError("AF_INET address must be a pair (host, port)")
    host = _host_text(address[0])
    port = _check_port(address[1], what)
    if host == "":
        host = "::" if family == AF_INET6 else "0.0.0.0"
    return host, port


# One spare channel, connected ahead of time: the service has accepted it and
# is waiting for its first frame by the time the next connect() needs it, which
# takes a process wake-up off the connect path. (pid, service path, fd): never
# used after a fork or for another service.
_spares: list[tuple[int, str, int]] = []


def _take_spare(target_fd: int) -> bool:
    """Put a spare connected channel in place of `target_fd`; False if none."""
    key = (_os.getpid(), _os.environ.get("SANDBOX_SERVICE", ""))
    while True:
        try:
            owner, path, fd = _spares.pop()  # atomic: threads may connect at once
        except IndexError:
            return False
        if (owner, path) == key:
            _os.dup2(fd, target_fd)
            _os.close(fd)
            return True
        _os.close(fd)


def _refill_spare() -> None:
    if _spares:
        return
    s = _real.socket(AF_UNIX, SOCK_STREAM)
    try:
        path = _service_path()
        s.connect(path)
    except OSError:
        s.close()
        return
    _spares.append((_os.getpid(), path, s.detach()))


def _channel_request(fd: int, header: dict[str, Any], wait: float | None,
                     connected: bool = False) -> dict[str, Any]:
    """Connect the unix descriptor `fd` to the service (unless it already is)
    and make its first request."""
    u = _real.socket(AF_UNIX, SOCK_STREAM, 0, fileno=fd)
    try:
        u.settimeout(None)
        if not connected:
            try:
                u.connect(_service_path())
            except OSError as exc:
                raise _err(_errno.ENETDOWN, f"socket service unavailable: {exc}") from None
        u.settimeout(wait)
        try:
            u.sendall(_encode(header))
            reply, _ = _read_frame(u)
        except TimeoutError:
            raise timeout("timed out") from None
        except (_WireError, OSError) as exc:
            raise _err(_errno.EPIPE, f"socket service connection lost: {exc}") from None
        return reply
    finally:
        u.detach()


class socket(_real.socket):
    """socket(family=AF_INET, type=SOCK_STREAM, proto=0): TCP or UDP only (PRT)."""

    def __init__(self, family: int = AF_INET, type: int = SOCK_STREAM, proto: int = 0,
                 fileno: int | None = None) -> None:
        for value in (family, type, proto):
            if not isinstance(value, int):
                raise TypeError(f"'{value.__class__.__name__}' object cannot be interpreted "
                                "as an integer")
        if fileno is not None:
            raise _err(_errno.EBADF, "sandbox sockets cannot adopt a file descriptor")
        if family == -1:
            family = AF_INET
        if type == -1:
            type = SOCK_STREAM
        if proto == -1:
            proto = 0
        code = _options.creation_errno(family, type, proto)
        if code:
            raise _err(code)
        fd = _real.socket(AF_UNIX, SOCK_STREAM).detach()
        _real.socket.__init__(self, family, type, proto, fd)
        self._sb_udp = (type & ~_options.TYPE_FLAGS) == SOCK_DGRAM
        self._sb_desc: str | None = None
        self._sb_peer: tuple | None = None
        self._sb_retained = False
        self._sb_eof = False
        nonblocking = bool(type & getattr(_real, "SOCK_NONBLOCK", 0))
        self.settimeout(0.0 if nonblocking else _default_timeout)

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("connected" if self._sb_desc else "new")
        return (f"<sandbox socket fd={self.fileno()} family={self.family!r} "
                f"type={self.type!r} {state}>")

    def __getstate__(self) -> Any:
        raise TypeError("use pickle: sandbox sockets pickle by descriptor")

    # ------------------------------------------------------------ pickling (APP-1/2)
    def __reduce_ex__(self, protocol: object) -> Any:
        if self._sb_desc is not None:
            _CONTROL.call({"op": "retain", "desc": self._sb_desc})
            self._sb_retained = True
        return (_restore, (int(self.family), int(self.type), self.proto, self._sb_desc,
                           self.gettimeout(), self._sb_peer))

    # ------------------------------------------------------------ connect
    def _sb_fresh_channel(self) -> None:
        """After a failed connect the channel is spent; give the socket a new one."""
        fresh = _real.socket(AF_UNIX, SOCK_STREAM)
        _os.dup2(fresh.fileno(), self.fileno())
        fresh.close()
        self.settimeout(self.gettimeout())

    def _sb_connect(self, address: object, hint: str | None) -> None:
        if self._closed or self.fileno() < 0:
            raise _err(_errno.EBADF)
        host, port = _parse_address(self.family, address, "connect")
        if self._sb_udp:
            self._sb_udp_open()
            reply, _ = _CONTROL.call({"op": "udp_connect", "desc": self._sb_desc, "host": host,
                                      "port": port, "hint": hint})
            self._sb_peer = tuple(reply["peername"])
            return
        if self._sb_desc is not None:
            raise _err(_errno.EISCONN)
        tmo = self.gettimeout()
        connect_timeout = tmo if tmo else None
        wait = None if connect_timeout is None else connect_timeout + 5.0
        spare = _take_spare(self.fileno())
        try:
            reply = _channel_request(self.fileno(), {
                "op": "connect", "app": _app_id(), "family": int(self.family), "host": host,
                "port": port, "hint": hint, "timeout": connect_timeout}, wait, spare)
        except OSError:
            self._sb_fresh_channel()  # the service may still answer on this one
            raise
        finally:
            self.settimeout(tmo)
        _refill_spare()
        if not reply.get("ok"):
            self._sb_fresh_channel()
            _raise_reply(reply)
        self._sb_desc = reply["desc"]
        self._sb_peer = tuple(reply["peername"])

    def connect(self, address: object) -> None:
        self._sb_connect(address, None)

    def connect_ex(self, address: object) -> int:
        try:
            self._sb_connect(address, None)
        except gaierror:
            raise  # as the standard connect_ex: name errors raise, socket errors return
        except OSError as exc:
            return exc.errno or _errno.EIO
        return 0

    # ------------------------------------------------------------ things the sandbox refuses
    def bind(self, address: object) -> None:
        host, port = _parse_address(self.family, address, "bind")
        code = _options.bind_errno(host, port)
        if code:
            raise _err(code)

    def listen(self, backlog: int = 0) -> None:
        raise _err(_errno.EACCES, "listening sockets are not supported")

    def accept(self) -> tuple[Any, Any]:
        raise _err(_errno.EACCES, "listening sockets are not supported")

    def _accept(self) -> Any:
        raise _err(_errno.EACCES, "listening sockets are not supported")

    def dup(self) -> Any:
        raise _err(_errno.EACCES, "sandbox sockets cannot be duplicated")

    def sendmsg(self, *args: Any) -> int:
        raise _err(_errno.EOPNOTSUPP)

    def recvmsg(self, *args: Any) -> Any:
        raise _err(_errno.EOPNOTSUPP)

    # ------------------------------------------------------------ options (OPT)
    def setsockopt(self, level: int, optname: int, value: Any, optlen: Any = None) -> None:
        if not isinstance(level, int) or not isinstance(optname, int):
            raise TypeError("an integer is required")
        if optlen is None and not isinstance(value, (int, bytes, bytearray, memoryview)):
            raise TypeError("a bytes-like object or an integer is required")
        if _os.environ.get(PROFILE_ENV) == "sdk-pre-1.8.1":
            raise SocketApiNotImplementedError("setsockopt is not implemented")
        if self._closed:
            raise _err(_errno.EBADF)
        code = _options.setsockopt_errno(level, optname)
        if code:
            raise _err(code, "Permission denied: unsupported socket option")

    def getsockopt(self, level: int, optname: int, buflen: int = 0) -> Any:
        if not all(isinstance(v, int) for v in (level, optname, buflen)):
            raise TypeError("an integer is required")
        if _os.environ.get(PROFILE_ENV) == "sdk-pre-1.8.1":
            raise SocketApiNotImplementedError("getsockopt is not implemented")
        if self._closed:
            raise _err(_errno.EBADF)
        if not 0 <= buflen <= 1024:
            raise OSError("getsockopt buflen out of range")
        if level == SOL_SOCKET and optname == SO_TYPE:
            return int(self.type)
        if level == SOL_SOCKET and optname == SO_ERROR:
            return 0 if not buflen else bytes(buflen)
        value = _options.mock_value(level, optname, buflen)
        if value is None:
            raise _err(_errno.EACCES, "Permission denied: unsupported socket option")
        return value

    # ------------------------------------------------------------ names
    def getpeername(self) -> Any:
        if self._closed:
            raise _err(_errno.EBADF)
        if self._sb_desc is None or (self._sb_udp and self._sb_peer is None):
            raise _err(_errno.ENOTCONN)
        if self._sb_udp:
            return self._sb_peer
        reply, _ = _CONTROL.call({"op": "peername", "desc": self._sb_desc})
        return tuple(reply["value"])

    def getsockname(self) -> Any:
        if self._closed:
            raise _err(_errno.EBADF)
        if self._sb_desc is None:
            return ("::", 0, 0, 0) if self.family == AF_INET6 else ("0.0.0.0", 0)
        reply, _ = _CONTROL.call({"op": "sockname", "desc": self._sb_desc})
        return tuple(reply["value"])

    # ------------------------------------------------------------ TCP data (native on the channel)
    def _sb_check_eof(self) -> None:
        """recv saw EOF: a reset, an error or a reclaimed descriptor raises instead (IDLE-3)."""
        if self._sb_eof or self._sb_desc is None:
            return
        self._sb_eof = True
        reply, _ = _CONTROL.call({"op": "status", "desc": self._sb_desc})
        if reply.get("error"):
            raise _err(int(reply["error"]))

    def _sb_unconnected(self) -> OSError:
        return _err(_errno.EBADF if self.fileno() < 0 else _errno.ENOTCONN)

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        if self._sb_udp:
            return self._sb_recvfrom(bufsize)[0]
        if self._sb_desc is None:
            raise self._sb_unconnected()
        data = _socket.socket.recv(self, bufsize, flags)
        if not data and bufsize:
            self._sb_check_eof()
        return data

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        if self._sb_udp:
            data, _ = self._sb_recvfrom(nbytes or len(buffer))
            memoryview(buffer).cast("B")[: len(data)] = data
            return len(data)
        if self._sb_desc is None:
            raise self._sb_unconnected()
        n = _socket.socket.recv_into(self, buffer, nbytes, flags)
        if not n and (nbytes or len(buffer)):
            self._sb_check_eof()
        return n

    def send(self, data: Any, flags: int = 0) -> int:
        if self._sb_udp:
            return self._sb_sendto(data, None)
        if self._sb_desc is None:
            raise self._sb_unconnected()
        return _socket.socket.send(self, data, flags)

    def sendall(self, data: Any, flags: int = 0) -> None:
        if self._sb_udp:
            self._sb_sendto(data, None)
            return
        if self._sb_desc is None:
            raise self._sb_unconnected()
        _socket.socket.sendall(self, data, flags)

    # ------------------------------------------------------------ UDP
    def _sb_udp_open(self) -> None:
        if self._sb_desc is not None:
            return
        if self._closed:
            raise _err(_errno.EBADF)
        tmo = self.gettimeout()
        try:
            reply = _channel_request(self.fileno(), {"op": "udp", "app": _app_id(),
                                                     "family": int(self.family)}, 30.0)
        finally:
            self.settimeout(tmo)
        if not reply.get("ok"):
            self._sb_fresh_channel()
            _raise_reply(reply)
        self._sb_desc = reply["desc"]

    def _sb_sendto(self, data: Any, address: object) -> int:
        payload = bytes(memoryview(data))
        if len(payload) > 0xFFFF:  # no datagram is that long (nor any frame to the service)
            raise _err(_errno.EMSGSIZE)
        header: dict[str, Any] = {"op": "udp_send"}
        if address is not None:
            host, port = _parse_address(self.family, address, "sendto")
            header.update(host=host, port=port)
        elif self._sb_peer is None:
            raise _err(_errno.EDESTADDRREQ)
        self._sb_udp_open()
        header["desc"] = self._sb_desc
        reply, _ = _CONTROL.call(header, payload)
        return int(reply["n"])

    def sendto(self, data: Any, flags_or_address: Any, address: Any = None) -> int:
        target = flags_or_address if address is None else address
        if not self._sb_udp:
            if self._sb_desc is None:
                raise _err(_errno.EPIPE)
            raise _err(_errno.EISCONN)
        return self._sb_sendto(data, target)

    def _sb_read(self, n: int) -> bytes:
        out = b""
        while len(out) < n:
            chunk = _socket.socket.recv(self, n - len(out))
            if not chunk:
                raise _err(_errno.EBADF, "socket closed by the service")
            out += chunk
        return out

    def _sb_recvfrom(self, bufsize: int) -> tuple[bytes, Any]:
        if not isinstance(bufsize, int):
            raise TypeError("an integer is required")
        if bufsize < 0:
            raise ValueError("negative buffersize in recvfrom")
        self._sb_udp_open()
        hlen, plen = _HEAD.unpack(self._sb_read(_HEAD.size))
        header = _json.loads(self._sb_read(hlen))
        data = self._sb_read(plen) if plen else b""
        return data[:bufsize], tuple(header["addr"])

    def recvfrom(self, bufsize: int, flags: int = 0) -> tuple[bytes, Any]:
        if not self._sb_udp:
            return self.recv(bufsize, flags), None
        return self._sb_recvfrom(bufsize)

    def recvfrom_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> tuple[int, Any]:
        if not self._sb_udp:
            return self.recv_into(buffer, nbytes, flags), None
        data, addr = self._sb_recvfrom(nbytes or len(buffer))
        memoryview(buffer).cast("B")[: len(data)] = data
        return len(data), addr

    # ------------------------------------------------------------ shutdown, close
    def shutdown(self, how: int) -> None:
        if not isinstance(how, int):
            raise TypeError("an integer is required")
        if how not in (SHUT_RD, SHUT_WR, SHUT_RDWR):
            raise _err(_errno.EINVAL)
        if self._closed:
            raise _err(_errno.EBADF)
        if self._sb_desc is None:
            raise _err(_errno.ENOTCONN)
        _CONTROL.call({"op": "shutdown", "desc": self._sb_desc, "how": how})
        with contextlib.suppress(OSError):
            _socket.socket.shutdown(self, how)
        if how != SHUT_RD and not self._sb_udp:
            _CONTROL.call({"op": "flush", "desc": self._sb_desc, "what": "wr"})

    def detach(self) -> int:
        """The channel now belongs to someone else (an ssl wrapper): so does the descriptor."""
        self._sb_desc = None
        return super().detach()

    def _sb_export(self) -> tuple[str | None, bool]:
        """Hand the descriptor to an ssl wrapper, which takes over the channel."""
        return self._sb_desc, self._sb_retained

    def _real_close(self, _ss: Any = _socket.socket) -> None:
        desc, self._sb_desc = self._sb_desc, None
        _close_descriptor(self, desc, self._sb_udp, _ss)


def _close_descriptor(sock: Any, desc: str | None, udp: bool, _ss: Any = _socket.socket) -> None:
    """Close as the standard module does: what was sent before close() reaches the
    peer, and the connection is closed when close() returns (also after a pickle)."""
    if desc is None:
        _ss.close(sock)
        return
    try:
        _CONTROL.call({"op": "close", "desc": desc})
    except OSError:
        _ss.close(sock)
        return
    if not udp:
        with contextlib.suppress(OSError):
            _socket.socket.shutdown(sock, SHUT_WR)
    _ss.close(sock)
    with contextlib.suppress(OSError):
        _CONTROL.call({"op": "flush", "desc": desc, "what": "close"})


def _restore(family: Any, type: Any, proto: Any, desc: Any, tmo: Any, peer: Any) -> socket:
    """Unpickle: take up a descriptor of this app in this instance (APP-1); another
    app's descriptor, or a corrupted pickle, raises socket.error (APP-2)."""
    if not all(isinstance(v, int) for v in (family, type, proto)) or not (
            desc is None or isinstance(desc, str)) or not (
            tmo is None or isinstance(tmo, (int, float))):
        raise _err(_errno.EBADF, "corrupted socket pickle")
    sock = socket(family, type, proto)
    sock.settimeout(tmo)
    if desc is None:
        return sock
    try:
        reply = _channel_request(sock.fileno(), {"op": "attach", "app": _app_id(), "desc": desc},
                                 30.0)
    except OSError:
        sock.close()
        raise
    sock.settimeout(tmo)
    if not reply.get("ok"):
        sock.close()
        _raise_reply(reply)
    sock._sb_desc = desc
    sock._sb_retained = True
    if isinstance(peer, (list, tuple)):
        sock._sb_peer = tuple(peer)
    return sock


# ---------------------------------------------------------------- module functions
def getdefaulttimeout() -> float | None:
    return _default_timeout


def setdefaulttimeout(value: float | None) -> None:
    global _default_timeout
    if value is not None:
        if not isinstance(value, (int, float)):
            raise TypeError("Timeout value must be int, float or None")
        if value < 0:
            raise ValueError("Timeout value out of range")
        value = float(value)
    _default_timeout = value


def getaddrinfo(host: Any, port: Any, family: int = 0, type: int = 0, proto: int = 0,
                flags: int = 0) -> list[tuple[Any, ...]]:
    """Numeric hosts are read here (AI_NUMERICHOST: no I/O); names go to the service's resolver."""
    try:
        infos = _real.getaddrinfo(host, port, family, type, proto, flags | AI_NUMERICHOST)
    except gaierror as exc:
        if exc.errno != EAI_NONAME or host is None:
            raise
        text = _host_text(host)
        if "\x00" in text:
            raise gaierror(EAI_NONAME, "Name or service not known") from None
        reply, _ = _CONTROL.call({"op": "getaddrinfo", "host": text,
                                  "port": port.decode() if isinstance(port, bytes) else port,
                                  "family": int(family), "type": int(type), "proto": int(proto),
                                  "flags": int(flags)})
        return [(_intenum_converter(f, AddressFamily), _intenum_converter(t, SocketKind), p, c,
                 tuple(sa)) for f, t, p, c, sa in reply["infos"]]
    return [i for i in infos if i[0] in (AF_INET, AF_INET6)]


def gethostbyname(hostname: Any) -> str:
    text = _host_text(hostname)
    infos = getaddrinfo(text, None, AF_INET, SOCK_STREAM)
    if not infos:
        raise gaierror(EAI_NONAME, "Name or service not known")
    return str(infos[0][4][0])


def gethostbyname_ex(hostname: Any) -> tuple[str, list[str], list[str]]:
    text = _host_text(hostname)
    try:
        _real.inet_aton(text)
        return text, [], [gethostbyname(text)]
    except OSError:
        pass
    reply, _ = _CONTROL.call({"op": "gethostbyname_ex", "host": text})
    name, aliases, addrs = reply["value"]
    return name, list(aliases), list(addrs)


def gethostbyaddr(ip_address: Any) -> Any:
    """Not implemented on App Engine (RES-1)."""
    raise SocketApiNotImplementedError("gethostbyaddr is not implemented")


def getnameinfo(sockaddr: Any, flags: int) -> tuple[str, str]:
    """Numeric answers only: reverse lookups are not offered (RES-2)."""
    if not isinstance(flags, int):
        raise TypeError("an integer is required")
    return _real.getnameinfo(sockaddr, flags | NI_NUMERICHOST)


def getfqdn(name: str = "") -> str:
    return name.strip() or gethostname()


def create_connection(address: Any, timeout: Any = _GLOBAL_DEFAULT_TIMEOUT,
                      source_address: Any = None, *, all_errors: bool = False) -> socket:
    """Like the standard one; the host name travels with each attempt so the service
    can apply the documented per-host exceptions (EXC-2)."""
    if not isinstance(address, tuple) or len(address) != 2:
        raise TypeError("address must be a (host, port) tuple")
    host, port = address
    errors: list[OSError] = []
    for family, socktype, proto, _canon, sa in getaddrinfo(host, port, 0, SOCK_STREAM):
        sock = None
        try:
            sock = socket(family, socktype, proto)
            if timeout is not _GLOBAL_DEFAULT_TIMEOUT:
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock._sb_connect(sa, _host_text(host))
            errors.clear()
            return sock
        except OSError as exc:
            errors.append(exc)
            if sock is not None:
                sock.close()
    if errors:
        if all_errors:
            raise ExceptionGroup("create_connection failed", errors)
        raise errors[-1]
    raise error("getaddrinfo returns an empty list")


def create_server(*args: Any, **kwargs: Any) -> Any:
    raise _err(_errno.EACCES, "listening sockets are not supported")


def fromfd(*args: Any, **kwargs: Any) -> Any:
    raise _err(_errno.EACCES, "sandbox sockets cannot adopt a file descriptor")


SocketType = socket
