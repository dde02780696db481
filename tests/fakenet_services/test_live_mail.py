"""SMTP submission, SMTPS, POP3S and IMAPS in the world, driven by the stdlib clients.

Each client runs inside the world's namespace and verifies certificates
against the world CA (SSL_CERT_FILE); the journal is the evidence.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from fakenet.world import load_world

pytestmark = pytest.mark.world

WORLD = load_world()
MESSAGE = "From: app@example\r\nSubject: conformance\r\n\r\nhello\r\n.dotted line\r\n"


def kinds(events, endpoint):
    return [e.kind for e in events if e.endpoint == endpoint]


@pytest.mark.parametrize("host,user,password", [
    ("smtp.gmail.com", "app@gmail.com", "gmail-app-password"),
    ("smtp.mailhostingcompany.net", "alice@mailhostingcompany.net",
     "correct horse battery staple"),
    ("142.250.102.108", "app@gmail.com", "gmail-app-password"),
])
def test_submission_starttls_login_sendmail(inside, host, user, password) -> None:
    result = inside(f"""
        import json, smtplib, ssl
        s = smtplib.SMTP({host!r}, 587, timeout=10)
        s.ehlo()
        before = s.has_extn("auth")
        s.starttls(context=ssl.create_default_context())
        s.ehlo()
        after = s.esmtp_features.get("auth", "").strip()
        s.login({user!r}, {password!r})
        refused = s.sendmail({user!r}, ["rcpt@example.net"], {MESSAGE!r})
        s.quit()
        print(json.dumps({{"before": before, "after": after, "refused": refused}}))
    """)
    assert result == {"before": False, "after": "LOGIN PLAIN", "refused": {}}
    events = inside.events()
    assert kinds(events, "smtp-submission") == [
        "connect", "tls-handshake", "mail-login", "smtp-message", "close"]
    handshake, message = (next(e for e in events if e.kind == k)
                          for k in ("tls-handshake", "smtp-message"))
    assert handshake.detail["ok"] is True
    if not host[0].isdigit():
        assert handshake.detail["sni"] == host
    assert message.detail["mail_from"] == user and message.detail["rcpt_tos"] == [
        "rcpt@example.net"]
    assert message.detail["user"] == user and message.detail["tls"] is True
    assert message.sha256 == hashlib.sha256(MESSAGE.encode()).hexdigest()
    assert message.nbytes == len(MESSAGE)


def test_submission_requires_starttls_and_checks_password(inside) -> None:
    result = inside("""
        import json, smtplib, ssl
        out = {}
        s = smtplib.SMTP("smtp.mailhostingcompany.net", 587, timeout=10)
        s.ehlo()
        out["mail_plain"] = s.docmd("MAIL FROM:<a@example.net>")[0]
        out["auth_plain"] = s.docmd("AUTH PLAIN AGFAYgBj")[0]
        s.starttls(context=ssl.create_default_context())
        s.ehlo()
        out["mail_unauth"] = s.docmd("MAIL FROM:<a@example.net>")[0]
        try:
            s.login("alice@mailhostingcompany.net", "wrong")
        except smtplib.SMTPAuthenticationError as exc:
            out["bad_password"] = exc.smtp_code
        s.close()
        s = smtplib.SMTP("smtp.gmail.com", 587, timeout=10)
        s.starttls(context=ssl.create_default_context())
        # the public host's account is not valid at Gmail
        try:
            s.login("alice@mailhostingcompany.net", "correct horse battery staple")
        except smtplib.SMTPAuthenticationError as exc:
            out["wrong_host"] = exc.smtp_code
        s.close()
        print(json.dumps(out))
    """)
    assert result == {"mail_plain": 530, "auth_plain": 530, "mail_unauth": 530,
                      "bad_password": 535, "wrong_host": 535}
    logins = [e.detail for e in inside.events() if e.kind == "mail-login"]
    # smtplib tries each offered mechanism in turn: both are checked and refused
    assert [(d["mechanism"], d["ok"]) for d in logins] == [("PLAIN", False), ("LOGIN", False)] * 2
    assert not [e for e in inside.events() if e.kind == "smtp-message"]


def test_smtps_login_sendmail_and_bad_password(inside) -> None:
    result = inside(f"""
        import json, smtplib, ssl
        s = smtplib.SMTP_SSL("smtp.gmail.com", 465, timeout=10,
                             context=ssl.create_default_context())
        s.login("app@gmail.com", "gmail-app-password")
        refused = s.sendmail("app@gmail.com", ["a@example.net", "b@example.net"], {MESSAGE!r})
        s.quit()
        s = smtplib.SMTP_SSL("smtp.gmail.com", 465, timeout=10,
                             context=ssl.create_default_context())
        s.ehlo()
        mechanisms = s.esmtp_features.get("auth", "").strip()
        try:
            s.login("app@gmail.com", "not-the-password")
            code = 0
        except smtplib.SMTPAuthenticationError as exc:
            code = exc.smtp_code
        s.close()
        print(json.dumps({{"refused": refused, "bad": code, "mechanisms": mechanisms}}))
    """)
    assert result == {"refused": {}, "bad": 535, "mechanisms": "LOGIN PLAIN"}
    events = inside.events()
    message = next(e for e in events if e.kind == "smtp-message")
    assert message.endpoint == "smtps" and message.dst[1] == 465
    assert message.detail["rcpt_tos"] == ["a@example.net", "b@example.net"]
    assert message.sha256 == hashlib.sha256(MESSAGE.encode()).hexdigest()
    handshakes = [e.detail for e in events if e.kind == "tls-handshake"]
    assert [h["sni"] for h in handshakes] == ["smtp.gmail.com"] * 2
    assert kinds(events, "smtps").count("close") == 2


def test_smtps_handshake_failure_is_journalled(inside) -> None:
    result = inside("""
        import json, socket
        s = socket.create_connection(("smtp.gmail.com", 465), timeout=10)
        s.sendall(b"EHLO plain-text-on-an-implicit-tls-port\\r\\n")
        try:
            data = s.recv(100)
        except OSError as exc:
            data = repr(exc).encode()
        print(json.dumps({"reply": data.decode("latin-1")}))
    """)
    assert "EHLO" not in result["reply"]
    events = [e for e in inside.events() if e.endpoint == "smtps"]
    assert [e.kind for e in events] == ["connect", "tls-handshake", "close"]
    assert events[1].detail["ok"] is False


def test_aborted_starttls_is_journalled_without_a_traceback(inside) -> None:
    """A client that sends garbage instead of a TLS handshake after STARTTLS: the
    failure is journalled, and the world's log stays free of tracebacks."""
    log = Path(inside.world.log_path)
    logged = log.stat().st_size if log.exists() else 0
    result = inside("""
        import json, socket
        s = socket.create_connection(("smtp.gmail.com", 587), timeout=10)
        f = s.makefile("rb")
        f.readline()
        s.sendall(b"EHLO client\\r\\n")
        while f.readline()[3:4] == b"-":
            pass
        s.sendall(b"STARTTLS\\r\\n")
        ready = f.readline()
        s.sendall(b"\\x16\\x03\\x01\\x00\\x05hello")
        s.shutdown(socket.SHUT_WR)
        try:
            rest = s.recv(100)
        except OSError as exc:
            rest = repr(exc).encode()
        s.close()
        print(json.dumps({"ready": ready.decode("latin-1"), "rest": rest.decode("latin-1")}))
    """)
    assert result["ready"].startswith("220"), result
    events = [e for e in inside.events() if e.endpoint == "smtp-submission"]
    assert [e.kind for e in events][-2:] == ["tls-handshake", "close"], events
    assert events[-2].detail["ok"] is False
    with log.open("rb") as handle:
        handle.seek(logged)
        new = handle.read().decode("utf-8", "replace")
    assert "Traceback" not in new and "exception" not in new, new


