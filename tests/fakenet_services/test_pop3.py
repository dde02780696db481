"""POP3 protocol object, no socket."""

from __future__ import annotations

import hashlib

from fakenet.protocols.pop3 import Pop3Server
from tests.fakenet_services.conftest import binding_for, drive, feed

GMAIL = ("gmail-pop", "pop3s")
PASSWORD = b"gmail-app-password"


def logged_in(world_data):
    server = Pop3Server(world_data, binding_for(world_data, *GMAIL))
    out = drive(server, b"USER app@gmail.com\r\nPASS " + PASSWORD + b"\r\n")
    assert out.lines()[:3] == [b"+OK fakenet POP3 server ready", b"+OK send PASS",
                               b"+OK 2 messages"]
    return server, out


def test_login_stat_list_uidl(world_data) -> None:
    server, out = logged_in(world_data)
    sizes = [len(m.wire) for m in world_data.mailbox("app@gmail.com")]
    assert feed(server, out, b"STAT\r\n") == f"+OK 2 {sum(sizes)}\r\n".encode()
    assert feed(server, out, b"LIST\r\n") == (
        f"+OK 2 messages\r\n1 {sizes[0]}\r\n2 {sizes[1]}\r\n.\r\n".encode())
    assert feed(server, out, b"LIST 2\r\n") == f"+OK 2 {sizes[1]}\r\n".encode()
    assert feed(server, out, b"UIDL\r\n") == b"+OK 2 messages\r\n1 gm-0001\r\n2 gm-0002\r\n.\r\n"
    assert feed(server, out, b"uidl 1\r\n") == b"+OK 1 gm-0001\r\n"
    assert out.notes[0].kind == "mail-login" and out.notes[0].detail["ok"] is True


def test_retr_dot_stuffs_and_journals(world_data) -> None:
    server, out = logged_in(world_data)
    message = world_data.mailbox("app@gmail.com")[1]
    reply = feed(server, out, b"RETR 2\r\n")
    assert reply.startswith(f"+OK {len(message.wire)} octets\r\n".encode())
    assert b"\r\n..A line that starts with a dot" in reply
    assert reply.endswith(b"\r\n.\r\n")
    note = out.notes[-1]
    assert note.kind == "mail-retrieve" and note.detail["uid"] == "gm-0002"
    assert hashlib.sha256(note.data).digest() == hashlib.sha256(message.wire).digest()


def test_dele_rset_quit(world_data) -> None:
    server, out = logged_in(world_data)
    assert feed(server, out, b"DELE 1\r\n") == b"+OK message 1 deleted\r\n"
    assert feed(server, out, b"RETR 1\r\n").startswith(b"-ERR no such message")
    assert feed(server, out, b"STAT\r\n").startswith(b"+OK 1 ")
    assert feed(server, out, b"RSET\r\n") == b"+OK\r\n"
    assert feed(server, out, b"STAT\r\n").startswith(b"+OK 2 ")
    assert feed(server, out, b"NOOP\r\n") == b"+OK\r\n"
    assert feed(server, out, b"QUIT\r\n") == b"+OK bye\r\n"
    assert out.closed
    assert feed(server, out, b"STAT\r\n") == b""


def test_capa_before_login(world_data) -> None:
    out = drive(Pop3Server(world_data, binding_for(world_data, *GMAIL)), b"CAPA\r\n")
    assert out.lines()[1] == b"+OK capability list follows"
    assert b"\r\nUSER\r\n" in out.sent and out.sent.endswith(b"\r\n.\r\n")


def test_bad_password_and_wrong_host(world_data) -> None:
    out = drive(Pop3Server(world_data, binding_for(world_data, *GMAIL)),
                b"USER app@gmail.com\r\nPASS wrong\r\nSTAT\r\n")
    assert out.lines()[2].startswith(b"-ERR [AUTH]")
    assert out.lines()[3].startswith(b"-ERR [AUTH] log in first")
    assert out.notes[0].detail == {"protocol": "pop3", "user": "app@gmail.com", "ok": False}
    # the Gmail account is not valid at the public host
    out = drive(Pop3Server(world_data, binding_for(world_data, "public-mail", "pop3s")),
                b"USER app@gmail.com\r\nPASS " + PASSWORD + b"\r\n")
    assert out.lines()[2].startswith(b"-ERR")
    out = drive(Pop3Server(world_data, binding_for(world_data, "public-mail", "pop3s", "ipv6")),
                b"USER alice@mailhostingcompany.net\r\nPASS correct horse battery staple\r\n")
    assert out.lines()[2] == b"+OK 1 messages"


def test_out_of_order_and_unknown(world_data) -> None:
    out = drive(Pop3Server(world_data, binding_for(world_data, *GMAIL)),
                b"PASS x\r\nRETR 1\r\nFOO\r\n\r\nAPOP a b\r\n")
    replies = out.lines()[1:-1]
    assert [r[:4] for r in replies] == [b"-ERR"] * 5
    server, out = logged_in(world_data)
    for bad in (b"RETR\r\n", b"RETR x\r\n", b"RETR 0\r\n", b"RETR 99\r\n", b"TOP 1\r\n",
                b"USER again\r\n", b"\xff\xfe\r\n"):
        assert feed(server, out, bad).startswith(b"-ERR"), bad


def test_over_long_line_and_garbage(world_data) -> None:
    server, out = logged_in(world_data)
    reply = feed(server, out, b"A" * 100_000)
    assert reply == b"-ERR line too long\r\n"
    assert server.lines.pending <= 512
    assert feed(server, out, b"AAAA\r\nSTAT\r\n").startswith(b"+OK 2")


def test_eof_mid_command_gets_error_then_close(world_data) -> None:
    out = drive(Pop3Server(world_data, binding_for(world_data, *GMAIL)), b"USER app@gm", eof=True)
    assert out.lines()[1].startswith(b"-ERR connection closed")
    assert out.closed
    out = drive(Pop3Server(world_data, binding_for(world_data, *GMAIL)), eof=True)
    assert out.closed and out.lines()[1:] == [b""]


def test_top(world_data) -> None:
    server, out = logged_in(world_data)
    reply = feed(server, out, b"TOP 1 0\r\n")
    assert reply.startswith(b"+OK") and b"Subject: conformance fixture one\r\n\r\n.\r\n" in reply
