"""IMAP4rev1 (RFC 3501) server side: the subset imaplib uses to read mail.

Commands: CAPABILITY, NOOP, LOGOUT, LOGIN, AUTHENTICATE PLAIN, LIST, SELECT,
EXAMINE, CLOSE, UNSELECT, SEARCH, FETCH, and UID SEARCH / UID FETCH. One
mailbox, INBOX, holds the account's world messages; UIDs are their 1-based
positions (UIDVALIDITY 1), which never change because the world is
read-only. Literals ({n} and {n+}) are accepted in arguments and used in
FETCH replies. Anything malformed or out of state gets a tagged (or, with no
usable tag, an untagged) BAD; nothing is buffered without a bound.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

from fakenet.protocols.accounts import authenticate
from fakenet.protocols.lines import TOO_LONG, LineBuffer, coalesce
from fakenet.sansio import Action, Close, Note, Send
from fakenet.world import Binding, Message, World

LINE_LIMIT = 8192
LITERAL_LIMIT = 65536
COMMAND_LIMIT = 4 * LITERAL_LIMIT  # one command, all its lines and literals together
CAPABILITY = "IMAP4rev1 AUTH=PLAIN LITERAL+ UNSELECT"
INTERNALDATE = '"01-Jan-2024 00:00:00 +0000"'

TAG = re.compile(rb"[!#$&'*,./0-9:;<=>?@A-Z^_`a-z|~-]+")  # ATOM-CHAR minus "+"
LITERAL_TAIL = re.compile(rb"\{(\d{1,10})(\+?)\}$")
FETCH_ITEM = re.compile(
    r"(BODY(?:\.PEEK)?\[[^\]]*\](?:<\d+\.\d+>)?|[A-Z0-9.]+)", re.IGNORECASE
)
WHOLE_MESSAGE = re.compile(r"RFC822|BODY(?:\.PEEK)?\[\]", re.IGNORECASE)


class ImapSyntaxError(ValueError):
    """A command's arguments cannot be parsed; the message goes in the BAD reply."""


@dataclass(frozen=True)
class Literal:
    data: bytes


def tokens(parts: list[bytes | Literal]) -> list[str | Literal]:
    """Atoms, quoted strings (unescaped) and literals of an argument list."""
    out: list[str | Literal] = []
    for part in parts:
        if isinstance(part, Literal):
            out.append(part)
            continue
        text = part.decode("utf-8", "replace")
        i = 0
        while i < len(text):
            ch = text[i]
            if ch == " ":
                i += 1
            elif ch == '"':
                value, i = quoted(text, i)
                out.append(value)
            else:
                end = text.find(" ", i)
                end = len(text) if end < 0 else end
                out.append(text[i:end])
                i = end
    return out


def quoted(text: str, start: int) -> tuple[str, int]:
    chars = []
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            chars.append(text[i + 1])
            i += 2
        elif ch == '"':
            return "".join(chars), i + 1
        else:
            chars.append(ch)
            i += 1
    raise ImapSyntaxError("unterminated quoted string")


def string(token: str | Literal) -> str:
    return token.data.decode("utf-8", "replace") if isinstance(token, Literal) else token


def sequence_set(text: str, largest: int) -> list[int]:
    """The numbers a sequence set ("1", "2:*", "1,3:4") names, among 1..largest."""
    found: set[int] = set()
    for item in text.split(","):
        low, sep, high = item.partition(":")
        try:
            a = largest if low == "*" else int(low)
            b = a if not sep else (largest if high == "*" else int(high))
        except ValueError:
            raise ImapSyntaxError(f"bad sequence set {text[:40]!r}") from None
        if a < 1 or b < 1:
            raise ImapSyntaxError(f"bad sequence set {text[:40]!r}")
        a, b = min(a, b), max(a, b)
        found.update(range(a, min(b, largest) + 1))
    return sorted(found)


