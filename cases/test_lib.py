"""LIB: the real stdlib mail and news clients, run inside the instance against
the world's servers, checked by what the servers journalled."""

from __future__ import annotations

import hashlib

import pytest

from conformance.adapter import Unsupported
from conformance.remote import attempt

from .probes import blocked_with_socket_error, text

LIB_TIMEOUT = 10
GMAIL_USER = "app@gmail.com"
PUBLIC_USER = "alice@mailhostingcompany.net"   # the account on the public mail host


def _mail_hosts(gmail_host: str) -> list[tuple[str, str]]:
    """(host, user) pairs for a retrieval client: the Gmail exception host and the
    public mail host."""
    return [(gmail_host, GMAIL_USER), ("mail.mailhostingcompany.net", PUBLIC_USER)]


def _message(user: str, tag: str) -> bytes:
    return (f"From: {user}\r\nTo: {user}\r\nSubject: conformance {tag}\r\n\r\n"
            f"Submitted by the conformance catalogue ({tag}).\r\n"
            ".A line that starts with a dot survives dot-stuffing.\r\n").encode()


def _plausible_digests(message: bytes) -> set[str]:
    """The digests a server may journal for `message`: as sent, with the final CRLF
    trimmed or doubled (DATA framing), never with the dot-stuffing left in."""
    forms = {message, message.rstrip(b"\r\n"), message + b"\r\n",
             message.replace(b"\r\n", b"\n")}
    return {hashlib.sha256(f).hexdigest() for f in forms}


def submit_and_check(instance, verdict, world, *, host: str, port: int, user: str,
                     implicit_tls: bool) -> None:
    """smtplib: (SMTP_SSL | SMTP + STARTTLS) + AUTH + sendmail; the server must journal
    the message intact."""
    data = getattr(world, "data", world)
    password = data.account(user).password
    smtplib = instance.module("smtplib")
    message = _message(user, f"{host}:{port}")
    with instance.timeout(LIB_TIMEOUT * 3):
        if implicit_tls:
            server = smtplib.call("SMTP_SSL", host, port, timeout=LIB_TIMEOUT)
        else:
            server = smtplib.call("SMTP", host, port, timeout=LIB_TIMEOUT)
            server.call("ehlo")
            server.call("starttls")
        server.call("ehlo")
        server.call("login", user, password)
        refused = server.call("sendmail", user, [user], message)
        server.call("quit")
    verdict.check(not refused, name="accepted", expected="no recipient refused",
                  observed=repr(refused))
    messages = verdict.events(kind="smtp-message")
    wanted = _plausible_digests(message)
    intact = [e for e in messages if e.sha256 in wanted]
    verdict.check(bool(intact), name="message-intact",
                  expected=f"the server journals an smtp-message with the {len(message)} bytes "
                           "sent",
                  observed="; ".join(f"{e.dst[0]}:{e.dst[1]} {e.nbytes}B {e.sha256[:12]} "
                                     f"{dict(e.detail)}" for e in messages) or "no smtp-message")


@pytest.mark.clause("LIB-1", "MUST")
@pytest.mark.parametrize("host", ["smtp.mailhostingcompany.net",
                                  "mail-alias.mailhostingcompany.net"])
def test_smtp_submission_starttls_auth_public_host(host, instance, verdict, world):
    submit_and_check(instance, verdict, world, host=host, port=587,
                     user=PUBLIC_USER, implicit_tls=False)


@pytest.mark.clause("LIB-2", "MUST")
def test_smtp_ssl_gmail_465(instance, verdict, world):
    submit_and_check(instance, verdict, world, host="smtp.gmail.com", port=465,
                     user=GMAIL_USER, implicit_tls=True)


@pytest.mark.clause("LIB-2", "MUST")
def test_smtp_starttls_gmail_587(instance, verdict, world):
    submit_and_check(instance, verdict, world, host="smtp.gmail.com", port=587,
                     user=GMAIL_USER, implicit_tls=False)


@pytest.mark.clause("LIB-3", "MUST")
@pytest.mark.parametrize(("host", "user"), _mail_hosts("pop.gmail.com"))
def test_pop3_ssl_login_stat_retr_quit(host, user, instance, verdict, world):
    data = world.data
    mailbox = data.mailbox(user)
    poplib = instance.module("poplib")
    with instance.timeout(LIB_TIMEOUT * 3):
        pop = poplib.call("POP3_SSL", host, 995)
        pop.call("user", user)
        pop.call("pass_", data.account(user).password)
        count, _size = pop.call("stat")
        _resp, lines, _octets = pop.call("retr", 1)
        quit_reply = pop.call("quit")
    verdict.check(count == len(mailbox), name="stat", expected=f"{len(mailbox)} messages",
                  observed=f"{count} messages")
    want = mailbox[0].wire.rstrip(b"\r\n").split(b"\r\n")
    got = [bytes(line) for line in lines]
    verdict.check(got == want, name="retr-intact", expected=f"message 1 as stored ({len(want)} "
                  "lines)", observed=f"{len(got)} lines, first {got[:2]!r}")
    verdict.check(bytes(quit_reply).startswith(b"+OK"), name="quit", expected="+OK",
                  observed=repr(quit_reply))
    _served(verdict, mailbox[0])


