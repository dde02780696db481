"""POP3 (RFC 1939) server side: the commands poplib sends, over one mailbox.

States follow the RFC: AUTHORIZATION (USER, PASS), TRANSACTION (STAT, LIST,
UIDL, RETR, TOP, DELE, RSET, NOOP), and QUIT, which ends either. Deletions
only mark messages for this connection; the world's mailbox never changes,
so every case sees the same fixture. Every reply is one line or a
dot-stuffed block; any input, however malformed, gets an -ERR line.
"""

from __future__ import annotations

from fakenet.protocols.accounts import authenticate
from fakenet.protocols.lines import CommandLineServer, LineBuffer, dot_stuff
from fakenet.sansio import Action, Close, Note, Send
from fakenet.world import Binding, Message, World

LINE_LIMIT = 512  # RFC 2449 allows 255 octets per command; be lenient, never unbounded

CAPABILITIES = (b"USER", b"UIDL", b"TOP", b"RESP-CODES", b"IMPLEMENTATION fakenet")


def ok(text: str = "") -> Send:
    return Send(b"+OK" + (b" " + text.encode() if text else b"") + b"\r\n")


def err(text: str) -> Send:
    return Send(b"-ERR " + text.encode() + b"\r\n")


class Pop3Server(CommandLineServer):
    """One POP3 session."""

    def __init__(self, world: World, binding: Binding) -> None:
        self.world = world
        self.binding = binding
        self.lines = LineBuffer(LINE_LIMIT)
        self.user: str | None = None
        self.mailbox: tuple[Message, ...] | None = None  # set once logged in
        self.deleted: set[int] = set()
        self.closed = False

    def connection_made(self) -> list[Action]:
        return [ok("fakenet POP3 server ready")]

    def error_reply(self, text: str) -> Send:
        return err(text)

    def command(self, line: bytes) -> list[Action]:
        verb, _, rest = line.decode("latin-1").strip().partition(" ")
        verb = verb.upper()
        args = rest.split()
        if verb == "QUIT":
            self.closed = True
            return [ok("bye"), Close()]
        if verb == "CAPA":
            listing = b"".join(c + b"\r\n" for c in CAPABILITIES) + b".\r\n"
            return [ok("capability list follows"), Send(listing)]
        if verb in ("USER", "PASS", "APOP", "AUTH"):
            return self.authorization(verb, rest)
        if self.mailbox is None:
            if verb in TRANSACTION:
                return [err("[AUTH] log in first")]
            return [err(f"unknown command {verb[:20]!r}")]
        handler = TRANSACTION.get(verb)
        if handler is None:
            return [err(f"unknown command {verb[:20]!r}")]
        return handler(self, args)

    def authorization(self, verb: str, rest: str) -> list[Action]:
        if self.mailbox is not None:
            return [err("already logged in")]
        if verb == "USER":
            if not rest:
                return [err("USER needs a name")]
            self.user = rest
            return [ok("send PASS")]
        if verb == "PASS":
            if self.user is None:
                return [err("USER first")]
            user, self.user = self.user, None
            account = authenticate(self.world, self.binding, user, rest)
            note = Note("mail-login", {"protocol": "pop3", "user": user, "ok": account is not None})
            if account is None:
                return [note, err("[AUTH] invalid user name or password")]
            self.user = user
            self.mailbox = self.world.mailbox(account.user)
            return [note, ok(f"{len(self.mailbox)} messages")]
        return [err(f"{verb} is not supported, use USER and PASS")]

    # ---- TRANSACTION state -------------------------------------------------
    def message(self, args: list[str]) -> tuple[int, Message] | Send:
        """The message an argument names, or the -ERR reply."""
        assert self.mailbox is not None
        if not args or not args[0].isdigit():
            return err("a message number is required")
        number = int(args[0])
        if not 1 <= number <= len(self.mailbox) or number in self.deleted:
            return err(f"no such message {args[0][:20]}")
        return number, self.mailbox[number - 1]

    def live(self) -> list[tuple[int, Message]]:
        assert self.mailbox is not None
        return [(i, m) for i, m in enumerate(self.mailbox, 1) if i not in self.deleted]

    def stat(self, args: list[str]) -> list[Action]:
        live = self.live()
        return [ok(f"{len(live)} {sum(len(m.wire) for _, m in live)}")]

    def listing(self, args: list[str], field: str) -> list[Action]:
        def value(message: Message) -> str:
            return str(len(message.wire)) if field == "size" else message.uid

        if args:
            found = self.message(args)
            if isinstance(found, Send):
                return [found]
            number, message = found
            return [ok(f"{number} {value(message)}")]
        body = b"".join(f"{i} {value(m)}\r\n".encode() for i, m in self.live())
        return [ok(f"{len(self.live())} messages"), Send(body + b".\r\n")]

    def list_(self, args: list[str]) -> list[Action]:
        return self.listing(args, "size")

    def uidl(self, args: list[str]) -> list[Action]:
        return self.listing(args, "uid")

    def retr(self, args: list[str]) -> list[Action]:
        found = self.message(args)
        if isinstance(found, Send):
            return [found]
        _, message = found
        wire = message.wire
        detail = {"protocol": "pop3", "user": message.mailbox, "uid": message.uid}
        note = Note("mail-retrieve", detail, wire)
        return [note, ok(f"{len(wire)} octets"), Send(dot_stuff(wire))]

    def top(self, args: list[str]) -> list[Action]:
        found = self.message(args)
        if isinstance(found, Send):
            return [found]
        if len(args) < 2 or not args[1].isdigit():
            return [err("TOP needs a message number and a line count")]
        head, sep, body = found[1].wire.partition(b"\r\n\r\n")
        kept = b"".join(line + b"\r\n" for line in body.split(b"\r\n")[: int(args[1])])
        return [ok("top of message follows"), Send(dot_stuff(head + sep + kept))]

    def dele(self, args: list[str]) -> list[Action]:
        found = self.message(args)
        if isinstance(found, Send):
            return [found]
        self.deleted.add(found[0])
        return [ok(f"message {found[0]} deleted")]

    def rset(self, args: list[str]) -> list[Action]:
        self.deleted.clear()
        return [ok()]

    def noop(self, args: list[str]) -> list[Action]:
        return [ok()]


TRANSACTION = {
    "STAT": Pop3Server.stat, "LIST": Pop3Server.list_, "UIDL": Pop3Server.uidl,
    "RETR": Pop3Server.retr, "TOP": Pop3Server.top, "DELE": Pop3Server.dele,
    "RSET": Pop3Server.rset, "NOOP": Pop3Server.noop,
}
