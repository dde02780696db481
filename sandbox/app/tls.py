"""`ssl` over sandbox sockets (SSL-1/2).

A sandbox TCP socket's descriptor is its channel, which carries the raw TCP
byte stream, so OpenSSL can run on it unchanged: verification, SNI and
session handling stay the standard module's. This subclass only keeps the
sandbox's descriptor so that names, options, shutdown and close still go to
the service rather than to the channel.
"""

from __future__ import annotations

import errno
import os
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

    # ------------------------------------------------------------ connect after wrapping
    # ctx.wrap_socket(socket()).connect(addr): the stdlib's connect would hand the
    # address to the C connect on the channel's descriptor, resolving the name outside
    # the service and dialling nothing. A sandbox socket connects instead (judged by the
    # service like any), its channel takes this descriptor's place, then TLS starts.
    def connect(self, address: Any) -> None:
        self._sb_connect(address, connect_ex=False)

    def connect_ex(self, address: Any) -> int:
        return self._sb_connect(address, connect_ex=True)

    def _sb_connect(self, address: Any, connect_ex: bool) -> Any:
        if "_sb_desc" not in self.__dict__:   # not a sandbox socket underneath
            return super().connect_ex(address) if connect_ex else super().connect(address)
        me: Any = self   # the ssl module's private state, which its own _real_connect sets
        if me.server_side:
            raise ValueError("can't connect in server-side mode")
        if me._connected or self._sb() is not None:
            raise ValueError("attempt to connect already-connected SSLSocket!")
        from .socket import socket as sandbox_socket

        plain: Any = sandbox_socket(self.family, self.type, self.proto)
        timeout = self.gettimeout()
        plain.settimeout(timeout)
        try:
            if connect_ex:
                code = plain.connect_ex(address)
                if code:
                    return code
            else:
                plain.connect(address)
            os.dup2(plain.fileno(), self.fileno())
            me._sb_desc, me._sb_retained = plain._sb_export()
            me._sb_family, me._sb_peer = plain.family, plain._sb_peer
            os.close(plain.detach())   # this descriptor now holds the channel
        finally:
            plain.close()
        self.settimeout(timeout)
        me._sslobj = me.context._wrap_socket(self, False, me.server_hostname, owner=self,
                                             session=me._session)
        me._connected = True
        if me.do_handshake_on_connect:
            self.do_handshake()
        return 0

    def _sb_name(self, op: str) -> Any:
        reply, _ = CONTROL.call({"op": op, "desc": self._sb()})
        return tuple(reply["value"])

    def getpeername(self) -> Any:
        return super().getpeername() if self._sb() is None else self._sb_name("peername")

    def getsockname(self) -> Any:
        return super().getsockname() if self._sb() is None else self._sb_name("sockname")

    def setsockopt(self, level: int, optname: int, value: Any, optlen: Any = None) -> None:
        if "_sb_desc" not in self.__dict__:   # options are judged before a connect too
            return super().setsockopt(level, optname, value, *(() if optlen is None else (optlen,)))
        if options.setsockopt_errno(level, optname):
            raise OSError(errno.EACCES, "Permission denied: unsupported socket option")

    def getsockopt(self, level: int, optname: int, buflen: int = 0) -> Any:
        if "_sb_desc" not in self.__dict__:
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
