"""Starter for IMAP4 over implicit TLS (kind `imaps`): fakenet/protocols/imap.py on tcpserver."""

from __future__ import annotations

from fakenet.protocols.imap import ImapServer
from fakenet.service import Closable, ServiceContext, ServiceStarter
from fakenet.tcpserver import serve_tcp
from fakenet.world import Binding


async def start_imap(ctx: ServiceContext, binding: Binding) -> Closable:
    return await serve_tcp(ctx, binding, lambda: ImapServer(ctx.world, binding))


STARTERS: dict[str, ServiceStarter] = {"imaps": start_imap}
