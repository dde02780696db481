"""HTTP(S), NNTP and FTP in the world, driven by the stdlib clients from inside it."""

from __future__ import annotations

import hashlib
import shutil
import sys
from pathlib import Path

import pytest

from fakenet.protocols.ftp import FILES
from fakenet.world import generated_bytes, load_world

pytestmark = pytest.mark.world

WORLD = load_world()
BIG = generated_bytes(4194304)
PY313 = Path("/root/.pyenv/versions/3.13.0/bin/python")


def requests(events):
    return [e for e in events if e.kind == "http-request"]


@pytest.mark.parametrize("scheme,host", [
    ("http", "www.example-public.net"), ("https", "www.example-public.net"),
    ("http", "www.mailhostingcompany.net"), ("https", "93.184.215.14"),
    ("http", "vm.gce-customer.example"),
])
def test_http_client_get_records_user_agent_and_serves_big_body(inside, scheme, host) -> None:
    result = inside(f"""
        import hashlib, http.client, json, ssl
        if {scheme!r} == "https":
            c = http.client.HTTPSConnection({host!r}, context=ssl.create_default_context(),
                                            timeout=10)
        else:
            c = http.client.HTTPConnection({host!r}, timeout=10)
        c.request("GET", "/", headers={{"User-Agent": "conformance-probe/1.0"}})
        r = c.getresponse()
        small = r.read().decode()
        c.request("GET", "/big")  # same connection: keep-alive
        r = c.getresponse()
        big = r.read()
        c.request("POST", "/upload", body=b"x" * 100000,
                  headers={{"Content-Type": "application/octet-stream"}})
        posted = c.getresponse().read().decode()
        c.request("GET", "/missing")
        missing = c.getresponse()
        missing.read()
        print(json.dumps({{"small": small, "status": r.status, "len": len(big),
                          "sha": hashlib.sha256(big).hexdigest(), "posted": posted,
                          "missing": missing.status}}))
    """)
    assert result["small"] == "hello from the fake internet\n"
    assert result["status"] == 200 and result["len"] == len(BIG)
    assert result["sha"] == hashlib.sha256(BIG).hexdigest()
    assert result["posted"] == f"100000 {hashlib.sha256(b'x' * 100000).hexdigest()}\n"
    assert result["missing"] == 404
    events = inside.events()
    seen = requests(events)
    assert [(e.detail["method"], e.detail["path"]) for e in seen] == [
        ("GET", "/"), ("GET", "/big"), ("POST", "/upload"), ("GET", "/missing")]
    assert seen[0].detail["user_agent"] == "conformance-probe/1.0"
    assert seen[1].detail["user_agent"] is None  # http.client sends none by default
    assert seen[0].detail["host"] == host
    assert seen[2].nbytes == 100000
    assert [e.endpoint for e in seen] == [scheme] * 4
    assert len({e.peer for e in seen}) == 1  # one connection carried all four
    if scheme == "https" and not host[0].isdigit():
        handshake = next(e for e in events if e.kind == "tls-handshake")
        assert handshake.detail["sni"] == host


def test_https_wrong_host_fails_verification_but_chains_to_the_ca(inside) -> None:
    result = inside("""
        import http.client, json, ssl
        out = {}
        c = http.client.HTTPSConnection("wrong.example-public.net",
                                        context=ssl.create_default_context(), timeout=10)
        try:
            c.request("GET", "/")
            out["verified"] = "no error"
        except ssl.SSLCertVerificationError as exc:
            out["verified"] = exc.verify_message
        context = ssl.create_default_context()
        context.check_hostname = False
        c = http.client.HTTPSConnection("wrong.example-public.net", context=context, timeout=10)
        c.request("GET", "/")
        out["unchecked"] = c.getresponse().status
        print(json.dumps(out))
    """)
    assert "mismatch" in result["verified"] or "match" in result["verified"]
    assert result["unchecked"] == 200
    assert [e.endpoint for e in requests(inside.events())] == ["https-wronghost"]


