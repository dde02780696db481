"""The asyncio I/O layer that binds sans-IO protocols (fakenet/sansio.py) to sockets.

Public API:

- `serve_tcp(ctx, binding, protocol_factory, *, endpoint=None, tls_names=None, reset=False)`
  listens on the binding's address and port. Each accepted connection gets a
  fresh `protocol_factory()` object; its actions are carried out in order.
  `binding.kind.tls == "implicit"` wraps the connection in TLS before
  `connection_made`; a `StartTLS` action upgrades in place ("starttls"
  kinds). `reset=True` turns `Close` into an RST (SO_LINGER 0).
- `serve_udp(ctx, binding, handler, *, endpoint=None)`: each datagram goes to
  `handler(data) -> list[Action]`; `Send` replies to the sender, `Note` journals.
- `bind_socket(address, port, kind)`: the listening socket every world
  endpoint uses (SO_REUSEADDR + SO_REUSEPORT, IPV6_V6ONLY), so that the
  wildcard canaries can share ports with the specific services.
- `Await(step)`: an I/O-level action for a service's own wrapper around a
  sans-IO protocol (never returned by the protocol itself): once what was
  sent before it is flushed, `await step()` and carry out the actions it
  returns, in line (fakenet/services/ftp.py serves its data connections so).
- `track(sock)` / `untrack(sock)` / `live_fds()`: the sockets the runtime
  polls when it settles. Every socket a service serves outside these helpers
  (fakenet/services/mail.py, the FTP passive listener) is tracked by it.
- `record_sni(context)` and `handshake_detail(ssl_object)`: the detail of a
  `tls-handshake` event, for services that do their own TLS (mail).
- `address_pair(info)`: a sockname/peername as the journal's (host, port).

Journalling: `connect` on accept; `close` with the byte count and SHA-256 of
everything received (after TLS: the plaintext); `tls-handshake` with
`detail.sni`/`ok`; `datagram` per UDP datagram; every `Note` as given.
A connection closes after the protocol's `Close`, after end of input once the
actions for it have run, or when the peer resets it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import socket
import ssl
import struct
import sys
import weakref
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fakenet.drops import large_receive_buffer
from fakenet.journal import CLOSE, CONNECT, DATAGRAM, Journal
from fakenet.sansio import Action, Close, Note, Send, ServerProtocol, StartTLS
from fakenet.service import ServiceContext
from fakenet.tls import certificate_names
from fakenet.world import Binding

ProtocolFactory = Callable[[], ServerProtocol]
DatagramHandler = Callable[[bytes], list[Action]]

HEAD_BYTES = 64
READ_SIZE = 65536
BACKLOG = 256      # listen backlog of every world server: a burst of clients waits, not drops

# Socket objects, not descriptor numbers: a descriptor closed before its owner
# untracks it may already be reused by a newer connection, whose number an
# untrack must not drop. A closed socket's fileno() is -1 and is skipped.
_live: set[Any] = set()
_sni: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def live_fds() -> frozenset[int]:
    """Descriptors of every listening, connected or datagram socket the world is serving."""
    return frozenset(fd for fd in (sock.fileno() for sock in _live) if fd >= 0)


def track(sock: Any) -> None:
    """Count `sock` (a socket, or asyncio's TransportSocket) among those the runtime settles."""
    if sock is not None:
        _live.add(sock)


def untrack(sock: Any) -> None:
    _live.discard(sock)


@dataclass(frozen=True)
class Await:
    """I/O-level action: after flushing, await `step()` and carry out what it returns."""

    step: Callable[[], Awaitable[list[Any]]]


def escape_head(data: bytes) -> str:
    """First bytes as printable text (\\xNN escapes), for detail.head."""
    return data[:HEAD_BYTES].decode("latin-1").encode("unicode_escape").decode("ascii")


def bind_socket(address: str, port: int, kind: int) -> socket.socket:
    """A non-blocking socket bound to (address, port) that shares the port with wildcards."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, kind)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind((address, port))
        if kind == socket.SOCK_STREAM:
            sock.listen(BACKLOG)
        else:
            large_receive_buffer(sock)
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        proto = "tcp" if kind == socket.SOCK_STREAM else "udp"
        raise OSError(exc.errno, f"cannot bind {proto} {address} port {port}: {exc.strerror}")\
            from exc
    return sock


def _remember_sni(sslobj: Any, server_name: str | None, _context: ssl.SSLContext) -> None:
    if server_name:
        with contextlib.suppress(TypeError):
            _sni[sslobj] = server_name


def record_sni(context: ssl.SSLContext) -> ssl.SSLContext:
    """`context`, made to remember the SNI of each handshake for `handshake_detail`."""
    if context.sni_callback is None:
        context.sni_callback = _remember_sni
    return context


def handshake_detail(sslobj: Any) -> dict[str, Any]:
    """`detail` of a completed `tls-handshake` event: ok, the client's SNI, the TLS version."""
    return {
        "ok": True, "sni": _sni.get(sslobj) if sslobj is not None else None,
        "version": sslobj.version() if sslobj is not None else None,
    }


def address_pair(info: Any) -> tuple[str, int]:
    """A sockname or peername as (host, port); ("", 0) when there is none."""
    return (str(info[0]), int(info[1])) if info else ("", 0)


class TCPListener:
    """One listening socket and its connections; `close()` ends them all."""

    def __init__(self, journal: Journal, sock: socket.socket, factory: ProtocolFactory, *,
                 endpoint: str, role: str, tls: ssl.SSLContext | None, implicit: bool,
                 reset: bool) -> None:
        self.journal, self.sock, self.factory = journal, sock, factory
        self.endpoint, self.role, self.reset = endpoint, role, reset
        self.tls = record_sni(tls) if tls is not None else None
        self.implicit = implicit
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> TCPListener:
        # start_server listens again (backlog 100 by default): pass ours along.
        self._server = await asyncio.start_server(self._connection, sock=self.sock,
                                                  limit=READ_SIZE * 4, backlog=BACKLOG)
        track(self.sock)
        return self

    async def close(self) -> None:
        untrack(self.sock)
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def _note(self, kind: str, dst: tuple[str, int], peer: tuple[str, int], *,
              data: bytes | None = None, nbytes: int | None = None, sha256: str = "",
              detail: dict[str, Any] | None = None) -> None:
        self.journal.record(endpoint=self.endpoint, role=self.role, proto="tcp", kind=kind,
                            dst=dst, peer=peer, data=data, nbytes=nbytes, sha256=sha256,
                            detail=detail)

    async def _upgrade(self, writer: asyncio.StreamWriter, dst: tuple[str, int],
                       peer: tuple[str, int]) -> bool:
        if self.tls is None:
            self._note("tls-handshake", dst, peer, detail={"ok": False, "error": "no TLS context"})
            return False
        try:
            await writer.start_tls(self.tls, ssl_handshake_timeout=10.0)
        except (TimeoutError, OSError, ssl.SSLError, ConnectionError) as exc:
            self._note("tls-handshake", dst, peer,
                       detail={"ok": False, "error": f"{type(exc).__name__}: {exc}"})
            return False
        self._note("tls-handshake", dst, peer,
                   detail=handshake_detail(writer.get_extra_info("ssl_object")))
        return True

    async def _connection(self, reader: asyncio.StreamReader,
                          writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        raw = writer.get_extra_info("socket")
        track(raw)
        dst = address_pair(writer.get_extra_info("sockname"))
        peer = address_pair(writer.get_extra_info("peername"))
        hasher, nbytes, head = hashlib.sha256(), 0, b""
        self._note(CONNECT, dst, peer)
        rst = False
        try:
            if self.implicit and not await self._upgrade(writer, dst, peer):
                return
            protocol = self.factory()
            closing = await self._run(protocol.connection_made(), writer, dst, peer)
            while not closing:
                data = await reader.read(READ_SIZE)
                if not data:
                    await self._run(protocol.eof_received(), writer, dst, peer)
                    break
                hasher.update(data)
                nbytes += len(data)
                if len(head) < HEAD_BYTES:
                    head += data[: HEAD_BYTES - len(head)]
                closing = await self._run(protocol.data_received(data), writer, dst, peer)
            rst = self.reset
        except (ConnectionError, OSError, ssl.SSLError, asyncio.IncompleteReadError):
            pass  # the peer went away; the close event below says what arrived
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a protocol bug must not take the world down
            print(f"fakenet: {self.endpoint} protocol error: {exc!r}", file=sys.stderr)
            self._note("protocol-error", dst, peer, detail={"error": repr(exc)})
        finally:
            untrack(raw)
            detail = {"head": escape_head(head)} if self.role == "canary" and head else {}
            self._note(CLOSE, dst, peer, nbytes=nbytes, sha256=hasher.hexdigest(), detail=detail)
            self._finish(writer, raw, rst)
            self._tasks.discard(task)

    def _finish(self, writer: asyncio.StreamWriter, raw: Any, rst: bool) -> None:
        if rst and raw is not None:
            with contextlib.suppress(OSError):
                raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
        else:
            writer.close()

    async def _run(self, actions: Sequence[Action | Await], writer: asyncio.StreamWriter,
                   dst: tuple[str, int], peer: tuple[str, int]) -> bool:
        """Carry out actions in order; True when the connection is to close."""
        for action in actions:
            if isinstance(action, Send):
                writer.write(action.data)
                await writer.drain()
            elif isinstance(action, Note):
                self._note(action.kind, dst, peer, data=action.data, detail=dict(action.detail))
            elif isinstance(action, StartTLS):
                await writer.drain()
                if not await self._upgrade(writer, dst, peer):
                    return True
            elif isinstance(action, Close):
                await writer.drain()
                return True
            elif isinstance(action, Await):
                await writer.drain()
                if await self._run(await action.step(), writer, dst, peer):
                    return True
            else:
                raise TypeError(f"not an action: {action!r}")
        return False


async def listen_tcp(journal: Journal, sock: socket.socket, factory: ProtocolFactory, *,
                     endpoint: str, role: str = "service", tls: ssl.SSLContext | None = None,
                     implicit: bool = False, reset: bool = False) -> TCPListener:
    """Serve an already bound listening socket (canaries use this with wildcard sockets)."""
    return await TCPListener(journal, sock, factory, endpoint=endpoint, role=role, tls=tls,
                             implicit=implicit, reset=reset).start()


async def serve_tcp(ctx: ServiceContext, binding: Binding, protocol_factory: ProtocolFactory, *,
                    endpoint: str | None = None, tls_names: tuple[str, ...] | None = None,
                    reset: bool = False) -> TCPListener:
    """Serve `protocol_factory` on the binding's address/port, TLS as its kind says."""
    tls = None
    if binding.kind.tls:
        tls = ctx.tls.server_context(tls_names or certificate_names(binding))
    sock = bind_socket(binding.address, binding.listen.port, socket.SOCK_STREAM)
    return await listen_tcp(ctx.journal, sock, protocol_factory,
                            endpoint=endpoint or binding.kind.name, tls=tls,
                            implicit=binding.kind.tls == "implicit", reset=reset)


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self, owner: UDPEndpoint) -> None:
        self.owner = owner

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.owner.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.owner.received(data, address_pair(addr))

    def error_received(self, exc: Exception) -> None:
        pass  # ICMP errors for replies to vanished peers: nothing to do


class UDPEndpoint:
    """One bound UDP socket handing datagrams to a handler."""

    def __init__(self, journal: Journal, sock: socket.socket, handler: DatagramHandler, *,
                 endpoint: str, dst: tuple[str, int], role: str = "service") -> None:
        self.journal, self.sock, self.handler = journal, sock, handler
        self.endpoint, self.dst, self.role = endpoint, dst, role
        self.transport: asyncio.DatagramTransport | None = None

    async def start(self) -> UDPEndpoint:
        await asyncio.get_running_loop().create_datagram_endpoint(
            lambda: _Datagrams(self), sock=self.sock)
        track(self.sock)
        return self

    def received(self, data: bytes, peer: tuple[str, int]) -> None:
        self.journal.record(endpoint=self.endpoint, role=self.role, proto="udp", kind=DATAGRAM,
                            dst=self.dst, peer=peer, data=data)
        try:
            actions = self.handler(data)
        except Exception as exc:  # a handler bug must not take the world down
            print(f"fakenet: {self.endpoint} datagram error: {exc!r}", file=sys.stderr)
            return
        for action in actions:
            if isinstance(action, Send) and self.transport is not None:
                self.transport.sendto(action.data, peer)
            elif isinstance(action, Note):
                self.journal.record(endpoint=self.endpoint, role=self.role, proto="udp",
                                    kind=action.kind, dst=self.dst, peer=peer, data=action.data,
                                    detail=dict(action.detail))

    async def close(self) -> None:
        untrack(self.sock)
        if self.transport is not None:
            self.transport.close()


async def serve_udp(ctx: ServiceContext, binding: Binding, handler: DatagramHandler, *,
                    endpoint: str | None = None) -> UDPEndpoint:
    """Serve `handler` on the binding's address and UDP port."""
    sock = bind_socket(binding.address, binding.listen.port, socket.SOCK_DGRAM)
    return await UDPEndpoint(ctx.journal, sock, handler, endpoint=endpoint or binding.kind.name,
                             dst=(binding.address, binding.listen.port)).start()
