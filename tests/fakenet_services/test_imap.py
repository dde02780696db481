"""IMAP protocol object, no socket."""

from __future__ import annotations

import base64

from fakenet.protocols.imap import ImapServer, sequence_set
from tests.fakenet_services.conftest import binding_for, drive, feed

GMAIL = ("gmail-imap", "imaps")


def session(world_data, login: bytes = b'a1 LOGIN app@gmail.com "gmail-app-password"\r\n'):
    server = ImapServer(world_data, binding_for(world_data, *GMAIL))
    out = drive(server, login)
    assert out.sent.startswith(b"* OK [CAPABILITY IMAP4rev1")
    return server, out


def selected(world_data):
    server, out = session(world_data)
    assert out.sent.endswith(b"a1 OK [CAPABILITY IMAP4rev1 AUTH=PLAIN LITERAL+ UNSELECT] "
                             b"LOGIN completed\r\n")
    reply = feed(server, out, b"a2 SELECT INBOX\r\n")
    assert b"* 2 EXISTS\r\n" in reply and reply.endswith(b"a2 OK [READ-WRITE] SELECT completed\r\n")
    return server, out


def test_capability_and_noop(world_data) -> None:
    server = ImapServer(world_data, binding_for(world_data, *GMAIL))
    out = drive(server, b"c1 CAPABILITY\r\nc2 NOOP\r\n")
    assert out.lines()[1:4] == [b"* CAPABILITY IMAP4rev1 AUTH=PLAIN LITERAL+ UNSELECT",
                                b"c1 OK done", b"c2 OK NOOP completed"]


def test_search_and_fetch(world_data) -> None:
    server, out = selected(world_data)
    assert feed(server, out, b"a3 SEARCH ALL\r\n") == b"* SEARCH 1 2\r\na3 OK SEARCH completed\r\n"
    assert feed(server, out, b"a4 SEARCH CHARSET UTF-8 2:*\r\n").startswith(b"* SEARCH 2\r\n")
    message = world_data.mailbox("app@gmail.com")[0]
    reply = feed(server, out, b"a5 FETCH 1 (RFC822)\r\n")
    assert reply == (b"* 1 FETCH (RFC822 {%d}\r\n" % len(message.wire) + message.wire
                     + b")\r\na5 OK FETCH completed\r\n")
    assert out.notes[-1].kind == "mail-retrieve" and out.notes[-1].data == message.wire
    reply = feed(server, out, b"a6 FETCH 1:* (BODY.PEEK[] FLAGS RFC822.SIZE)\r\n")
    assert reply.count(b" FETCH (BODY[] {") == 2 and b"FLAGS () RFC822.SIZE" in reply
    reply = feed(server, out, b"a7 UID FETCH 2 (BODY[HEADER])\r\n")
    assert reply.startswith(b"* 2 FETCH (UID 2 BODY[HEADER] {") and b"a7 OK UID FETCH" in reply
    reply = feed(server, out, b"a8 UID SEARCH ALL\r\n")
    assert reply == b"* SEARCH 1 2\r\na8 OK UID SEARCH completed\r\n"
    reply = feed(server, out, b"a9 FETCH 1 BODY[]<0.4>\r\n")
    assert reply.startswith(b"* 1 FETCH (BODY[]<0> {4}\r\nFrom)\r\n")


def test_login_with_literal_and_authenticate_plain(world_data) -> None:
    server = ImapServer(world_data, binding_for(world_data, *GMAIL))
    out = drive(server, b"a1 LOGIN {13}\r\n")
    assert out.sent.endswith(b"+ ready for literal\r\n")
    assert feed(server, out, b"app@gmail.com {18+}\r\ngmail-app-password\r\n").endswith(
        b"a1 OK [CAPABILITY IMAP4rev1 AUTH=PLAIN LITERAL+ UNSELECT] LOGIN completed\r\n")
    server = ImapServer(world_data, binding_for(world_data, *GMAIL))
    out = drive(server, b"a1 AUTHENTICATE PLAIN\r\n")
    assert out.sent.endswith(b"+ \r\n")
    token = base64.b64encode(b"\0app@gmail.com\0gmail-app-password")
    assert b"a1 OK" in feed(server, out, token + b"\r\n")
    assert out.notes[-1].detail["ok"] is True
    server = ImapServer(world_data, binding_for(world_data, *GMAIL))
    out = drive(server, b"a1 AUTHENTICATE PLAIN " + token + b"\r\n")
    assert b"a1 OK" in out.sent and out.notes[-1].detail["ok"] is True
    out = drive(ImapServer(world_data, binding_for(world_data, *GMAIL)),
                b"a1 AUTHENTICATE PLAIN !!\r\n", b"a2 AUTHENTICATE PLAIN\r\n", b"*\r\n",
                b"a3 AUTHENTICATE CRAM-MD5\r\n")
    assert [line.split(b" ")[:2] for line in out.lines()[1:-1]] == [
        [b"a1", b"BAD"], [b"+", b""], [b"a2", b"BAD"], [b"a3", b"NO"]]


