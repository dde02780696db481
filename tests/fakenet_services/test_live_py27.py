"""The same services through Python 2.7's stdlib clients (App Engine's legacy runtime).

Python 2's clients differ in small ways that matter to a server: imaplib
quotes the user name, nntplib skips CAPABILITIES, httplib is its own module.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from fakenet.world import generated_bytes, load_world

pytestmark = pytest.mark.world

PY27 = Path("/root/.pyenv/versions/2.7.18/bin/python")
WORLD = load_world()

CLIENT = r'''
import ftplib, hashlib, httplib, imaplib, json, nntplib, poplib, smtplib, ssl
out = {}
message = "Subject: py27\r\n\r\nfrom python 2\r\n"
s = smtplib.SMTP("smtp.mailhostingcompany.net", 587, timeout=10)
s.starttls()
s.login("alice@mailhostingcompany.net", "correct horse battery staple")
out["smtp"] = s.sendmail("alice@mailhostingcompany.net", ["x@example.net"], message)
s.quit()
s = smtplib.SMTP_SSL("smtp.gmail.com", 465, timeout=10)
s.login("app@gmail.com", "gmail-app-password")
out["smtps"] = s.sendmail("app@gmail.com", ["x@example.net"], message)
s.quit()
p = poplib.POP3_SSL("pop.gmail.com", 995)
p.user("app@gmail.com")
p.pass_("gmail-app-password")
out["pop3"] = ["\r\n".join(p.retr(i)[1]) + "\r\n" for i in (1, 2)]
p.quit()
m = imaplib.IMAP4_SSL("imap.gmail.com", 993)
m.login("app@gmail.com", "gmail-app-password")
m.select()
out["imap"] = m.fetch("2", "(RFC822)")[1][0][1]
m.logout()
c = httplib.HTTPSConnection("www.example-public.net", 443, timeout=10,
                            context=ssl.create_default_context())
c.request("GET", "/big", headers={"User-Agent": "py27-probe"})
body = c.getresponse().read()
out["https"] = [len(body), hashlib.sha256(body).hexdigest()]
n = nntplib.NNTP("news.mailhostingcompany.net", readermode=True)
out["nntp"] = n.group("comp.lang.python")[1:4]
out["article"] = n.article("1")[3]
n.quit()
f = ftplib.FTP("93.184.215.14", timeout=10)
f.login()
lines = []
f.retrlines("LIST", lines.append)
out["ftp"] = lines
f.quit()
print(json.dumps(out))
'''


@pytest.mark.skipif(not PY27.exists(), reason=f"{PY27} is not installed on this machine")
def test_python27_clients(inside) -> None:
    result = inside(CLIENT, python=str(PY27))
    assert result["smtp"] == {} and result["smtps"] == {}
    mailbox = WORLD.mailbox("app@gmail.com")
    assert [m.encode() for m in result["pop3"]] == [m.wire for m in mailbox]
    assert result["imap"].encode() == mailbox[1].wire
    big = generated_bytes(4194304)
    assert result["https"] == [len(big), hashlib.sha256(big).hexdigest()]
    assert result["nntp"] == ["1", "1", "1"]  # 2.7 nntplib returns strings
    assert result["article"] == WORLD.articles[0].text.rstrip("\n").split("\n")
    assert result["ftp"][0].endswith(" README")
    events = inside.events()
    assert [e.endpoint for e in events if e.kind == "smtp-message"] == [
        "smtp-submission", "smtps"]
    agents = [e.detail["user_agent"] for e in events if e.kind == "http-request"]
    assert agents == ["py27-probe"]
