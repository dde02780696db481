"""Starters for the web servers: kinds `http`, `https` and `https-wronghost`.

All three run fakenet/protocols/http.py on tcpserver; TLS and the names on
the certificate come from the kind (tcpserver asks fakenet.tls for the
host's names, or the kind's `certificate_names` override, which is what
makes `https-wronghost` fail verification for clause SSL-2).
"""

from __future__ import annotations

from fakenet.protocols.http import HttpServer
from fakenet.service import Closable, ServiceContext, ServiceStarter
from fakenet.tcpserver import serve_tcp
from fakenet.world import Binding


async def start_web(ctx: ServiceContext, binding: Binding) -> Closable:
    return await serve_tcp(ctx, binding, lambda: HttpServer(ctx.world, binding))


STARTERS: dict[str, ServiceStarter] = {
    "http": start_web, "https": start_web, "https-wronghost": start_web,
}