def test_bad_credentials_and_out_of_order(world_data) -> None:
    server, out = session(world_data, b'a1 LOGIN app@gmail.com "nope"\r\n')
    assert out.sent.endswith(b"a1 NO [AUTHENTICATIONFAILED] invalid credentials\r\n")
    assert feed(server, out, b"a2 SELECT INBOX\r\n") == b"a2 BAD SELECT needs LOGIN first\r\n"
    server, out = session(world_data)
    assert feed(server, out, b"a2 FETCH 1 RFC822\r\n") == b"a2 BAD FETCH needs SELECT first\r\n"
    assert feed(server, out, b"a3 SELECT Junk\r\n").startswith(b"a3 NO")
    assert feed(server, out, b"a4 LOGIN x y\r\n") == b"a4 BAD already authenticated\r\n"


def test_malformed_commands(world_data) -> None:
    server, out = selected(world_data)
    for bad, start in [
        (b"\r\n", b"* BAD"), (b"+ x\r\n", b"* BAD"), (b"t1\r\n", b"t1 BAD"),
        (b"t2 FROB\r\n", b"t2 BAD unknown"), (b"t3 FETCH\r\n", b"t3 BAD"),
        (b"t4 FETCH x RFC822\r\n", b"t4 BAD"), (b"t5 FETCH 1 (ENVELOPE)\r\n", b"t5 BAD"),
        (b"t6 SEARCH FROM bob\r\n", b"t6 BAD"), (b't7 LOGIN "unterminated\r\n', b"t7 BAD"),
        (b"t8 UID\r\n", b"t8 BAD"), (b"t9 UID STORE 1 +FLAGS (\\Seen)\r\n", b"t9 BAD"),
        (b"t10 FETCH 1 BODY[1.MIME]\r\n", b"t10 BAD"), (b"\xff\xfe\x00 junk\r\n", b"* BAD"),
    ]:
        assert feed(server, out, bad).startswith(start), bad
    assert feed(server, out, b"t11 NOOP\r\n") == b"t11 OK NOOP completed\r\n"


def test_over_long_line_and_literal(world_data) -> None:
    server, out = selected(world_data)
    assert feed(server, out, b"x" * 100_000) == b"* BAD line too long\r\n"
    assert feed(server, out, b"x\r\nt1 NOOP\r\n") == b"t1 OK NOOP completed\r\n"
    assert feed(server, out, b"t2 LOGIN {999999999}\r\n") == b"t2 BAD literal too large\r\n"
    # a refused non-synchronising literal is skipped, not parsed as commands
    reply = feed(server, out, b"t3 LOGIN {70000+}\r\n" + b"t9 LOGOUT\r\n" * 6000)
    assert reply == b"t3 BAD literal too large\r\n"
    assert feed(server, out, b"z" * 3999) == b""
    assert feed(server, out, b"zt4 NOOP\r\n") == b"t4 OK NOOP completed\r\n"

    # many literals in one command add up to a bound too
    reply = b""
    reply += feed(server, out, b"t5 LOGIN {60000}\r\n")
    for _ in range(4):  # the fourth literal would take the command past COMMAND_LIMIT
        reply += feed(server, out, b"l" * 60000 + b" {60000}\r\n")
    assert reply.count(b"+ ready for literal") == 4 and reply.endswith(
        b"t5 BAD literal too large\r\n")
    assert feed(server, out, b"t6 NOOP\r\n") == b"t6 OK NOOP completed\r\n"


def test_logout_and_eof(world_data) -> None:
    server, out = selected(world_data)
    assert feed(server, out, b"z LOGOUT\r\n") == b"* BYE logging out\r\nz OK LOGOUT completed\r\n"
    assert out.closed
    server, out = session(world_data)
    out.add(server.data_received(b"a2 SELECT IN"))
    out.add(server.eof_received())
    assert out.sent.endswith(b"* BYE connection closed in the middle of a command\r\n")
    assert out.closed


def test_sequence_sets() -> None:
    assert sequence_set("1:*", 3) == [1, 2, 3]
    assert sequence_set("*", 3) == [3]
    assert sequence_set("3:1,2", 5) == [1, 2, 3]
    assert sequence_set("7", 3) == []
