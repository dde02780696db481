"""SSL: the instance's own ssl module over sandbox sockets; the world's TLS
endpoints journal the handshake and the SNI they saw."""

from __future__ import annotations

import pytest

from conformance.remote import attempt

from .probes import address_of, new_socket, wrap_tls


@pytest.mark.clause("SSL-1", "MUST")
@pytest.mark.parametrize("fam", ["ipv4", "ipv6"])
def test_verified_handshake_with_sni(fam, instance, verdict, world):
    name = "www.mailhostingcompany.net"
    address = address_of(world, "public-mail", fam)
    socket = instance.module("socket")
    sock = new_socket(socket, fam)
    sock.call("connect", (address, 443))
    tls = wrap_tls(instance, sock, name)
    peer = tls.call("getpeercert")
    tls.call("sendall", f"GET / HTTP/1.0\r\nHost: {name}\r\n\r\n".encode())
    got = instance.recv_until_eof(tls)
    tls.call("close")
    verdict.check(bool(peer), name="verified", expected="a verified peer certificate",
                  observed=repr(peer)[:200])
    verdict.check(bytes(got.head).startswith(b"HTTP/1.") and b" 200" in bytes(got.head)[:16],
                  name="reply", expected="an HTTP 200 over TLS",
                  observed=repr(bytes(got.head)[:60]))
    handshakes = verdict.events(address=address, port=443, kind="tls-handshake")
    sni = [e.detail.get("sni") for e in handshakes]
    verdict.check(name in sni, name="sni", expected=f"the server saw SNI {name!r}",
                  observed=f"handshakes with SNI {sni}")


@pytest.mark.clause("SSL-1", "MUST")
def test_create_connection_then_wrap_by_name(instance, verdict):
    """The way most code does it: create_connection by name, then wrap_socket."""
    name = "smtp.gmail.com"
    socket = instance.module("socket")
    sock = socket.call("create_connection", (name, 465), 5)
    tls = wrap_tls(instance, sock, name)
    version = tls.call("version")
    banner = tls.call("recv", 1024)
    tls.call("close")
    verdict.check(bytes(banner).startswith(b"220"), name="greeting",
                  expected="an SMTP 220 greeting over verified TLS",
                  observed=f"{version}: {bytes(banner)[:60]!r}")
    sni = [e.detail.get("sni") for e in verdict.events(port=465, kind="tls-handshake")]
    verdict.check(name in sni, name="sni", expected=f"SNI {name!r}", observed=repr(sni))


@pytest.mark.clause("SSL-2", "MUST")
@pytest.mark.parametrize(("target", "server_name"), [
    ("wrong.example-public.net", "wrong.example-public.net"),
    ("www.mailhostingcompany.net", "smtp.gmail.com"),
], ids=["cert-names-another-host", "name-not-in-cert"])
def test_wrong_host_certificate_fails(target, server_name, instance, verdict):
    socket = instance.module("socket")
    sock = socket.call("create_connection", (target, 443), 5)
    tried = attempt(wrap_tls, instance, sock, server_name)
    attempt(sock.call, "close")
    error = tried.error
    verdict.check(error is not None and (error.is_a("SSLError") or error.is_a("CertificateError")),
                  name="verification-fails",
                  expected="wrap_socket raises ssl.SSLError / CertificateError",
                  observed=tried.describe())


@pytest.mark.clause("SSL-1", "MUST")
def test_wrapped_socket_owns_the_connection(instance, verdict, world):
    """wrap_socket hands the connection to the TLS socket (3.x detaches the plain
    one, 2.7 drops its reference): closing the plain socket afterwards returns at
    once and leaves the TLS session working, as with the standard module."""
    name = "www.mailhostingcompany.net"
    socket = instance.module("socket")
    sock = socket.call("create_connection", (address_of(world, "public-mail"), 443), 5)
    tls = wrap_tls(instance, sock, name)
    closed = attempt(sock.call, "close")
    tls.call("sendall", f"GET / HTTP/1.0\r\nHost: {name}\r\n\r\n".encode())
    got = attempt(instance.recv_until_eof, tls)
    tls.call("close")
    head = bytes(got.value.head) if got.ok else b""
    verdict.check(closed.ok and closed.elapsed < 1.0, name="plain-close-prompt",
                  expected="closing the wrapped plain socket returns at once",
                  observed=f"{closed.describe()} ({closed.elapsed:.2f} s)")
    verdict.check(head.startswith(b"HTTP/1.") and b" 200" in head[:16], name="tls-still-works",
                  expected="the TLS socket still carries an HTTP 200",
                  observed=got.describe() if not got.ok else repr(head[:60]))


@pytest.mark.clause("SSL-1", "MUST")
def test_wrap_unconnected_then_connect_by_name(instance, verdict):
    """wrap_socket(socket()) first, connect((name, 443)) after: the ssl socket's own
    connect resolves, dials and handshakes (the DST-8 tls_connect path, allowed)."""
    name = "www.mailhostingcompany.net"
    ssl = instance.module("ssl")
    context = ssl.call("create_default_context")
    tls = context.call("wrap_socket", new_socket(instance.module("socket")),
                       server_hostname=name)
    connected = attempt(tls.call, "connect", (name, 443))
    got = peer = None
    if connected.ok:
        peer = attempt(tls.call, "getpeercert")   # connect did the handshake, as in the stdlib
        tls.call("sendall", f"GET / HTTP/1.0\r\nHost: {name}\r\n\r\n".encode())
        got = attempt(instance.recv_until_eof, tls)
    attempt(tls.call, "close")
    head = bytes(got.value.head) if got is not None and got.ok else b""
    verdict.check(peer is not None and peer.ok and bool(peer.value), name="verified-at-connect",
                  expected="right after connect, a verified peer certificate",
                  observed=peer.describe() if peer is not None else "not connected")
    verdict.check(connected.ok and head.startswith(b"HTTP/1.") and b" 200" in head[:16],
                  name="connect-then-reply", expected="connect by name completes a verified "
                  "handshake and an HTTP 200 comes back over TLS",
                  observed=f"{connected.describe()}; {head[:60]!r}")
    sni = [e.detail.get("sni") for e in verdict.events(port=443, kind="tls-handshake")]
    verdict.check(name in sni, name="sni", expected=f"SNI {name!r}", observed=repr(sni))
