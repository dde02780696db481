"""Malformed input to every live service: the protocol's error reply, never a crash.

A client inside the world sends each service an over-long line of binary
garbage, a command cut off by end of input, a connection reset mid-command,
and (on TLS ports) plain text instead of a handshake. Afterwards every
service must still greet a new client, and no `protocol-error` event may
appear (the `inside` fixture checks that).
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.world

# A TCP half-close under TLS (FIN without close_notify) ends the TLS session
# at once, so on TLS ports a cut-off command can only be checked for "the
# connection ends, nothing hangs"; the protocol objects' replies to it are
# unit-tested (test_pop3.py, test_imap.py, test_http.py). aiosmtpd closes
# without a reply.
SERVICES = {
    # port: (implicit TLS, a command cut off mid-way, its error reply's start)
    587: (False, b"EHLO half", b""),
    465: (True, b"EHLO half", b""),
    995: (True, b"USER app@gm", b""),
    993: (True, b"a1 LOGIN app", b""),
    80: (False, b"GET / HTTP/1.1\r\nHost: x", b"HTTP/1.1 400"),
    443: (True, b"GET / HTTP/1.1\r\nHost: x", b""),
    119: (False, b"GROUP comp", b"501 connection closed"),
    21: (False, b"CWD /pu", b"500 connection closed"),
}

CLIENT = r'''
import json, socket, ssl, struct, sys  # noqa: E401
HOST, NAME = sys.argv[1], "mail.mailhostingcompany.net"
SERVICES = json.loads(sys.argv[2])
context = ssl.create_default_context()
GARBAGE = bytes((i * 131 + 17) % 256 for i in range(1, 200001)).replace(b"\n", b"?")

def connect(port, tls):
    s = socket.create_connection((HOST, port), timeout=10)
    return context.wrap_socket(s, server_hostname=NAME) if tls else s

def drain(s, limit=1 << 20, lines=1 << 20):
    data = b""
    try:
        while len(data) < limit and data.count(b"\r\n") < lines:
            chunk = s.recv(65536)
            if not chunk:
                return data, "eof"
            data += chunk
    except socket.timeout:
        return data, "timeout"
    except (OSError, ssl.SSLError) as exc:
        return data, type(exc).__name__
    return data, "limit"

def greeting(s, port):
    if port in (80, 443):
        s.sendall(b"HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    return s.recv(100)

out = {}
for port_text, (tls, partial) in SERVICES.items():
    port = int(port_text)
    row = out[port_text] = {}
    s = connect(port, tls)
    s.settimeout(5)
    row["greeting"] = greeting(s, port).decode("latin-1")[:40] if port not in (80, 443) else ""
    try:
        s.sendall(GARBAGE + b"\r\n\x00\xff\xfe junk\r\n")
    except OSError as exc:
        row["send_error"] = type(exc).__name__
    s.settimeout(2)
    data, how = drain(s, 4096, lines=2)
    row["garbage"] = data.decode("latin-1")[:60]
    s.close()
    s = connect(port, tls)
    s.settimeout(5)
    if port not in (80, 443):
        greeting(s, port)
    s.sendall(partial.encode("latin-1"))
    socket.socket.shutdown(s, socket.SHUT_WR)  # a plain FIN, also under TLS
    data, how = drain(s)
    row["cut"] = data.decode("latin-1")[:60]
    row["cut_end"] = how
    s.close()
    s = connect(port, tls)
    s.sendall(partial.encode("latin-1"))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()  # RST mid-command
    if tls:
        raw = socket.create_connection((HOST, port), timeout=10)
        raw.sendall(b"HELLO in plain text\r\n" * 10)
        raw.settimeout(5)
        data, how = drain(raw)
        row["plain_on_tls"] = [data.decode("latin-1")[:20], how]
        raw.close()
    s = connect(port, tls)
    s.settimeout(5)
    row["after"] = greeting(s, port).decode("latin-1")[:40]
    s.close()
print(json.dumps(out))
'''


@pytest.mark.parametrize("host", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"])
def test_garbage_cut_commands_and_resets_never_break_a_service(inside, host) -> None:
    import json
    import sys

    spec = {str(p): [tls, partial.decode()] for p, (tls, partial, _) in SERVICES.items()}
    code = f"import sys; sys.argv = ['client', {host!r}, {json.dumps(spec)!r}]\n" + CLIENT
    log = Path(inside.world.log_path)
    logged = log.stat().st_size if log.exists() else 0
    result = inside(code, timeout=120)
    print(json.dumps(result, indent=1), file=sys.stderr)
    if log.exists():
        with log.open("rb") as handle:
            handle.seek(logged)
            new = handle.read().decode("utf-8", "replace")
        assert "Traceback" not in new and "protocol error" not in new, new
    for port, (_tls, _partial, cut_reply) in SERVICES.items():
        row = result[str(port)]
        assert row["after"], f"port {port} stopped answering: {row}"
        assert row["cut_end"] == "eof", f"port {port} hung after a cut-off command: {row}"
        assert row["cut"].startswith(cut_reply.decode()), row
    garbage = {port: result[str(port)]["garbage"] for port in SERVICES}
    assert garbage[995].startswith("-ERR line too long")
    assert garbage[993].startswith("* BAD line too long")
    assert garbage[80].startswith("HTTP/1.1 414") and garbage[443].startswith("HTTP/1.1 414")
    assert garbage[119].startswith("501 line too long")
    assert garbage[21].startswith("500 line too long")
    assert garbage[587].startswith("500") and garbage[465].startswith("500")
    failed = [e for e in inside.events() if e.kind == "tls-handshake" and not e.detail["ok"]]
    assert sorted(e.dst[1] for e in failed) == [443, 465, 993, 995]
