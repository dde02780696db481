"""Starters for the plain endpoints: echo, sink, blackhole and reset (TCP and UDP).

Each is a tiny sans-IO protocol or datagram handler; fakenet/tcpserver.py
does the I/O and journals connect/close/datagram for all of them.
"""

from __future__ import annotations

import hashlib

from fakenet.sansio import Action, Close, Note, Send
from fakenet.service import Closable, ServiceContext, ServiceStarter
from fakenet.tcpserver import DatagramHandler, ProtocolFactory, serve_tcp, serve_udp
from fakenet.world import Binding


class Echo:
    """Every byte straight back; closes after the client's end of input."""

    def connection_made(self) -> list[Action]:
        return []

    def data_received(self, data: bytes) -> list[Action]:
        return [Send(data)]

    def eof_received(self) -> list[Action]:
        return [Close()]


class Sink:
    """Reads to end of input, then answers b"<length> <sha256 hex>\\n" (checks big transfers)."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self._length = 0

    def connection_made(self) -> list[Action]:
        return []

    def data_received(self, data: bytes) -> list[Action]:
        self._hash.update(data)
        self._length += len(data)
        return []

    def eof_received(self) -> list[Action]:
        digest = self._hash.hexdigest()
        return [
            Note("sink-digest", {"nbytes": self._length, "sha256": digest}),
            Send(b"%d %s\n" % (self._length, digest.encode())),
            Close(),
        ]


class Blackhole:
    """Accepts, reads and discards, never answers."""

    def connection_made(self) -> list[Action]:
        return []

    def data_received(self, data: bytes) -> list[Action]:
        return []

    def eof_received(self) -> list[Action]:
        return []


class Reset:
    """Closes at once; served with reset=True so the close is an RST."""

    def connection_made(self) -> list[Action]:
        return [Close()]

    def data_received(self, data: bytes) -> list[Action]:
        return [Close()]

    def eof_received(self) -> list[Action]:
        return [Close()]


def udp_echo(data: bytes) -> list[Action]:
    return [Send(data)]


def udp_sink(data: bytes) -> list[Action]:
    return [Send(b"%d %s\n" % (len(data), hashlib.sha256(data).hexdigest().encode()))]


def udp_blackhole(data: bytes) -> list[Action]:
    return []


def _starter(tcp: ProtocolFactory | None, udp: DatagramHandler | None,
             reset: bool = False) -> ServiceStarter:
    async def start(ctx: ServiceContext, binding: Binding) -> Closable:
        if binding.listen.proto == "tcp" and tcp is not None:
            return await serve_tcp(ctx, binding, tcp, reset=reset)
        if binding.listen.proto == "udp" and udp is not None:
            return await serve_udp(ctx, binding, udp)
        raise ValueError(f"service {binding.kind.name} has no {binding.listen.proto} endpoint")

    return start


STARTERS = {
    "echo": _starter(Echo, udp_echo),
    "sink": _starter(Sink, udp_sink),
    "blackhole": _starter(Blackhole, udp_blackhole),
    "reset": _starter(Reset, None, reset=True),
    # Echo over implicit TLS, for worlds that want a TLS endpoint without a
    # full service (the core tests' world uses both; the kinds' [service.*]
    # entries say the port and, for the wrong-host one, the certificate names).
    "tls-echo": _starter(Echo, None),
    "tls-echo-wronghost": _starter(Echo, None),
}