def nntp_pythons() -> list[str]:
    found = [sys.executable]
    if PY313.exists():
        found.append(str(PY313))
    elif shutil.which("python3.13"):
        found.append(str(shutil.which("python3.13")))
    return found


@pytest.mark.parametrize("python", nntp_pythons())
def test_nntplib(inside, python) -> None:
    result = inside("""
        import json, warnings
        warnings.simplefilter("ignore")
        try:
            import nntplib
        except ImportError:
            print(json.dumps({"missing": True}))
            raise SystemExit(0)
        n = nntplib.NNTP("news.mailhostingcompany.net", readermode=True, timeout=10)
        caps = n.getcapabilities()
        resp, count, first, last, name = n.group("comp.lang.python")
        resp, info = n.article(1)
        resp2, info2 = n.article("<conformance-1@news.example-public.net>")
        quit = n.quit()
        print(json.dumps({"version": n.nntp_version, "reader": "READER" in caps,
                          "group": [count, first, last, name],
                          "lines": [l.decode() for l in info.lines],
                          "same": info.lines == info2.lines, "quit": quit}))
    """, python=python)
    if result.get("missing"):
        pytest.skip(f"{python} has no nntplib (Python 3.13 removed it; clause LIB-5 is "
                    "UNSUPPORTED there)")
    article = WORLD.articles[0]
    assert result["version"] == 2 and result["reader"] is True
    assert result["group"] == [1, 1, 1, "comp.lang.python"]
    assert result["lines"] == article.text.rstrip("\n").split("\n")
    assert result["same"] is True and result["quit"].startswith("205")
    notes = [e for e in inside.events() if e.kind == "nntp-article"]
    assert [e.dst[1] for e in notes] == [119, 119]


@pytest.mark.parametrize("host", ["ftp.mailhostingcompany.net", "93.184.215.14"])
def test_ftplib_passive(inside, host) -> None:
    result = inside(f"""
        import ftplib, io, json
        f = ftplib.FTP({host!r}, timeout=10)
        welcome = f.getwelcome()
        f.login()
        lines = []
        f.retrlines("LIST", lines.append)
        names = f.nlst()
        data = io.BytesIO()
        f.retrbinary("RETR README", data.write)
        pwd = f.pwd()
        f.quit()
        print(json.dumps({{"welcome": welcome, "lines": lines, "names": names, "pwd": pwd,
                          "readme": data.getvalue().decode()}}))
    """)
    assert result["welcome"].startswith("220")
    assert result["names"] == ["README"] and result["lines"][0].endswith(" README")
    assert result["readme"].encode() == FILES["README"] and result["pwd"] == "/"
    events = inside.events()
    passive = [e.detail["command"] for e in events if e.kind == "ftp-passive"]
    assert passive == (["PASV"] if host[0].isdigit() else ["EPSV"]) * 3
    data = [e for e in events if e.kind == "ftp-data"]
    assert [(e.detail["command"], e.detail["ok"]) for e in data] == [
        ("LIST", True), ("NLST", True), ("RETR", True)]
    assert data[2].sha256 == hashlib.sha256(FILES["README"]).hexdigest()


@pytest.mark.parametrize("host,command", [
    ("93.184.215.14", "PORT"), ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", "EPRT")])
def test_ftp_active_mode_is_journalled_and_refused(inside, host, command) -> None:
    result = inside(f"""
        import ftplib, json
        f = ftplib.FTP({host!r}, timeout=10)
        f.login()
        f.set_pasv(False)
        try:
            f.retrlines("LIST", lambda line: None)
            reply = "listed"
        except ftplib.error_perm as exc:
            reply = str(exc)
        f.quit()
        print(json.dumps(reply))
    """)
    assert result.startswith("502 active mode")
    active = [e for e in inside.events() if e.kind == "ftp-active"]
    assert [e.detail["command"] for e in active] == [command]
    assert active[0].dst == (host, 21)