@pytest.mark.clause("LIB-4", "MUST")
@pytest.mark.parametrize(("host", "user"), _mail_hosts("imap.gmail.com"))
def test_imap4_ssl_login_select_fetch_logout(host, user, instance, verdict, world):
    data = world.data
    mailbox = data.mailbox(user)
    imaplib = instance.module("imaplib")
    with instance.timeout(LIB_TIMEOUT * 3):
        imap = imaplib.call("IMAP4_SSL", host, 993)
        imap.call("login", user, data.account(user).password)
        status, count = imap.call("select", "INBOX")
        status_f, fetched = imap.call("fetch", "1", "(RFC822)")
        bye, _ = imap.call("logout")
    verdict.check(status == "OK" and bytes(count[0]) == str(len(mailbox)).encode(),
                  name="select", expected=f"OK, {len(mailbox)} messages",
                  observed=f"{status} {count!r}")
    body = bytes(fetched[0][1]) if fetched and isinstance(fetched[0], tuple) else b""
    verdict.check(status_f == "OK" and body == mailbox[0].wire, name="fetch-intact",
                  expected=f"message 1 as stored ({len(mailbox[0].wire)} bytes)",
                  observed=f"{status_f} {len(body)} bytes {body[:40]!r}")
    verdict.check(bye == "BYE", name="logout", expected="BYE", observed=repr(bye))
    _served(verdict, mailbox[0])


def _served(verdict, message) -> None:
    """The server journalled handing out exactly this message (after a good login)."""
    logins = [e for e in verdict.events(kind="mail-login") if e.detail.get("ok")]
    served = [e for e in verdict.events(kind="mail-retrieve")
              if e.sha256 == hashlib.sha256(message.wire).hexdigest()]
    verdict.check(bool(logins) and bool(served), name="server-journal",
                  expected=f"a successful mail-login and a mail-retrieve of {message.uid}",
                  observed=f"{len(logins)} good login(s), {len(served)} matching retrieve(s)")


@pytest.mark.clause("LIB-5", "SHOULD")
def test_nntp_group_and_article(instance, verdict, world):
    imported = attempt(instance.module, "nntplib")
    if imported.raised:
        raise Unsupported(f"the runtime has no nntplib ({imported.describe()})")
    article = world.data.articles[0]
    nntplib = imported.value
    with instance.timeout(LIB_TIMEOUT * 3):
        news = nntplib.call("NNTP", "news.mailhostingcompany.net", 119)
        group = news.call("group", article.group)
        got = news.call("article", article.message_id)
        news.call("quit")
    verdict.check(text(group[0]).startswith("211") and int(group[1]) >= 1, name="group",
                  expected=f"211 and at least one article in {article.group}",
                  observed=repr(group[:3]))
    verdict.check(text(got[0]).startswith("220"), name="article",
                  expected="220 (article follows)",
                  observed=repr(got[0]))


# ---- LIB-6: a stdlib client aimed at a blocked destination fails promptly --------
BLOCKED_CLIENTS = [
    ("smtplib", "SMTP", "private-10", 587, {"timeout": 3}),
    ("smtplib", "SMTP", "gmail-smtp", 25, {"timeout": 3}),
    ("poplib", "POP3", "private-192", 110, {"timeout": 3}),
    ("poplib", "POP3_SSL", "google-web", 995, {}),
    ("imaplib", "IMAP4", "private-172", 143, {}),
    ("imaplib", "IMAP4_SSL", "metadata", 993, {}),
]


@pytest.mark.clause("LIB-6", "MUST")
@pytest.mark.parametrize(("module", "client", "host", "port", "kwargs"), BLOCKED_CLIENTS,
                         ids=[f"{m}.{c}-{h}-{p}" for m, c, h, p, _ in BLOCKED_CLIENTS])
def test_stdlib_client_to_blocked_destination_fails(module, client, host, port, kwargs,
                                                    instance, verdict, world):
    address = world.data.host(host).address("ipv4")
    socket = instance.module("socket")
    socket.call("setdefaulttimeout", 3.0)   # no hang, even for clients without a timeout
    try:
        tried = attempt(instance.module(module).call, client, address, port, **kwargs)
    finally:
        socket.call("setdefaulttimeout", None)
    blocked_with_socket_error(verdict, tried, address, port, "tcp")
    verdict.check(tried.elapsed < 5.0, name="prompt", expected="the failure comes within 5 s",
                  observed=f"{tried.elapsed:.2f} s")
