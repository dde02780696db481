"""Starter for POP3 over implicit TLS (kind `pop3s`): fakenet/protocols/pop3.py on tcpserver."""

from __future__ import annotations

from fakenet.protocols.pop3 import Pop3Server
from fakenet.service import Closable, ServiceContext, ServiceStarter
from fakenet.tcpserver import serve_tcp
from fakenet.world import Binding


async def start_pop3(ctx: ServiceContext, binding: Binding) -> Closable:
    return await serve_tcp(ctx, binding, lambda: Pop3Server(ctx.world, binding))


STARTERS: dict[str, ServiceStarter] = {"pop3s": start_pop3}
