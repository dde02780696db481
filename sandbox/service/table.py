"""Descriptors, the idle clock and the byte meter: the service's state.

A descriptor is an opaque random token bound to the app that created it. A
lookup from another app fails exactly like an unknown token (EBADF), so an
app learns nothing about descriptors that are not its own (APP-2).
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

IDLE_LIMIT = 600.0


class ServiceError(Exception):
    """An error the service reports to the app as an errno."""

    def __init__(self, code: int, message: str = "") -> None:
        self.errno = code
        self.message = message or os.strerror(code)
        super().__init__(code, self.message)


class Clock:
    """Monotonic time plus an offset the adapter can advance (IDLE-1..3)."""

    def __init__(self, source: Callable[[], float] = time.monotonic) -> None:
        self._source = source
        self._offset = 0.0

    def now(self) -> float:
        return self._source() + self._offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._offset += seconds


@dataclass(eq=False)
class Entry:
    """One descriptor: the real socket and who may use it."""

    desc: str
    app: str
    kind: str                      # "tcp" or "udp"
    family: int
    sock: socket.socket
    last: float
    channels: list[socket.socket] = field(default_factory=list)
    retained: bool = False         # pickled: a dropped channel only detaches
    close_requested: bool = False
    shut_wr_requested: bool = False
    error: int = 0
    closed: bool = False
    lock: threading.Condition = field(default_factory=threading.Condition)
    wr_done: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)

    @property
    def inbound(self) -> socket.socket | None:
        return self.channels[-1] if self.channels else None

    def add_channel(self, chan: socket.socket) -> None:
        """`chan` becomes the newest channel; wakes a delivery waiting for one."""
        with self.lock:
            self.channels.append(chan)
            self.lock.notify_all()

    def channel_ended(self, chan: socket.socket) -> bool:
        """Forget `chan`; True if the socket lives on without it (pickled, not closed),
        False if its end closes the descriptor."""
        with self.lock:
            if chan in self.channels:
                self.channels.remove(chan)
            return self.retained and not self.close_requested and not self.closed


class DescriptorTable:
    def __init__(self, clock: Clock, idle_limit: float = IDLE_LIMIT) -> None:
        self.clock = clock
        self.idle_limit = idle_limit
        self._entries: dict[str, Entry] = {}
        self._reclaimed: set[str] = set()
        # Closed by the service after both directions ended: the app may still
        # ask how it ended (its recv saw EOF). desc -> (app, pending errno).
        self._finished: dict[str, tuple[str, int]] = {}
        self._lock = threading.Lock()
        self.meter: Counter[str] = Counter()
        self._meter_lock = threading.Lock()

    def add(self, app: str, kind: str, family: int, sock: socket.socket) -> Entry:
        entry = Entry(secrets.token_hex(16), app, kind, family, sock, self.clock.now())
        with self._lock:
            self._entries[entry.desc] = entry
        return entry

    def get(self, app: str, desc: object) -> Entry:
        """The live entry for `desc`, if it belongs to `app`; EBADF otherwise. Renews it."""
        with self._lock:
            entry = self._entries.get(desc) if isinstance(desc, str) else None
            reclaimed = isinstance(desc, str) and desc in self._reclaimed
        if entry is None or entry.app != app or entry.closed:
            if reclaimed and entry is None:
                raise ServiceError(errno.EBADF, "socket reclaimed after 10 minutes idle")
            raise ServiceError(errno.EBADF)
        entry.last = self.clock.now()
        return entry

    def close(self, entry: Entry, reclaimed: bool = False) -> None:
        """Close the real socket and every channel; wakes any thread blocked on them.

        Done is signalled last: an app's close() waits on it, and must not return
        before the peer can see the FIN and the descriptor is gone from the table."""
        with entry.lock:
            if entry.closed:
                return
            entry.closed = True
            channels, entry.channels = list(entry.channels), []
            entry.lock.notify_all()
        with self._lock:
            # How it ended is known before the sockets go: an app asking (status)
            # while they close gets its answer, not EBADF.
            if reclaimed:
                self._reclaimed.add(entry.desc)
            else:
                self._finished[entry.desc] = (entry.app, entry.error)
                while len(self._finished) > 10000:
                    self._finished.pop(next(iter(self._finished)))
        for s in [entry.sock, *channels]:
            _hard_close(s)
        with self._lock:
            self._entries.pop(entry.desc, None)
        entry.done.set()
        entry.wr_done.set()

    def lookup(self, app: str, desc: object) -> Entry | None:
        """The entry, live or closing, without renewing it (for waits)."""
        with self._lock:
            entry = self._entries.get(desc) if isinstance(desc, str) else None
        return entry if entry is not None and entry.app == app else None

    def finished_error(self, app: str, desc: object) -> int | None:
        """The pending errno of a descriptor that ended normally, or None if unknown."""
        with self._lock:
            found = self._finished.get(desc) if isinstance(desc, str) else None
            if found is None or found[0] != app:
                return None
            self._finished[desc] = (app, 0)  # type: ignore[index]
            return found[1]

    def sweep(self) -> list[str]:
        """Reclaim every socket idle for longer than the limit; returns their descriptors."""
        now = self.clock.now()
        with self._lock:
            stale = [e for e in self._entries.values() if now - e.last > self.idle_limit]
        for entry in stale:
            self.close(entry, reclaimed=True)
        return [e.desc for e in stale]

    def count(self, app: str, bytes_out: int) -> None:
        """Meter outgoing bytes (API-8); relays of one app run on many threads."""
        with self._meter_lock:
            self.meter[app] += bytes_out

    def close_all(self) -> None:
        with self._lock:
            entries = list(self._entries.values())
        for entry in entries:
            self.close(entry)


def _hard_close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
