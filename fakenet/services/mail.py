"""SMTP submission (kind `smtp-submission`, 587, STARTTLS) and SMTPS (kind `smtps`, 465).

aiosmtpd speaks SMTP; this module only binds it into the world. It runs on
the world's own asyncio loop (aiosmtpd's Controller would start a thread,
which a namespace-holding process must not have), on sockets from
tcpserver.bind_socket, and journals like tcpserver does: `connect`,
`tls-handshake` (with SNI), `close` (byte count and SHA-256 of the plaintext
received), plus `mail-login` per AUTH attempt and `smtp-message` per
accepted message (envelope in detail, the message bytes as the digest).

Policy, as clauses LIB-1, LIB-2 and P25-2 expect of a real provider:
submission requires STARTTLS before anything else and AUTH before MAIL;
SMTPS requires AUTH. AUTH PLAIN and LOGIN are checked against world.toml
accounts for this host and kind; a bad password gets 535.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import socket
import ssl
import warnings
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session, TLSSetupException

from fakenet.journal import CLOSE, CONNECT, Journal
from fakenet.protocols.accounts import authenticate
from fakenet.service import Closable, ServiceContext, ServiceStarter
from fakenet.tcpserver import (
    BACKLOG,
    address_pair,
    bind_socket,
    handshake_detail,
    record_sni,
    track,
    untrack,
)
from fakenet.tls import certificate_names
from fakenet.world import Binding, World

HANDSHAKE_TIMEOUT = 10.0


class ConnectionRecord:
    """The journal entries of one SMTP connection, tcpserver-style."""

    def __init__(self, journal: Journal, endpoint: str, transport: asyncio.BaseTransport) -> None:
        self.journal, self.endpoint = journal, endpoint
        self.dst = address_pair(transport.get_extra_info("sockname"))
        self.peer = address_pair(transport.get_extra_info("peername"))
        self.sock = transport.get_extra_info("socket")
        self.hasher = hashlib.sha256()
        self.nbytes = 0
        self.closed = False
        track(self.sock)
        self.note(CONNECT)

    def note(self, kind: str, detail: dict[str, Any] | None = None, data: bytes | None = None,
             **extra: Any) -> None:
        self.journal.record(endpoint=self.endpoint, role="service", proto="tcp", kind=kind,
                            dst=self.dst, peer=self.peer, data=data, detail=detail, **extra)

    def received(self, data: bytes) -> None:
        self.hasher.update(data)
        self.nbytes += len(data)

    def handshake(self, transport: asyncio.BaseTransport | None, error: str | None) -> None:
        if error is not None or transport is None:
            self.note("tls-handshake", {"ok": False, "error": error or "no transport"})
            return
        self.note("tls-handshake", handshake_detail(transport.get_extra_info("ssl_object")))

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            untrack(self.sock)
            self.note(CLOSE, nbytes=self.nbytes, sha256=self.hasher.hexdigest())


class JournalledSMTP(SMTP):
    """aiosmtpd's SMTP, counting what arrives and journalling connect, TLS and close."""

    def __init__(self, handler: MailHandler, record: ConnectionRecord | None = None,
                 **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.record = record
        self.mail_handler = handler

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        starttls_done = self._original_transport is not None and self.transport is not None
        if self.record is None:
            self.record = ConnectionRecord(self.mail_handler.journal,
                                           self.mail_handler.endpoint, transport)
        elif starttls_done:
            self.record.handshake(transport, None)
        super().connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self.record is not None:
            self.record.received(data)
        super().data_received(data)

    async def handle_exception(self, error: Exception) -> str:
        """A client that aborts STARTTLS is traffic, not a fault of the world: its
        failed handshake is journalled (connection_lost), with no traceback in the
        world's log. Anything else is still logged by aiosmtpd."""
        if isinstance(error, TLSSetupException):
            return "454 4.7.0 TLS not available"
        return await super().handle_exception(error)

    def connection_lost(self, error: Exception | None) -> None:
        if self.session is None:
            # an implicit-TLS handshake failed before SMTP began; the front journalled it
            if self.record is not None:
                self.record.close()
            return
        if self.record is not None:
            if self._original_transport is not None and self.session is not None \
                    and self.session.ssl is None:
                self.record.handshake(None, f"STARTTLS did not complete: {error!r}")
            self.record.close()
        super().connection_lost(error)


class MailHandler:
    """aiosmtpd handler and authenticator for one binding."""

    def __init__(self, world: World, journal: Journal, binding: Binding) -> None:
        self.world, self.journal, self.binding = world, journal, binding
        self.endpoint = binding.kind.name

    def authenticator(self, server: JournalledSMTP, session: Session, envelope: Envelope,
                      mechanism: str, auth_data: Any) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user = auth_data.login.decode("utf-8", "replace")
        password = auth_data.password.decode("utf-8", "replace")
        account = authenticate(self.world, self.binding, user, password)
        if server.record is not None:
            server.record.note("mail-login", {"protocol": "smtp", "user": user,
                                              "mechanism": mechanism, "ok": account is not None})
        return AuthResult(success=account is not None, handled=False, auth_data=auth_data)

    async def handle_DATA(self, server: JournalledSMTP, session: Session,
                          envelope: Envelope) -> str:
        content = envelope.original_content or b""
        login = session.auth_data.login if isinstance(session.auth_data, LoginPassword) else b""
        if server.record is not None:
            server.record.note("smtp-message", {
                "mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos),
                "user": login.decode("utf-8", "replace"), "tls": session.ssl is not None,
            }, content)
        digest = hashlib.sha256(content).hexdigest()
        return f"250 2.0.0 accepted {len(content)} {digest}"


class ImplicitTLSFront(asyncio.Protocol):
    """Journals the accept, does the TLS handshake, then hands the connection to SMTP."""

    def __init__(self, handler: MailHandler, context: ssl.SSLContext,
                 smtp: dict[str, Any]) -> None:
        self.handler, self.context, self.smtp = handler, context, smtp

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        record = ConnectionRecord(self.handler.journal, self.handler.endpoint, transport)
        asyncio.get_running_loop().create_task(self.upgrade(transport, record))

    async def upgrade(self, transport: Any, record: ConnectionRecord) -> None:
        loop = asyncio.get_running_loop()
        server = JournalledSMTP(self.handler, record, loop=loop, **self.smtp)
        try:
            tls = await loop.start_tls(transport, server, self.context, server_side=True,
                                       ssl_handshake_timeout=HANDSHAKE_TIMEOUT)
        except (OSError, ssl.SSLError, TimeoutError, ConnectionError) as exc:
            record.handshake(None, f"{type(exc).__name__}: {exc}")
            record.close()
            transport.abort()
            return
        if tls is None:
            record.close()
            return
        record.handshake(tls, None)
        server.connection_made(tls)


class SMTPListener:
    """One listening socket serving aiosmtpd; `close()` stops it."""

    def __init__(self, server: asyncio.Server, sock: socket.socket) -> None:
        self.server, self.sock = server, sock
        track(sock)

    async def close(self) -> None:
        untrack(self.sock)
        self.server.close()


def quiet_aiosmtpd() -> None:
    """Silence aiosmtpd's by-design warnings, so the world's stderr shows only real trouble.

    It warns on every SMTPS connection that AUTH is allowed without STARTTLS
    (the whole session is TLS) and on every login about its own deprecated
    `Session.login_data`, which it sets itself.
    """
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS",
                            category=UserWarning)