class ImapServer:
    """One IMAP session."""

    def __init__(self, world: World, binding: Binding) -> None:
        self.world = world
        self.binding = binding
        self.lines = LineBuffer(LINE_LIMIT)
        self.parts: list[bytes | Literal] = []  # the command being assembled
        self.literal: int | None = None          # bytes of a literal still to read
        self.skip = 0                             # bytes of a refused literal to discard
        self.auth_tag: bytes | None = None        # AUTHENTICATE waiting for its response
        self.user: str | None = None
        self.mailbox: tuple[Message, ...] | None = None
        self.selected = False
        self.read_only = False
        self.closed = False

    # ---- framing -----------------------------------------------------------
    def connection_made(self) -> list[Action]:
        return [Send(f"* OK [CAPABILITY {CAPABILITY}] fakenet IMAP4rev1 ready\r\n".encode())]

    def data_received(self, data: bytes) -> list[Action]:
        if self.closed:
            return []
        if self.skip:
            dropped = min(self.skip, len(data))
            self.skip -= dropped
            data = data[dropped:]
        self.lines.feed(data)
        actions: list[Action] = []
        while not self.closed:
            if self.literal is not None:
                block = self.lines.take(self.literal)
                if block is None:
                    break
                self.parts.append(Literal(block))
                self.literal = None
                continue
            line = self.lines.next_line()
            if line is None:
                break
            if line is TOO_LONG:
                tag, self.auth_tag = self.auth_tag or b"*", None
                self.parts = []
                actions.append(self.reply(tag, "BAD", "line too long"))
                continue
            assert isinstance(line, bytes)
            actions += self.line(line)
        return coalesce(actions)

    def eof_received(self) -> list[Action]:
        if self.closed:
            return []
        self.closed = True
        if self.lines.pending or self.parts or self.literal is not None:
            return [Send(b"* BYE connection closed in the middle of a command\r\n"), Close()]
        return [Close()]

    def line(self, line: bytes) -> list[Action]:
        if self.auth_tag is not None:
            tag, self.auth_tag = self.auth_tag, None
            return self.auth_plain(tag, line)
        match = LITERAL_TAIL.search(line)
        if match:
            size, non_sync = int(match.group(1)), bool(match.group(2))
            self.parts.append(line[: match.start()])
            held = sum(len(p.data if isinstance(p, Literal) else p) for p in self.parts)
            if size > LITERAL_LIMIT or held + size > COMMAND_LIMIT:
                tag = self.tag_of(self.parts)
                self.parts = []
                if non_sync:
                    self.skip_literal(size)
                return [self.reply(tag, "BAD", "literal too large")]
            self.literal = size
            return [] if non_sync else [Send(b"+ ready for literal\r\n")]
        self.parts.append(line)
        parts, self.parts = self.parts, []
        return self.command(parts)

    def skip_literal(self, size: int) -> None:
        held = self.lines.take_all()
        self.skip = max(0, size - len(held))
        self.lines.feed(held[size:])

    @staticmethod
    def tag_of(parts: list[bytes | Literal]) -> bytes:
        first = parts[0] if parts and isinstance(parts[0], bytes) else b""
        tag = first.split(b" ", 1)[0]
        return tag if TAG.fullmatch(tag) else b"*"

    @staticmethod
    def reply(tag: bytes, status: str, text: str) -> Send:
        return Send(tag + f" {status} {text}\r\n".encode())

    # ---- commands ----------------------------------------------------------
    def command(self, parts: list[bytes | Literal]) -> list[Action]:
        first = parts[0] if isinstance(parts[0], bytes) else b""
        tag, _, rest = first.partition(b" ")
        if not TAG.fullmatch(tag):
            return [Send(b"* BAD missing or malformed tag\r\n")]
        name, _, args = rest.partition(b" ")
        verb = name.decode("latin-1").upper()
        if not verb:
            return [self.reply(tag, "BAD", "missing command")]
        try:
            return self.dispatch(tag, verb, [args, *parts[1:]])
        except ImapSyntaxError as exc:
            return [self.reply(tag, "BAD", str(exc))]

    def dispatch(self, tag: bytes, verb: str, args: list[bytes | Literal]) -> list[Action]:
        if verb == "CAPABILITY":
            return [Send(f"* CAPABILITY {CAPABILITY}\r\n".encode()), self.reply(tag, "OK", "done")]
        if verb == "NOOP":
            return [self.reply(tag, "OK", "NOOP completed")]
        if verb == "LOGOUT":
            self.closed = True
            return [Send(b"* BYE logging out\r\n"), self.reply(tag, "OK", "LOGOUT completed"),
                    Close()]
        if verb in ("LOGIN", "AUTHENTICATE"):
            if self.mailbox is not None:
                return [self.reply(tag, "BAD", "already authenticated")]
            return self.login(tag, tokens(args)) if verb == "LOGIN" else self.authenticate(
                tag, tokens(args))
        if verb in ("SELECT", "EXAMINE", "LIST", "LSUB", "CLOSE", "UNSELECT", "SEARCH", "FETCH",
                    "UID", "STATUS", "EXPUNGE", "CHECK"):
            if self.mailbox is None:
                return [self.reply(tag, "BAD", f"{verb} needs LOGIN first")]
            return self.authenticated(tag, verb, args)
        return [self.reply(tag, "BAD", f"unknown command {verb[:20]}")]

    def login(self, tag: bytes, args: list[str | Literal]) -> list[Action]:
        if len(args) != 2:
            return [self.reply(tag, "BAD", "LOGIN needs a user name and a password")]
        return self.check(tag, string(args[0]), string(args[1]), "LOGIN")

    def authenticate(self, tag: bytes, args: list[str | Literal]) -> list[Action]:
        if not 1 <= len(args) <= 2 or string(args[0]).upper() != "PLAIN":
            return [self.reply(tag, "NO", "only AUTHENTICATE PLAIN is supported")]
        if len(args) == 2:  # RFC 4959 initial response on the command line
            return self.auth_plain(tag, string(args[1]).encode())
        self.auth_tag = tag
        return [Send(b"+ \r\n")]

    def auth_plain(self, tag: bytes, line: bytes) -> list[Action]:
        if line.strip() == b"*":
            return [self.reply(tag, "BAD", "AUTHENTICATE cancelled")]
        try:
            _, user, password = base64.b64decode(line.strip(), validate=True).split(b"\0")
        except ValueError:
            return [self.reply(tag, "BAD", "malformed PLAIN response")]
        return self.check(tag, user.decode("utf-8", "replace"),
                          password.decode("utf-8", "replace"), "AUTHENTICATE")

    def check(self, tag: bytes, user: str, password: str, how: str) -> list[Action]:
        account = authenticate(self.world, self.binding, user, password)
        note = Note("mail-login", {"protocol": "imap", "user": user, "ok": account is not None})
        if account is None:
            return [note, self.reply(tag, "NO", "[AUTHENTICATIONFAILED] invalid credentials")]
        self.user = account.user
        self.mailbox = self.world.mailbox(account.user)
        return [note, self.reply(tag, "OK", f"[CAPABILITY {CAPABILITY}] {how} completed")]

    def authenticated(self, tag: bytes, verb: str, args: list[bytes | Literal]) -> list[Action]:
        assert self.mailbox is not None
        words = tokens(args)
        if verb in ("SELECT", "EXAMINE"):
            if len(words) != 1:
                return [self.reply(tag, "BAD", f"{verb} needs one mailbox name")]
            if string(words[0]).upper() != "INBOX":
                self.selected = False
                return [self.reply(tag, "NO", "[NONEXISTENT] no such mailbox")]
            self.selected, self.read_only = True, verb == "EXAMINE"
            count = len(self.mailbox)
            mode = "READ-ONLY" if self.read_only else "READ-WRITE"
            return [Send(
                f"* {count} EXISTS\r\n* 0 RECENT\r\n"
                "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
                "* OK [PERMANENTFLAGS ()] read-only world\r\n"
                f"* OK [UIDVALIDITY 1] UIDs valid\r\n* OK [UIDNEXT {count + 1}] next UID\r\n"
                .encode()), self.reply(tag, "OK", f"[{mode}] {verb} completed")]
        if verb in ("LIST", "LSUB"):
            if len(words) != 2:
                return [self.reply(tag, "BAD", f"{verb} needs a reference and a pattern")]
            pattern = string(words[1])
            found = pattern in ("*", "%") or pattern.upper() == "INBOX"
            listing = f'* {verb} (\\HasNoChildren) "/" INBOX\r\n'.encode() if found else b""
            return [Send(listing), self.reply(tag, "OK", f"{verb} completed")]
        if verb == "STATUS":
            return [self.reply(tag, "BAD", "STATUS is not supported")]
        if not self.selected:
            return [self.reply(tag, "BAD", f"{verb} needs SELECT first")]
        if verb in ("CLOSE", "UNSELECT"):
            self.selected = False
            return [self.reply(tag, "OK", f"{verb} completed")]
        if verb in ("EXPUNGE", "CHECK"):
            return [self.reply(tag, "OK", f"{verb} completed")]
        by_uid = verb == "UID"
        if by_uid:
            if not words or not isinstance(words[0], str):
                return [self.reply(tag, "BAD", "UID needs FETCH or SEARCH")]
            verb = words[0].upper()
            rest = args[0].split(b" ", 1)[1] if isinstance(args[0], bytes) and b" " in args[0] \
                else b""
            args = [rest, *args[1:]]
            words = words[1:]
        if verb == "SEARCH":
            return self.search(tag, words, by_uid)
        if verb == "FETCH":
            text = b"".join(a for a in args if isinstance(a, bytes)).decode("latin-1")
            return self.fetch(tag, text, by_uid)
        return [self.reply(tag, "BAD", f"UID {verb[:20]} is not supported")]

    def search(self, tag: bytes, words: list[str | Literal], by_uid: bool) -> list[Action]:
        assert self.mailbox is not None
        keys = [string(w).upper() for w in words]
        if keys[:1] == ["CHARSET"]:
            keys = keys[2:]
        count = len(self.mailbox)
        matched = set(range(1, count + 1))
        if not keys:
            raise ImapSyntaxError("SEARCH needs a criterion")
        i = 0
        while i < len(keys):
            key = keys[i]
            if key in ("ALL", "UNDELETED", "UNSEEN", "NEW"):
                pass  # no message carries flags in a read-only world
            elif key in ("DELETED", "SEEN", "ANSWERED", "FLAGGED", "DRAFT", "RECENT"):
                matched = set()
            elif key == "UID" and i + 1 < len(keys):
                matched &= set(sequence_set(keys[i + 1], count))
                i += 1
            elif key[:1].isdigit() or key[:1] == "*":
                matched &= set(sequence_set(key, count))
            else:
                raise ImapSyntaxError(f"unsupported search key {key[:20]}")
            i += 1
        numbers = " ".join(str(n) for n in sorted(matched))
        return [Send(f"* SEARCH {numbers}".rstrip().encode() + b"\r\n"),
                self.reply(tag, "OK", ("UID " if by_uid else "") + "SEARCH completed")]

    def fetch(self, tag: bytes, text: str, by_uid: bool) -> list[Action]:
        assert self.mailbox is not None
        which, _, spec = text.strip().partition(" ")
        spec = spec.strip()
        if not which or not spec:
            raise ImapSyntaxError("FETCH needs a sequence set and items")
        if spec.startswith("(") and spec.endswith(")"):
            spec = spec[1:-1]
        macros = {"ALL": "FLAGS INTERNALDATE RFC822.SIZE", "FAST": "FLAGS INTERNALDATE RFC822.SIZE",
                  "FULL": "FLAGS INTERNALDATE RFC822.SIZE"}
        spec = macros.get(spec.upper(), spec)
        items = FETCH_ITEM.findall(spec)
        if not items or "".join(items).replace(" ", "") != spec.replace(" ", ""):
            raise ImapSyntaxError(f"unsupported FETCH items {spec[:60]!r}")
        if by_uid and "UID" not in (i.upper() for i in items):
            items.insert(0, "UID")
        notes: list[Action] = []  # journalled first, so the replies can go out as one write
        sends: list[Action] = []
        for number in sequence_set(which, len(self.mailbox)):
            message = self.mailbox[number - 1]
            body = b" ".join(self.fetch_item(item, number, message) for item in items)
            if any(WHOLE_MESSAGE.fullmatch(item) for item in items):
                notes.append(Note("mail-retrieve", {
                    "protocol": "imap", "user": message.mailbox, "uid": message.uid}, message.wire))
            sends.append(Send(f"* {number} FETCH (".encode() + body + b")\r\n"))
        sends.append(self.reply(tag, "OK", ("UID " if by_uid else "") + "FETCH completed"))
        return notes + sends

    @staticmethod
    def fetch_item(item: str, number: int, message: Message) -> bytes:
        upper = item.upper()
        wire = message.wire
        head, _, text = wire.partition(b"\r\n\r\n")
        head += b"\r\n\r\n"
        if upper == "UID":
            return f"UID {number}".encode()
        if upper == "FLAGS":
            return b"FLAGS ()"
        if upper == "INTERNALDATE":
            return f"INTERNALDATE {INTERNALDATE}".encode()
        if upper == "RFC822.SIZE":
            return f"RFC822.SIZE {len(wire)}".encode()
        simple = {"RFC822": wire, "RFC822.HEADER": head, "RFC822.TEXT": text}
        if upper in simple:
            data = simple[upper]
            return f"{upper} {{{len(data)}}}\r\n".encode() + data
        if upper.startswith("BODY"):
            section = upper[upper.index("[") + 1 : upper.index("]")]
            partial = upper[upper.index("]") + 1 :]
            sections = {"": wire, "HEADER": head, "TEXT": text}
            if section not in sections:
                raise ImapSyntaxError(f"unsupported section {section[:30]!r}")
            data = sections[section]
            origin = ""
            if partial:
                start, length = (int(n) for n in partial[1:-1].split("."))
                data, origin = data[start : start + length], f"<{start}>"
            return f"BODY[{section}]{origin} {{{len(data)}}}\r\n".encode() + data
        raise ImapSyntaxError(f"unsupported FETCH item {item[:30]!r}")
