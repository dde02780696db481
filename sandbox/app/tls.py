"""`ssl` over sandbox sockets (SSL-1/2).

A sandbox TCP socket's descriptor is its channel, which carries the raw TCP
byte stream, so OpenSSL can run on it unchanged: verification, SNI and
session handling stay the standard module's. This subclass only keeps the
sandbox's descriptor so that names, options, shutdown and close still go to
the service rather than to the channel.
"""

from __future__ import annotations

import errno
import ssl
from typing import Any

from .. import options
from .control import CONTROL


class SandboxSSLSocket(ssl.SSLSocket):
    @classmethod
    def _create(cls, sock: Any, *args: Any, **kwargs: Any) -> Any:
        export = getattr(sock, "_sb_export", None)
        state = export() if export is not None else None
        family, peer = sock.family, getattr(sock, "_sb_peer", None)
        self = super()._create(sock, *args, **kwargs)  # type: ignore[misc]
        if state is not None:
            self._sb_desc, self._sb_retained = state
            self._sb_family, self._sb_peer = family, peer
        return self

    def _sb(self) -> str | None:
        return self.__dict__.get("_sb_desc")

    def _sb_name(self, op: str) -> Any:
        reply, _ = CONTROL.call({"op": op, "desc": self._sb()})
        return tuple(reply["value"])

    def getpeername(self) -> Any:
        return super().getpeername() if self._sb() is None else self._sb_name("peername")

    def getsockname(self) -> Any:
        return super().getsockname() if self._sb() is None else self._sb_name("sockname")

    def setsockopt(self, level: int, optname: int, value: Any, optlen: Any = None) -> None:
        if self._sb() is None:
            return super().setsockopt(level, optname, value, *(() if optlen is None else (optlen,)))
        if options.setsockopt_errno(level, optname):
            raise OSError(errno.EACCES, "Permission denied: unsupported socket option")

    def getsockopt(self, level: int, optname: int, buflen: int = 0) -> Any:
        if self._sb() is None:
            return super().getsockopt(level, optname, buflen)
        if (level, optname) in options.TRUTHFUL_READ_ONLY:
            return super().getsockopt(level, optname, buflen)
        value = options.mock_value(level, optname, buflen)
        if value is None:
            raise OSError(errno.EACCES, "Permission denied: unsupported socket option")
        return value

    def shutdown(self, how: int) -> None:
        desc = self._sb()
        if desc is not None and not getattr(self, "_closed", False):
            CONTROL.call({"op": "shutdown", "desc": desc, "how": how})
        super().shutdown(how)
        if desc is not None and how != 0:
            CONTROL.call({"op": "flush", "desc": desc, "what": "wr"})

    def _real_close(self) -> None:
        from .socket import _close_descriptor

        desc = self.__dict__.pop("_sb_desc", None)
        self._sslobj = None
        _close_descriptor(self, desc, False)


def install() -> None:
    """Make every SSLContext wrap sockets with the sandbox-aware class."""
    ssl.SSLContext.sslsocket_class = SandboxSSLSocket