@pytest.mark.parametrize("host,user,password", [
    ("pop.gmail.com", "app@gmail.com", "gmail-app-password"),
    ("mail.mailhostingcompany.net", "alice@mailhostingcompany.net",
     "correct horse battery staple"),
    ("142.250.102.109", "app@gmail.com", "gmail-app-password"),
])
def test_pop3_ssl(inside, host, user, password) -> None:
    result = inside(f"""
        import json, poplib, ssl
        p = poplib.POP3_SSL({host!r}, 995, timeout=10, context=ssl.create_default_context())
        capa = sorted(p.capa())
        p.user({user!r})
        p.pass_({password!r})
        count, size = p.stat()
        uids = [line.decode() for line in p.uidl()[1]]
        messages = [b"\\r\\n".join(p.retr(i + 1)[1]).decode() + "\\r\\n" for i in range(count)]
        p.dele(1)
        p.quit()
        print(json.dumps({{"capa": capa, "stat": [count, size], "uids": uids,
                          "messages": messages}}))
    """)
    mailbox = WORLD.mailbox(user)
    assert result["stat"] == [len(mailbox), sum(len(m.wire) for m in mailbox)]
    assert result["uids"] == [f"{i} {m.uid}" for i, m in enumerate(mailbox, 1)]
    assert [m.encode() for m in result["messages"]] == [m.wire for m in mailbox]
    assert "UIDL" in result["capa"] and "USER" in result["capa"]
    retrieved = [e for e in inside.events() if e.kind == "mail-retrieve"]
    assert [e.detail["uid"] for e in retrieved] == [m.uid for m in mailbox]
    handshake = next(e for e in inside.events() if e.kind == "tls-handshake")
    # clients send no SNI for an address; the certificate names the address instead
    assert handshake.detail["sni"] == (None if host[0].isdigit() else host)


