"""The sans-IO contract every fake server speaks: bytes in, actions out.

A protocol object never touches a socket. Its I/O layer (fakenet/tcpserver.py)
feeds it bytes and carries out the actions it returns, in order. This keeps
each protocol testable with plain byte strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Send:
    """Write these bytes to the peer."""

    data: bytes


@dataclass(frozen=True)
class StartTLS:
    """Upgrade the connection to TLS now (after the Sends before it are flushed)."""


@dataclass(frozen=True)
class Close:
    """Close the connection after flushing what was sent."""


@dataclass(frozen=True)
class Note:
    """Journal an application-level event, e.g. kind="smtp-message"."""

    kind: str
    detail: Mapping[str, Any] = field(default_factory=dict, hash=False)
    data: bytes | None = None  # if given, its length and sha256 are journalled


Action = Send | StartTLS | Close | Note


class ServerProtocol(Protocol):
    """One server side of one connection."""

    def connection_made(self) -> list[Action]:
        """Actions on accept, typically the greeting."""
        ...

    def data_received(self, data: bytes) -> list[Action]:
        ...

    def eof_received(self) -> list[Action]:
        ...
