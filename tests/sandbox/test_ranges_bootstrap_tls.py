"""Range data refresh, the bootstrap, and ssl over sandbox sockets (loopback only)."""

from __future__ import annotations

import errno
import json
import ssl
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import sandbox.app.socket as sb
from sandbox import ranges
from sandbox.app import tls

ROOT = Path(__file__).resolve().parents[2]


def _published(path: Path, v4: list[str], v6: list[str]) -> Path:
    path.write_text(json.dumps({"syncToken": "123", "creationTime": "2026-01-01T00:00:00",
                                "prefixes": [{"ipv4Prefix": p} for p in v4]
                                + [{"ipv6Prefix": p} for p in v6]}))
    return path


def test_refresh_is_goog_minus_cloud_with_provenance(tmp_path: Path) -> None:
    goog = _published(tmp_path / "goog.json", ["34.0.0.0/15", "8.8.8.0/24"], ["2600:1900::/28"])
    cloud = _published(tmp_path / "cloud.json", ["34.1.0.0/16"], ["2600:1900:4000::/36"])
    assert ranges.main(["refresh", "--goog", str(goog), "--cloud", str(cloud),
                        "--out", str(tmp_path)]) == 0
    google = ranges.load(tmp_path / "google-ranges.json")
    assert "goog.json" in google.source and "123" in google.source and google.date
    rs = google.range_set()
    from sandbox.addresses import Address

    assert rs.contains(4, Address.parse("34.0.0.1").value)
    assert not rs.contains(4, Address.parse("34.1.0.1").value)
    assert rs.contains(6, Address.parse("2600:1900::1").value)
    assert not rs.contains(6, Address.parse("2600:1900:4000::10").value)
    assert ranges.load(tmp_path / "cloud-ranges.json").networks == (
        "34.1.0.0/16", "2600:1900:4000::/36")


def test_refresh_rejects_bad_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert ranges.main(["refresh", "--goog", str(bad), "--cloud", str(bad),
                        "--out", str(tmp_path)]) == 2
    assert "not a published ranges file" in capsys.readouterr().err


def test_shipped_data_has_provenance() -> None:
    for table in (ranges.load_google(), ranges.load_cloud()):
        assert table.source and table.date and "refresh" in table.note
    from sandbox.addresses import Address

    google = ranges.load_google().range_set()
    for literal in ("8.8.8.8", "142.250.102.108", "2a00:1450:4001:82a::200e"):
        a = Address.parse(literal)
        assert google.contains(a.version, a.value)
    for literal in ("35.192.0.10", "2600:1900:4000::10", "93.184.215.14"):
        a = Address.parse(literal)
        assert not google.contains(a.version, a.value)


def test_bootstrap_makes_import_socket_the_sandbox() -> None:
    code = ("from sandbox.bootstrap import install; install(); import socket, smtplib, ssl, "
            "http.client; print(socket.__name__, smtplib.socket.__name__, "
            "http.client.socket.__name__, ssl.SSLContext.sslsocket_class.__name__)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=30, check=True)
    assert out.stdout.split() == ["sandbox.app.socket"] * 3 + ["SandboxSSLSocket"]


def test_event_loops_start_though_socketpair_is_refused_to_the_app() -> None:
    """asyncio's wake-up pipe gets the real socketpair; the app's socketpair is refused
    (PRT-2), and every other name asyncio uses is still the sandbox's."""
    code = ("from sandbox.bootstrap import install; install(); import asyncio, socket\n"
            "loop = asyncio.new_event_loop(); loop.close()\n"
            "try:\n    socket.socketpair()\nexcept OSError as e:\n    print('refused', e.errno)\n"
            "print(asyncio.selector_events.socket.socket is socket.socket)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=30, check=True)
    assert out.stdout.split() == ["refused", str(errno.EAFNOSUPPORT), "True"]


@pytest.fixture
def tls_server(tmp_path: Path):
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    cert = ca.issue_cert("tls.test")
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_ctx)
    seen_sni: list[str | None] = []
    server_ctx.sni_callback = lambda obj, name, ctx: seen_sni.append(name)
    import socket as native

    srv = native.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)

    def serve() -> None:
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            try:
                with server_ctx.wrap_socket(conn, server_side=True) as s:
                    s.sendall(s.recv(100).upper())
            except (OSError, ssl.SSLError):
                pass

    threading.Thread(target=serve, daemon=True).start()
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    yield srv.getsockname(), client_ctx, seen_sni
    srv.close()


def test_ssl_over_a_sandbox_socket(sandbox_service, tls_server, monkeypatch) -> None:
    addr, ctx, seen_sni = tls_server
    monkeypatch.setattr(ssl.SSLContext, "sslsocket_class", tls.SandboxSSLSocket)
    raw = sb.create_connection(addr, timeout=5)
    with ctx.wrap_socket(raw, server_hostname="tls.test") as s:
        assert s.getpeername() == tuple(addr)
        s.sendall(b"hello")
        assert s.recv(100) == b"HELLO"
        s.setsockopt(sb.SOL_SOCKET, sb.SO_KEEPALIVE, 1)
    raw.close()  # detached by the wrapper: returns at once
    assert seen_sni == ["tls.test"]


def test_ssl_wrong_host_fails_verification(sandbox_service, tls_server, monkeypatch) -> None:
    addr, ctx, _ = tls_server
    monkeypatch.setattr(ssl.SSLContext, "sslsocket_class", tls.SandboxSSLSocket)
    raw = sb.create_connection(addr, timeout=5)
    with pytest.raises(ssl.SSLCertVerificationError):
        ctx.wrap_socket(raw, server_hostname="other.test")
    raw.close()


def test_ssl_wrapping_an_unconnected_socket_then_connect(sandbox_service, tls_server,
                                                         monkeypatch) -> None:
    """ctx.wrap_socket(socket()).connect(addr): the sandbox judges and dials, then the
    handshake runs over the channel (the stdlib's connect would dial the channel itself)."""
    addr, ctx, seen_sni = tls_server
    monkeypatch.setattr(ssl.SSLContext, "sslsocket_class", tls.SandboxSSLSocket)
    raw = sb.socket()
    raw.settimeout(5)
    with ctx.wrap_socket(raw, server_hostname="tls.test") as s:
        s.connect(addr)
        assert s.getpeername() == tuple(addr)
        s.sendall(b"unconnected first")
        assert s.recv(100) == b"UNCONNECTED FIRST"
    assert seen_sni == ["tls.test"]


def test_ssl_wrapped_unconnected_socket_is_judged_like_any(sandbox_service, tls_server,
                                                           monkeypatch) -> None:
    _, ctx, _ = tls_server
    monkeypatch.setattr(ssl.SSLContext, "sslsocket_class", tls.SandboxSSLSocket)
    with ctx.wrap_socket(sb.socket(), server_hostname="private.test") as s:
        with pytest.raises(PermissionError):
            s.connect(("private.test", 443))
        assert s.connect_ex(("private.test", 443)) == errno.EACCES
