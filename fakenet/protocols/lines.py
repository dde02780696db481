"""Bounded line framing shared by the line protocols.

Every protocol here reads CRLF-terminated lines, and some switch to counted
bytes (IMAP literals, HTTP bodies). `LineBuffer` gives both from one buffer
and never holds more than `limit` bytes of an unterminated line: an over-long
line is reported once as `TOO_LONG` and its rest is discarded up to the next
LF, so a peer cannot make a server buffer without bound.
"""

from __future__ import annotations

import enum
from typing import Any

from fakenet.sansio import Close, Send


class Framing(enum.Enum):
    TOO_LONG = "too-long"


TOO_LONG = Framing.TOO_LONG


class LineBuffer:
    """Bytes fed in; whole lines (without CRLF or LF) or counted blocks out."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._buffer = bytearray()
        self._scanned = 0       # bytes of _buffer known to hold no LF
        self._discarding = False

    def feed(self, data: bytes) -> None:
        self._buffer += data

    @property
    def pending(self) -> int:
        """Bytes held that form no complete line yet (a command cut off mid-way)."""
        return len(self._buffer)

    def next_line(self) -> bytes | Framing | None:
        """The next complete line, TOO_LONG once per over-long line, or None if none is whole."""
        while True:
            end = self._buffer.find(b"\n", self._scanned)
            if end < 0:
                if len(self._buffer) > self.limit:
                    del self._buffer[:]
                    self._scanned = 0
                    if not self._discarding:
                        self._discarding = True
                        return TOO_LONG
                    return None
                self._scanned = len(self._buffer)
                return None
            line = bytes(self._buffer[:end])
            del self._buffer[: end + 1]
            self._scanned = 0
            if self._discarding:
                self._discarding = False
                continue
            if len(line) > self.limit:
                return TOO_LONG
            return line[:-1] if line.endswith(b"\r") else line

    def take(self, count: int) -> bytes | None:
        """Exactly `count` bytes if that many are buffered, else None (nothing consumed)."""
        if len(self._buffer) < count:
            return None
        block = bytes(self._buffer[:count])
        del self._buffer[:count]
        self._scanned = 0
        return block

    def take_all(self) -> bytes:
        """Whatever is buffered (for bodies read in pieces)."""
        block = bytes(self._buffer)
        del self._buffer[:]
        self._scanned = 0
        return block


def dot_stuff(message: bytes) -> bytes:
    """A CRLF message as a POP3/NNTP multi-line block body, terminator included."""
    lines = message.split(b"\r\n")
    if lines and lines[-1] == b"":
        lines.pop()
    stuffed = (b"." + line if line.startswith(b".") else line for line in lines)
    return b"".join(line + b"\r\n" for line in stuffed) + b".\r\n"


COALESCE_LIMIT = 65536


def coalesce(actions: list[Any]) -> list[Any]:
    """Adjacent small Sends merged into one.

    A reply sent as two writes (a status line, then its block) meets Nagle's
    algorithm on the server and a delayed ACK on the client: about 40 ms per
    reply. One write per reply avoids it. Sends already larger than
    COALESCE_LIMIT (a big HTTP body in chunks) stay as they are.
    """
    out: list[Any] = []
    for action in actions:
        last = out[-1] if out else None
        if (isinstance(action, Send) and isinstance(last, Send)
                and len(last.data) + len(action.data) <= COALESCE_LIMIT):
            out[-1] = Send(last.data + action.data)
        else:
            out.append(action)
    return out


class CommandLineServer:
    """The server side of a protocol with one command per line (POP3, NNTP,
    FTP control): the read loop, the over-long line and the command cut off by
    EOF are handled here once. Subclasses set `lines` and `closed` and give
    `command` and `error_reply`."""

    lines: LineBuffer
    closed: bool

    def command(self, line: bytes) -> list[Any]:
        raise NotImplementedError

    def error_reply(self, text: str) -> Send:
        """The protocol's reply to a line it cannot take."""
        raise NotImplementedError

    def data_received(self, data: bytes) -> list[Any]:
        if self.closed:
            return []
        self.lines.feed(data)
        actions: list[Any] = []
        while not self.closed and (line := self.lines.next_line()) is not None:
            if line is TOO_LONG:
                actions.append(self.error_reply("line too long"))
                continue
            assert isinstance(line, bytes)
            actions += self.command(line)
        return coalesce(actions)

    def eof_received(self) -> list[Any]:
        if self.closed:
            return []
        self.closed = True
        if self.lines.pending:
            return [self.error_reply("connection closed in the middle of a command"), Close()]
        return [Close()]
