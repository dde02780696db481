"""The journal: what reached the world, one frozen event per observation.

Every endpoint appends here; the harness asks for the events since a mark, so
a case sees only what its own traffic caused. Events cross the world's
control pipe as JSON (`to_json`/`from_json`), so they carry only plain values.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Kinds every endpoint uses; services add their own (e.g. "smtp-message",
# "http-request", "pop3-command", "dns-query", "tls-handshake").
CONNECT = "connect"      # a TCP connection was accepted
CLOSE = "close"          # a TCP connection ended; nbytes/sha256 cover all it received
DATAGRAM = "datagram"    # a UDP datagram arrived; nbytes/sha256 cover it


@dataclass(frozen=True)
class JournalEvent:
    seq: int
    time: float
    endpoint: str            # service kind or "canary"
    role: str                # "service" or "canary"
    proto: str               # "tcp" or "udp"
    kind: str
    dst: tuple[str, int]     # the address and port the client dialled
    peer: tuple[str, int]
    nbytes: int = 0
    sha256: str = ""
    detail: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq, "time": self.time, "endpoint": self.endpoint, "role": self.role,
            "proto": self.proto, "kind": self.kind, "dst": list(self.dst),
            "peer": list(self.peer), "nbytes": self.nbytes, "sha256": self.sha256,
            "detail": dict(self.detail),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> JournalEvent:
        return cls(
            seq=int(data["seq"]), time=float(data["time"]), endpoint=str(data["endpoint"]),
            role=str(data["role"]), proto=str(data["proto"]), kind=str(data["kind"]),
            dst=(str(data["dst"][0]), int(data["dst"][1])),
            peer=(str(data["peer"][0]), int(data["peer"][1])),
            nbytes=int(data.get("nbytes", 0)), sha256=str(data.get("sha256", "")),
            detail=dict(data.get("detail", {})),
        )

    def reached(self, address: str, port: int | None = None, proto: str | None = None) -> bool:
        """Whether this event is traffic that arrived at `address` (and `port`, `proto`)."""
        return (
            self.dst[0] == address
            and (port is None or self.dst[1] == port)
            and (proto is None or self.proto == proto)
        )


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Journal:
    """An append-only, thread-safe event log with marks."""

    def __init__(self) -> None:
        self._events: list[JournalEvent] = []
        self._lock = threading.Lock()
        self._seq = itertools.count(1)

    def record(
        self, *, endpoint: str, role: str, proto: str, kind: str,
        dst: tuple[str, int], peer: tuple[str, int], data: bytes | None = None,
        nbytes: int | None = None, sha256: str = "", detail: Mapping[str, Any] | None = None,
    ) -> JournalEvent:
        if data is not None:
            nbytes, sha256 = len(data), digest(data)
        with self._lock:
            event = JournalEvent(
                seq=next(self._seq), time=time.time(), endpoint=endpoint, role=role,
                proto=proto, kind=kind, dst=(dst[0], int(dst[1])), peer=(peer[0], int(peer[1])),
                nbytes=nbytes or 0, sha256=sha256, detail=dict(detail or {}),
            )
            self._events.append(event)
        return event

    def mark(self) -> int:
        """The seq of the last event so far; `since(mark)` returns what comes after."""
        with self._lock:
            return self._events[-1].seq if self._events else 0

    def since(self, mark: int) -> list[JournalEvent]:
        with self._lock:
            return [e for e in self._events if e.seq > mark]
