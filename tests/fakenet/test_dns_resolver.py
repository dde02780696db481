"""The world resolver and the DNS wire handlers, with no sockets."""

from __future__ import annotations

import struct

import pytest
from dnslib import QTYPE, RCODE, DNSRecord
from hypothesis import given, settings
from hypothesis import strategies as st

from fakenet.dns import DNSOverTCP, WorldResolver, answer, datagram_handler
from fakenet.sansio import Close, Note, Send
from fakenet.world import load_world

WORLD = load_world()


@pytest.fixture
def resolver() -> WorldResolver:
    return WorldResolver(WORLD)


def ask(resolver: WorldResolver, name: str, qtype: str = "A") -> DNSRecord:
    reply, _ = answer(resolver, DNSRecord.question(name, qtype).pack())
    assert reply is not None
    return DNSRecord.parse(reply)


def addresses(record: DNSRecord, qtype: str = "A") -> list[str]:
    return [str(rr.rdata) for rr in record.rr if rr.rtype == getattr(QTYPE, qtype)]


def test_a_and_aaaa_from_host_names(resolver: WorldResolver) -> None:
    assert addresses(ask(resolver, "smtp.gmail.com")) == ["142.250.102.108"]
    assert addresses(ask(resolver, "smtp.gmail.com", "AAAA"), "AAAA") == ["2a00:1450:400c:c06::6c"]


@pytest.mark.parametrize("name", ["SMTP.Gmail.COM", "smtp.gmail.com.", "Smtp.Gmail.Com."])
def test_names_are_case_insensitive_with_or_without_dot(resolver: WorldResolver, name: str) -> None:
    assert addresses(ask(resolver, name)) == ["142.250.102.108"]


def test_ttl_is_zero_and_answers_are_authoritative(resolver: WorldResolver) -> None:
    record = ask(resolver, "dns.google")
    assert record.header.aa == 1 and all(rr.ttl == 0 for rr in record.rr)


def test_unknown_name_is_nxdomain(resolver: WorldResolver) -> None:
    record = ask(resolver, "no-such-host.example")
    assert record.header.rcode == RCODE.NXDOMAIN and not record.rr


def test_known_name_without_that_family_is_empty_noerror(resolver: WorldResolver) -> None:
    record = ask(resolver, "intranet.corp.example", "AAAA")
    assert record.header.rcode == RCODE.NOERROR and not record.rr


def test_cname_to_a_blocked_host(resolver: WorldResolver) -> None:
    assert addresses(ask(resolver, "Intranet-Alias.Attacker.Example.")) == ["10.0.0.1"]


def test_cname_chain(resolver: WorldResolver) -> None:
    record = ask(resolver, "mail-alias.mailhostingcompany.net")
    assert [str(rr.rdata) for rr in record.rr if rr.rtype == QTYPE.CNAME] == \
        ["smtp.mailhostingcompany.net."]
    assert addresses(record) == ["93.184.215.14"]


ALLOWED_A, ALLOWED_AAAA = "93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"


@pytest.mark.parametrize(("name", "qtype", "blocked"), [
    ("rebind-a1.attacker.example", "A", "10.0.0.1"),
    ("rebind-a2.attacker.example", "A", "10.0.0.1"),
    ("rebind-a3.attacker.example", "A", "10.0.0.1"),
    ("rebind-aaaa1.attacker.example", "AAAA", "fd00::1"),
    ("rebind-aaaa2.attacker.example", "AAAA", "fd00::1"),
    ("rebind-aaaa3.attacker.example", "AAAA", "fd00::1"),
])
def test_rebinding_sequence_puts_the_blocked_answer_on_the_named_query(
        resolver: WorldResolver, name: str, qtype: str, blocked: str) -> None:
    """rebind-a2: allowed, BLOCKED, then allowed for good; one answer per query, TTL 0."""
    position = int(name.split(".")[0][-1])
    allowed = ALLOWED_A if qtype == "A" else ALLOWED_AAAA
    records = [ask(resolver, name, qtype) for _ in range(6)]
    assert all(len(r.rr) == 1 and r.rr[0].ttl == 0 for r in records)
    seen = [addresses(r, qtype)[0] for r in records]
    assert seen == [blocked if n == position else allowed for n in range(1, 7)]


