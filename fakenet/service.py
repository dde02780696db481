"""The seam between the world runtime and its services.

A service kind (a name in world.toml's [service.*]) is served by a starter:
an async callable that binds one Binding (host, kind, address, listen) and
returns something with an async `close()`. fakenet/services/__init__.py maps
kind names to starters; the runtime starts one per binding, specific
addresses first, canaries last (wildcard sockets share ports with specific
ones through SO_REUSEADDR + SO_REUSEPORT, and the specific one wins).
"""

from __future__ import annotations

import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from fakenet.journal import Journal
from fakenet.world import Binding, World


class TLSProvider(Protocol):
    def server_context(self, names: tuple[str, ...]) -> ssl.SSLContext:
        """A server context whose certificate names `names` (DNS names or IPs)."""
        ...


class Closable(Protocol):
    async def close(self) -> None: ...


@dataclass(frozen=True)
class ServiceContext:
    world: World
    journal: Journal
    tls: TLSProvider


ServiceStarter = Callable[[ServiceContext, Binding], Awaitable[Closable]]
