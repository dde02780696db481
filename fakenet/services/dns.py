"""Starter for service kind `dns`: the world resolver on one address, UDP or TCP.

Every DNS binding of a world shares one WorldResolver, so the rebinding
sequence (DST-8) is one sequence whichever server address a query goes to;
`reset()` on the returned endpoint starts it over at each journal mark.
"""

from __future__ import annotations

import weakref

from fakenet.dns import DNSOverTCP, WorldResolver, datagram_handler
from fakenet.journal import Journal
from fakenet.service import ServiceContext
from fakenet.tcpserver import TCPListener, UDPEndpoint, serve_tcp, serve_udp
from fakenet.world import Binding

_resolvers: weakref.WeakKeyDictionary[Journal, WorldResolver] = weakref.WeakKeyDictionary()


def resolver_for(ctx: ServiceContext) -> WorldResolver:
    """The one resolver of the world this context belongs to."""
    resolver = _resolvers.get(ctx.journal)
    if resolver is None:
        resolver = _resolvers[ctx.journal] = WorldResolver(ctx.world)
    return resolver


class DNSEndpoint:
    """A served DNS socket that also resets the shared resolver at every mark."""

    def __init__(self, inner: TCPListener | UDPEndpoint, resolver: WorldResolver) -> None:
        self.inner, self.resolver = inner, resolver

    def reset(self) -> None:
        self.resolver.reset()

    async def close(self) -> None:
        await self.inner.close()


async def start_dns(ctx: ServiceContext, binding: Binding) -> DNSEndpoint:
    resolver = resolver_for(ctx)
    inner: TCPListener | UDPEndpoint
    if binding.listen.proto == "udp":
        inner = await serve_udp(ctx, binding, datagram_handler(resolver))
    else:
        inner = await serve_tcp(ctx, binding, lambda: DNSOverTCP(resolver))
    return DNSEndpoint(inner, resolver)


STARTERS = {"dns": start_dns}