def test_rebinding_counts_each_record_type_on_its_own(resolver: WorldResolver) -> None:
    """AAAA questions to an A-only name neither answer nor move the A sequence."""
    name = "rebind-a2.attacker.example"
    assert addresses(ask(resolver, name)) == [ALLOWED_A]
    for _ in range(3):
        reply = ask(resolver, name, "AAAA")
        assert reply.header.rcode == RCODE.NOERROR and not reply.rr
    assert addresses(ask(resolver, name)) == ["10.0.0.1"]
    assert not ask(resolver, "rebind-aaaa1.attacker.example").rr


def test_reset_starts_every_sequence_over(resolver: WorldResolver) -> None:
    for _ in range(2):
        ask(resolver, "rebind-a3.attacker.example")
        ask(resolver, "rebind-aaaa1.attacker.example", "AAAA")
    resolver.reset()
    assert addresses(ask(resolver, "rebind-a3.attacker.example")) == [ALLOWED_A]
    assert addresses(ask(resolver, "rebind-aaaa1.attacker.example", "AAAA"), "AAAA") == \
        ["fd00::1"]


def test_names_of_every_case_reach_the_rebinding_sequence(resolver: WorldResolver) -> None:
    """The counter is per name, whatever case or trailing dot the query spells it with."""
    assert addresses(ask(resolver, "REBIND-A1.Attacker.Example.")) == ["10.0.0.1"]
    assert addresses(ask(resolver, "rebind-a1.attacker.example")) == [ALLOWED_A]


def test_mixed_name_returns_blocked_and_allowed(resolver: WorldResolver) -> None:
    assert addresses(ask(resolver, "mixed.attacker.example")) == ["10.0.0.2", "93.184.215.14"]
    assert addresses(ask(resolver, "mixed.attacker.example", "AAAA"), "AAAA") == \
        ["fd00::2", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]


def test_garbage_with_header_gets_formerr(resolver: WorldResolver) -> None:
    packet = b"\xab\xcd" + b"\x01\x00\x00\x05" + b"\xff" * 20
    reply, detail = answer(resolver, packet)
    assert reply is not None
    parsed = DNSRecord.parse(reply)
    assert parsed.header.id == 0xABCD and parsed.header.rcode == RCODE.FORMERR
    assert detail["rcode"] == "FORMERR"


def test_short_garbage_is_dropped(resolver: WorldResolver) -> None:
    assert answer(resolver, b"\x00\x01")[0] is None


def test_a_reply_sent_as_query_gets_formerr(resolver: WorldResolver) -> None:
    reply = ask(resolver, "dns.google").pack()
    assert DNSRecord.parse(answer(resolver, reply)[0]).header.rcode == RCODE.FORMERR


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_answer_never_raises(packet: bytes) -> None:
    reply, _ = answer(WorldResolver(WORLD), packet)
    assert reply is None or isinstance(reply, bytes)


def test_udp_handler_journals_and_replies(resolver: WorldResolver) -> None:
    actions = datagram_handler(resolver)(DNSRecord.question("dns.google").pack())
    assert isinstance(actions[0], Note) and actions[0].kind == "dns-query"
    assert actions[0].detail["qname"] == "dns.google."
    assert isinstance(actions[1], Send)


def test_tcp_protocol_handles_split_and_pipelined_queries(resolver: WorldResolver) -> None:
    one = DNSRecord.question("dns.google").pack()
    two = DNSRecord.question("smtp.gmail.com", "AAAA").pack()
    stream = struct.pack("!H", len(one)) + one + struct.pack("!H", len(two)) + two
    proto = DNSOverTCP(resolver)
    actions = proto.data_received(stream[:5]) + proto.data_received(stream[5:])
    sends = [a.data for a in actions if isinstance(a, Send)]
    assert len(sends) == 2
    assert addresses(DNSRecord.parse(sends[1][2:]), "AAAA") == ["2a00:1450:400c:c06::6c"]
    assert proto.eof_received() == [Close()]


def test_tcp_protocol_closes_on_undecodable_garbage(resolver: WorldResolver) -> None:
    actions = DNSOverTCP(resolver).data_received(b"\x00\x03abc")
    assert Close() in actions
