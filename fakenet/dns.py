"""The world's DNS: one dnslib resolver answering from world.toml, plus wire handlers.

`WorldResolver.resolve` is the only place that knows the world's names:
A/AAAA from host names, CNAMEs, the rebinding names (DST-8: the n-th query
of a record type gets the n-th entry of that type's sequence, the last entry
repeating; `reset()` at every journal mark starts every sequence over) and
the mixed name (DST-9). TTL 0 everywhere, so no cache between the
candidate and this server can hide a rebinding. Unknown names get NXDOMAIN.

`answer(resolver, packet)` turns query bytes into reply bytes and never
raises: a packet that does not parse gets FORMERR if it has a header, and
no answer otherwise. `DNSOverTCP` is the sans-IO stream protocol (two-byte
length prefix, any number of queries per connection); fakenet/services/dns.py
binds both to sockets through fakenet/tcpserver.py.
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Callable, Iterator

from dnslib import AAAA, CNAME, QTYPE, RCODE, RR, A, DNSHeader, DNSRecord
from dnslib.server import BaseResolver

from fakenet.sansio import Action, Close, Note, Send
from fakenet.world import World, normalise_name

TTL = 0
MAX_CNAME_CHAIN = 8


class WorldResolver(BaseResolver):
    """Answers every question from the World; the one stateful part is rebinding."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._names = world.all_names()
        self._rebinding = {r.name: r for r in world.rebindings}
        self._mixed = {m.name: m for m in world.mixed}
        self._counters: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def reset(self) -> None:
        """Start every rebinding sequence over (called at each journal mark)."""
        with self._lock:
            self._counters.clear()

    def _known(self, name: str) -> bool:
        return (name in self._names or name in self._rebinding or name in self._mixed
                or name in self.world.cnames)

    def _addresses(self, name: str, family: str) -> Iterator[str]:
        if name in self._rebinding:
            answers = self._rebinding[name].sequence(family)
            if answers:
                with self._lock:
                    count = self._counters.get((name, family), 0)
                    self._counters[(name, family)] = count + 1
                yield answers[min(count, len(answers) - 1)]
            return
        if name in self._mixed:
            yield from getattr(self._mixed[name], family)
            return
        host = self._names.get(name)
        if host is not None:
            yield from getattr(host, family)

    def resolve(self, request: DNSRecord, handler: object) -> DNSRecord:
        reply = request.reply(ra=1, aa=1)
        question = request.q
        name = normalise_name(str(question.qname))
        qtype = question.qtype
        owner = question.qname
        for _ in range(MAX_CNAME_CHAIN):
            target = self.world.cnames.get(name)
            if target is None:
                break
            reply.add_answer(RR(owner, QTYPE.CNAME, rdata=CNAME(target + "."), ttl=TTL))
            if qtype == QTYPE.CNAME:
                return reply
            name, owner = target, target + "."
        if not self._known(name):
            reply.header.rcode = RCODE.NXDOMAIN
            return reply
        if qtype in (QTYPE.A, QTYPE.ANY):
            for address in self._addresses(name, "ipv4"):
                reply.add_answer(RR(owner, QTYPE.A, rdata=A(address), ttl=TTL))
        if qtype in (QTYPE.AAAA, QTYPE.ANY):
            for address in self._addresses(name, "ipv6"):
                reply.add_answer(RR(owner, QTYPE.AAAA, rdata=AAAA(address), ttl=TTL))
        return reply


def _formerr(packet: bytes) -> bytes | None:
    if len(packet) < 12:
        return None
    (ident,) = struct.unpack("!H", packet[:2])
    return bytes(DNSRecord(DNSHeader(id=ident, qr=1, rcode=RCODE.FORMERR)).pack())


def answer(resolver: WorldResolver, packet: bytes) -> tuple[bytes | None, dict[str, object]]:
    """Reply bytes for one query (None: drop it) and what to journal about it."""
    try:
        request = DNSRecord.parse(packet)
        if request.header.qr or len(request.questions) != 1:
            raise ValueError("not a single-question query")
        reply = resolver.resolve(request, None)
        detail: dict[str, object] = {
            "qname": str(request.q.qname), "qtype": QTYPE.get(request.q.qtype),
            "rcode": RCODE.get(reply.header.rcode),
            "answers": [str(rr.rdata) for rr in reply.rr],
        }
        return bytes(reply.pack()), detail
    except Exception as exc:  # malformed input of any kind: FORMERR, never a crash
        return _formerr(packet), {"rcode": "FORMERR", "error": f"{type(exc).__name__}: {exc}"}


def datagram_handler(resolver: WorldResolver) -> Callable[[bytes], list[Action]]:
    """A fakenet.tcpserver.DatagramHandler answering DNS over UDP."""

    def handle(packet: bytes) -> list[Action]:
        reply, detail = answer(resolver, packet)
        actions: list[Action] = [Note("dns-query", detail, packet)]
        if reply is not None:
            actions.append(Send(reply))
        return actions

    return handle


class DNSOverTCP:
    """Sans-IO DNS over TCP (RFC 7766): length-prefixed messages, many per connection."""

    def __init__(self, resolver: WorldResolver) -> None:
        self.resolver = resolver
        self._buffer = b""

    def connection_made(self) -> list[Action]:
        return []

    def data_received(self, data: bytes) -> list[Action]:
        self._buffer += data
        actions: list[Action] = []
        while len(self._buffer) >= 2:
            (length,) = struct.unpack("!H", self._buffer[:2])
            if len(self._buffer) < 2 + length:
                break
            packet, self._buffer = self._buffer[2 : 2 + length], self._buffer[2 + length :]
            reply, detail = answer(self.resolver, packet)
            actions.append(Note("dns-query", detail, packet))
            if reply is None:
                actions.append(Close())
                return actions
            actions.append(Send(struct.pack("!H", len(reply)) + reply))
        # Only an incomplete message stays buffered: at most 2 + 65535 bytes.
        return actions

    def eof_received(self) -> list[Action]:
        return [Close()]
