"""Starter for the FTP service (kind `ftp`): the control protocol plus passive data I/O.

fakenet/protocols/ftp.py asks for data connections with OpenPassive and
Transfer actions, which plain tcpserver does not know. `FtpSession` wraps the
protocol and does the socket half: it opens the passive listener on the
address the client dialled (synchronously, so the 227/229 reply goes out in
order) and turns each Transfer into a tcpserver `Await` action, which
tcpserver carries out in line: the 150 is flushed, the data connection is
accepted and served, and only then is the protocol told the outcome and its
226 sent. Everything else (connect/close journalling, Notes) is tcpserver's.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import socket
from typing import Any

from fakenet.protocols.ftp import FtpControl, OpenPassive, Transfer
from fakenet.sansio import Close, Note
from fakenet.service import Closable, ServiceContext, ServiceStarter
from fakenet.tcpserver import Await, bind_socket, serve_tcp, track, untrack
from fakenet.world import Binding

PASSIVE_TIMEOUT = 30.0   # an unused passive listener is closed after this long
ACCEPT_TIMEOUT = 10.0    # how long a transfer waits for the client's data connection


class FtpSession:
    """One control connection: FtpControl plus the passive listener it asked for."""

    def __init__(self, control: FtpControl, address: str) -> None:
        self.control = control
        self.address = address
        self.passive: socket.socket | None = None
        self._expiry: asyncio.TimerHandle | None = None

    def connection_made(self) -> list[Any]:
        return self.expand(self.control.connection_made())

    def data_received(self, data: bytes) -> list[Any]:
        return self.expand(self.control.data_received(data))

    def eof_received(self) -> list[Any]:
        actions = self.expand(self.control.eof_received())
        self.close_passive()
        return actions

    def expand(self, actions: list[Any]) -> list[Any]:
        out: list[Any] = []
        for action in actions:
            if isinstance(action, OpenPassive):
                out += self.expand(self.open_passive())
            elif isinstance(action, Transfer):
                out.append(Await(functools.partial(self.transfer, action.data, action.command)))
            else:
                if isinstance(action, Close):
                    self.close_passive()
                out.append(action)
        return out

    def open_passive(self) -> list[Any]:
        self.close_passive()
        try:
            sock = bind_socket(self.address, 0, socket.SOCK_STREAM)
        except OSError:
            return self.control.passive_failed()
        self.passive = sock
        track(sock)
        self._expiry = asyncio.get_running_loop().call_later(PASSIVE_TIMEOUT, self.close_passive)
        return self.control.passive_opened(self.address, sock.getsockname()[1])

    def close_passive(self) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None
        if self.passive is not None:
            untrack(self.passive)
            self.passive.close()
            self.passive = None

    async def transfer(self, data: bytes, command: str) -> list[Any]:
        """Serve one data connection; the protocol's reply (226 or 425) and a note follow."""
        sock = self.passive
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None
        self.passive = None
        loop = asyncio.get_running_loop()
        detail: dict[str, Any] = {"command": command, "ok": False}
        try:
            if sock is None:
                raise ConnectionError("the passive listener expired")
            conn, peer = await asyncio.wait_for(loop.sock_accept(sock), ACCEPT_TIMEOUT)
            detail["peer"] = [str(peer[0]), int(peer[1])]
            detail["port"] = int(sock.getsockname()[1])
            with conn:
                await loop.sock_sendall(conn, data)
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_WR)
            detail["ok"] = True
        except (TimeoutError, OSError) as exc:
            detail["error"] = f"{type(exc).__name__}: {exc}"
        finally:
            if sock is not None:
                untrack(sock)
                sock.close()
        note = Note("ftp-data", detail, data if detail["ok"] else None)
        return [note, *self.expand(self.control.transfer_done(bool(detail["ok"])))]


async def start_ftp(ctx: ServiceContext, binding: Binding) -> Closable:
    def session() -> FtpSession:
        return FtpSession(FtpControl(ctx.world, binding), binding.address)

    return await serve_tcp(ctx, binding, session)


STARTERS: dict[str, ServiceStarter] = {"ftp": start_ftp}