async def start_smtp(ctx: ServiceContext, binding: Binding) -> Closable:
    quiet_aiosmtpd()
    loop = asyncio.get_running_loop()
    handler = MailHandler(ctx.world, ctx.journal, binding)
    context = record_sni(ctx.tls.server_context(certificate_names(binding)))
    hostname = binding.host.names[0] if binding.host.names else binding.address
    common: dict[str, Any] = {
        "hostname": hostname, "ident": "fakenet ESMTP", "auth_required": True,
        "authenticator": handler.authenticator,
    }
    sock = bind_socket(binding.address, binding.listen.port, socket.SOCK_STREAM)
    # aiosmtpd writes each reply line on its own (EHLO has several); with Nagle and the
    # client's delayed ACK that costs ~40 ms a time (a session: 100 ms -> 12 ms with this).
    # Accepted sockets inherit the option from the listener.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if binding.kind.tls == "implicit":
        smtps = {**common, "auth_require_tls": False}
        server = await loop.create_server(
            lambda: ImplicitTLSFront(handler, context, smtps), sock=sock, backlog=BACKLOG)
    else:
        submission = {**common, "tls_context": context, "require_starttls": True,
                      "auth_require_tls": True}
        server = await loop.create_server(
            lambda: JournalledSMTP(handler, loop=loop, **submission), sock=sock,
            backlog=BACKLOG)
    return SMTPListener(server, sock)


STARTERS: dict[str, ServiceStarter] = {"smtp-submission": start_smtp, "smtps": start_smtp}
