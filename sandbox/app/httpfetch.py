"""httplib/http.client through the urlfetch emulation (HTTP-1/2).

Unless GAE_USE_SOCKETS_HTTPLIB is set (to anything, the empty string
included), an HTTPConnection does not open a socket: it gets a stand-in that
collects the request http.client writes and, when http.client reads the
response, hands the request to the service's urlfetch, which signs the
User-Agent and returns the raw response for http.client to parse unchanged.
"""

from __future__ import annotations

import errno
import io
import os
from typing import Any

from .control import CONTROL

SWITCH = "GAE_USE_SOCKETS_HTTPLIB"


def uses_sockets(environ: Any = None) -> bool:
    return SWITCH in (os.environ if environ is None else environ)


class _Response(io.RawIOBase):
    def __init__(self, conn: UrlfetchConnection) -> None:
        self._conn = conn
        self._data: memoryview | None = None
        self._pos = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        if self._data is None:
            self._data = memoryview(self._conn.fetch())
        n = min(len(b), len(self._data) - self._pos)
        b[:n] = self._data[self._pos:self._pos + n]
        self._pos += n
        return n


class UrlfetchConnection:
    """What http.client holds as `sock` when urlfetch carries its requests."""

    def __init__(self, scheme: str, host: str, port: int, timeout: float | None) -> None:
        self.scheme, self.host, self.port, self.timeout = scheme, host, port, timeout
        self._request = bytearray()

    def sendall(self, data: Any) -> None:
        self._request += bytes(memoryview(data))

    def send(self, data: Any) -> int:
        self.sendall(data)
        return len(memoryview(data))

    def fetch(self) -> bytes:
        raw, self._request = bytes(self._request), bytearray()
        _reply, body = CONTROL.call({"op": "urlfetch", "scheme": self.scheme, "host": self.host,
                                    "port": self.port, "timeout": self.timeout}, raw)
        return body

    def makefile(self, mode: str = "rb", *args: Any, **kwargs: Any) -> Any:
        return io.BufferedReader(_Response(self))

    def settimeout(self, timeout: float | None) -> None:
        self.timeout = timeout

    def setsockopt(self, *args: Any) -> None:
        pass

    def close(self) -> None:
        self._request = bytearray()


def _refuse_source_address(conn: Any) -> None:
    """urlfetch opens no socket of the app's, so it cannot honour a source_address; a
    specific address or port would be a bind the policy refuses (BND-1), and dropping
    it silently would hide that. The wildcard with port 0 binds nothing (BND-2)."""
    source = getattr(conn, "source_address", None)
    if source and (source[0] not in ("", "0.0.0.0", "::") or source[1]):
        raise OSError(errno.EACCES, "binding to a specific address or port is not supported")


def install_into(hc: Any) -> Any:
    """Route `hc` (the http.client module) through urlfetch unless the switch is set.
    The switch is read at every connect, so setting it later in the process counts."""
    if getattr(hc.HTTPConnection, "_sandbox_originals", None):
        return hc
    plain_connect = hc.HTTPConnection.connect
    tls_connect = hc.HTTPSConnection.connect

    def _timeout(conn: Any) -> float | None:
        t = conn.timeout
        return t if isinstance(t, (int, float)) else None

    def connect(self: Any) -> None:
        if uses_sockets():
            return plain_connect(self)
        _refuse_source_address(self)
        self.sock = UrlfetchConnection("http", self.host, self.port, _timeout(self))
        return None

    def connect_tls(self: Any) -> None:
        if uses_sockets():
            return tls_connect(self)
        _refuse_source_address(self)
        self.sock = UrlfetchConnection("https", self.host, self.port, _timeout(self))
        return None

    hc.HTTPConnection._sandbox_originals = (plain_connect, tls_connect)
    hc.HTTPConnection.connect = connect
    hc.HTTPSConnection.connect = connect_tls
    return hc


def uninstall_from(hc: Any) -> None:
    originals = hc.HTTPConnection.__dict__.get("_sandbox_originals")
    if originals:
        hc.HTTPConnection.connect, hc.HTTPSConnection.connect = originals
        del hc.HTTPConnection._sandbox_originals


def install() -> None:
    import http.client

    install_into(http.client)