def test_pop3_bad_password(inside) -> None:
    result = inside("""
        import json, poplib
        p = poplib.POP3_SSL("pop.gmail.com", 995, timeout=10)
        p.user("app@gmail.com")
        try:
            p.pass_("wrong")
            reply = "accepted"
        except poplib.error_proto as exc:
            reply = exc.args[0].decode()
        print(json.dumps(reply))
    """)
    assert result.startswith("-ERR [AUTH]")


@pytest.mark.parametrize("host,user,password", [
    ("imap.gmail.com", "app@gmail.com", "gmail-app-password"),
    ("mail.mailhostingcompany.net", "alice@mailhostingcompany.net",
     "correct horse battery staple"),
    ("93.184.215.14", "alice@mailhostingcompany.net", "correct horse battery staple"),
])
def test_imap4_ssl(inside, host, user, password) -> None:
    result = inside(f"""
        import json, imaplib, ssl
        m = imaplib.IMAP4_SSL({host!r}, 993, ssl_context=ssl.create_default_context(),
                              timeout=10)
        m.login({user!r}, {password!r})
        typ, count = m.select("INBOX")
        typ, found = m.search(None, "ALL")
        numbers = found[0].split()
        rfc822 = [m.fetch(n, "(RFC822)")[1][0][1].decode() for n in numbers]
        body = [m.fetch(n, "(BODY[])")[1][0][1].decode() for n in numbers]
        typ, uid = m.uid("FETCH", numbers[-1], "(RFC822.SIZE)")
        m.close()
        bye = m.logout()[0]
        print(json.dumps({{"count": count[0].decode(), "rfc822": rfc822, "body": body,
                          "uid": uid[0].decode(), "bye": bye}}))
    """)
    mailbox = WORLD.mailbox(user)
    assert result["count"] == str(len(mailbox))
    assert [m.encode() for m in result["rfc822"]] == [m.wire for m in mailbox]
    assert result["body"] == result["rfc822"]
    assert result["uid"].startswith(f"{len(mailbox)} (UID {len(mailbox)} RFC822.SIZE ")
    assert result["bye"] == "BYE"
    logins = [e.detail for e in inside.events() if e.kind == "mail-login"]
    assert logins == [{"protocol": "imap", "user": user, "ok": True}]


def test_imap_bad_password(inside) -> None:
    result = inside("""
        import json, imaplib
        m = imaplib.IMAP4_SSL("imap.gmail.com", 993, timeout=10)
        try:
            m.login("app@gmail.com", "wrong")
            reply = "accepted"
        except imaplib.IMAP4.error as exc:
            reply = str(exc)
        print(json.dumps(reply))
    """)
    assert "AUTHENTICATIONFAILED" in result
