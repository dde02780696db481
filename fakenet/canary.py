"""Canaries: wildcard listeners that record whatever reaches an address nobody serves.

A "blocked" verdict is honest only if something stood at the blocked address
and saw nothing arrive. For every `[canary]` port the world binds 0.0.0.0 and
:: (after the specific services, all with SO_REUSEADDR + SO_REUSEPORT, so a
specific socket keeps its own address and the wildcard catches the rest,
including whole `ip route add local` ranges).

TCP: `connect` with the dialled address (getsockname of the accepted socket),
`first-bytes` with `detail.head` when bytes arrive, and `close` with the
byte count, digest and head. Port 25 greets like an MTA so that an SMTP
client sends its first command and that shows in the head.

UDP: recvmsg with IP_PKTINFO / IPV6_RECVPKTINFO gives each datagram's header
destination, so broadcast (255.255.255.255) and multicast groups are
journalled as dialled, not as 0.0.0.0.

Multicast delivery (checked on Linux 6.x in a fresh user+net namespace that
has only lo):
- IPv4: `ip route add 224.0.0.0/4 dev lo` and IP_ADD_MEMBERSHIP with
  interface 127.0.0.1 on the receiving socket.
- IPv6: a plain or `multicast` route for ff00::/8 via lo is NOT enough: the
  send succeeds but the kernel drops the packet (Ip6OutNoRoutes grows in
  /proc/net/snmp6, neighbour lookup on lo fails). What works is a *local*
  route, `ip -6 route add local ff00::/8 dev lo`, together with
  IPV6_JOIN_GROUP on lo's ifindex (without the join nothing is delivered).
  fakenet/namespace.py installs exactly that; tests/fakenet checks delivery.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import socket
import struct

from fakenet.journal import DATAGRAM, Journal
from fakenet.sansio import Action, Note, Send
from fakenet.tcpserver import TCPListener, bind_socket, escape_head, listen_tcp, track, untrack
from fakenet.world import World

IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)  # Linux value; Python 3.11 lacks the name
WILDCARDS = ("0.0.0.0", "::")
MTA_GREETING = b"220 canary.fakenet.invalid ESMTP ready\r\n"
ENDPOINT = "canary"
ROLE = "canary"


class CanaryTCP:
    """Sans-IO canary: greets on port 25, journals the first bytes, never answers otherwise."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._seen = False

    def connection_made(self) -> list[Action]:
        return [Send(MTA_GREETING)] if self.port == 25 else []

    def data_received(self, data: bytes) -> list[Action]:
        if self._seen:
            return []
        self._seen = True
        return [Note("first-bytes", {"head": escape_head(data)}, data)]

    def eof_received(self) -> list[Action]:
        return []


class CanaryUDP:
    """A wildcard UDP socket that journals every datagram with its header destination."""

    def __init__(self, journal: Journal, sock: socket.socket, port: int) -> None:
        self.journal, self.sock, self.port = journal, sock, port
        self.v6 = sock.family == socket.AF_INET6
        self._fd = sock.fileno()

    def start(self) -> CanaryUDP:
        asyncio.get_running_loop().add_reader(self._fd, self._readable)
        track(self.sock)
        return self

    def _destination(self, ancillary: list[tuple[int, int, bytes]]) -> str:
        for level, kind, data in ancillary:
            if not self.v6 and level == socket.IPPROTO_IP and kind == IP_PKTINFO \
                    and len(data) >= 12:
                return socket.inet_ntop(socket.AF_INET, data[8:12])
            if self.v6 and level == socket.IPPROTO_IPV6 and kind == socket.IPV6_PKTINFO \
                    and len(data) >= 16:
                return socket.inet_ntop(socket.AF_INET6, data[:16])
        return self.sock.getsockname()[0]

    def _readable(self) -> None:
        for _ in range(256):  # bounded, so one flood cannot starve the loop
            try:
                data, ancillary, _flags, peer = self.sock.recvmsg(65535, 256)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                continue  # e.g. a queued ICMP error; the next datagram may be fine
            self.journal.record(
                endpoint=ENDPOINT, role=ROLE, proto="udp", kind=DATAGRAM,
                dst=(self._destination(ancillary), self.port), peer=(peer[0], peer[1]),
                data=data, detail={"head": escape_head(data)} if data else {},
            )

    async def close(self) -> None:
        untrack(self.sock)
        with contextlib.suppress(Exception):
            asyncio.get_running_loop().remove_reader(self._fd)
        self.sock.close()


def _udp_socket(address: str, port: int, groups: tuple[str, ...]) -> socket.socket:
    sock = bind_socket(address, port, socket.SOCK_DGRAM)
    if sock.family == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVPKTINFO, 1)
        lo = socket.if_nametoindex("lo")
        for group in (g for g in groups if ":" in g):
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP,
                            socket.inet_pton(socket.AF_INET6, group) + struct.pack("@I", lo))
    else:
        sock.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
        for group in (g for g in groups if ":" not in g):
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                            socket.inet_aton(group) + socket.inet_aton("127.0.0.1"))
    return sock


async def start_canaries(world: World, journal: Journal) -> list[TCPListener | CanaryUDP]:
    """Bind every canary; call after the specific services are listening."""
    started: list[TCPListener | CanaryUDP] = []
    for port in world.canary.tcp:
        for address in WILDCARDS:
            sock = bind_socket(address, port, socket.SOCK_STREAM)
            started.append(await listen_tcp(journal, sock, functools.partial(CanaryTCP, port),
                                            endpoint=ENDPOINT, role=ROLE))
    for port in world.canary.udp:
        for address in WILDCARDS:
            sock = _udp_socket(address, port, world.canary.multicast_groups)
            started.append(CanaryUDP(journal, sock, port).start())
    return started
