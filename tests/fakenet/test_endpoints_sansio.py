"""The endpoint and canary protocols as plain objects: bytes in, actions out."""

from __future__ import annotations

import hashlib

from fakenet.canary import MTA_GREETING, CanaryTCP
from fakenet.sansio import Close, Note, Send
from fakenet.services.endpoints import Blackhole, Echo, Reset, Sink, udp_echo, udp_sink
from fakenet.tcpserver import escape_head


def test_echo() -> None:
    echo = Echo()
    assert echo.connection_made() == []
    assert echo.data_received(b"abc") == [Send(b"abc")]
    assert echo.eof_received() == [Close()]


def test_sink_answers_length_and_digest_at_eof() -> None:
    sink = Sink()
    assert sink.data_received(b"a" * 10) == []
    assert sink.data_received(b"b" * 5) == []
    digest = hashlib.sha256(b"a" * 10 + b"b" * 5).hexdigest()
    actions = sink.eof_received()
    assert actions[1:] == [Send(b"15 " + digest.encode() + b"\n"), Close()]
    assert isinstance(actions[0], Note) and actions[0].detail == {"nbytes": 15, "sha256": digest}


def test_blackhole_and_reset() -> None:
    assert Blackhole().data_received(b"x") == [] and Blackhole().eof_received() == []
    assert Reset().connection_made() == [Close()]


def test_udp_handlers() -> None:
    assert udp_echo(b"x") == [Send(b"x")]
    assert udp_sink(b"x") == [Send(b"1 " + hashlib.sha256(b"x").hexdigest().encode() + b"\n")]


def test_canary_greets_only_on_port_25_and_notes_first_bytes_once() -> None:
    assert CanaryTCP(25).connection_made() == [Send(MTA_GREETING)]
    assert MTA_GREETING.startswith(b"220 ")
    canary = CanaryTCP(22)
    assert canary.connection_made() == []
    (note,) = canary.data_received(b"SSH-2.0\r\n")
    assert isinstance(note, Note) and note.detail == {"head": "SSH-2.0\\r\\n"}
    assert canary.data_received(b"more") == []


def test_escape_head_is_printable_and_bounded() -> None:
    head = escape_head(bytes(range(256)))
    assert head.isascii() and head.isprintable()
    assert escape_head(b"\x00A") == "\\x00A"
