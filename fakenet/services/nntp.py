"""Starter for the NNTP reader (kind `nntp`): fakenet/protocols/nntp.py on tcpserver."""

from __future__ import annotations

from fakenet.protocols.nntp import NntpServer
from fakenet.service import Closable, ServiceContext, ServiceStarter
from fakenet.tcpserver import serve_tcp
from fakenet.world import Binding


async def start_nntp(ctx: ServiceContext, binding: Binding) -> Closable:
    return await serve_tcp(ctx, binding, lambda: NntpServer(ctx.world, binding))


STARTERS: dict[str, ServiceStarter] = {"nntp": start_nntp}
