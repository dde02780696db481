"""NNTP protocol object, no socket."""

from __future__ import annotations

from fakenet.protocols.nntp import NntpServer
from tests.fakenet_services.conftest import binding_for, drive, feed

MSGID = b"<conformance-1@news.example-public.net>"


def server(world_data):
    protocol = NntpServer(world_data, binding_for(world_data, "public-mail", "nntp"))
    out = drive(protocol)
    assert out.sent.startswith(b"201 ")
    return protocol, out


def test_capabilities_mode_reader_group_article(world_data) -> None:
    protocol, out = server(world_data)
    caps = feed(protocol, out, b"CAPABILITIES\r\n")
    assert caps.startswith(b"101 ") and b"\r\nVERSION 2\r\nREADER\r\n" in caps
    assert caps.endswith(b"\r\n.\r\n")
    assert feed(protocol, out, b"MODE READER\r\n").startswith(b"201 ")
    assert feed(protocol, out, b"GROUP comp.lang.python\r\n") == b"211 1 1 1 comp.lang.python\r\n"
    reply = feed(protocol, out, b"ARTICLE 1\r\n")
    assert reply.startswith(b"220 1 " + MSGID + b"\r\nFrom: erin@example.net\r\n")
    assert reply.endswith(b"An article for nntplib.\r\n.\r\n")
    assert out.notes[-1].kind == "nntp-article"
    reply = feed(protocol, out, b"ARTICLE " + MSGID + b"\r\n")
    assert reply.startswith(b"220 0 " + MSGID)
    assert feed(protocol, out, b"STAT\r\n") == b"223 1 " + MSGID + b"\r\n"
    assert feed(protocol, out, b"HEAD 1\r\n").endswith(b"Message-ID: " + MSGID + b"\r\n.\r\n")
    assert feed(protocol, out, b"BODY 1\r\n") == (
        b"222 1 " + MSGID + b"\r\nAn article for nntplib.\r\n.\r\n")
    assert feed(protocol, out, b"NEXT\r\n").startswith(b"421")
    assert feed(protocol, out, b"DATE\r\n")[:4] == b"111 "
    assert b"comp.lang.python 1 1 n\r\n" in feed(protocol, out, b"LIST\r\n")
    assert feed(protocol, out, b"QUIT\r\n") == b"205 bye\r\n" and out.closed


def test_errors(world_data) -> None:
    protocol, out = server(world_data)
    for bad, code in [
        (b"ARTICLE 1\r\n", b"412"), (b"NEXT\r\n", b"412"), (b"ARTICLE <nope@x>\r\n", b"430"),
        (b"GROUP alt.nothing\r\n", b"411"), (b"GROUP\r\n", b"501"), (b"FROB\r\n", b"500"),
        (b"\r\n", b"500"), (b"MODE STREAM\r\n", b"501"), (b"POST\r\n", b"440"),
        (b"LIST OVERVIEW.FMT\r\n", b"501"), (b"\xff\x00\r\n", b"500"),
    ]:
        assert feed(protocol, out, bad)[:3] == code, bad
    feed(protocol, out, b"GROUP comp.lang.python\r\n")
    for bad, code in [(b"ARTICLE 7\r\n", b"423"), (b"ARTICLE x\r\n", b"501"),
                      (b"ARTICLE 1 2\r\n", b"501")]:
        assert feed(protocol, out, bad)[:3] == code, bad


def test_over_long_line_and_eof_mid_command(world_data) -> None:
    protocol, out = server(world_data)
    assert feed(protocol, out, b"G" * 10_000) == b"501 line too long\r\n"
    assert feed(protocol, out, b"\r\nDATE\r\n")[:3] == b"111"
    out.add(protocol.data_received(b"GROUP comp"))
    out.add(protocol.eof_received())
    assert out.sent.endswith(b"501 connection closed in the middle of a command\r\n")
    assert out.closed
