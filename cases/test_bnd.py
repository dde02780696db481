"""BND: no binding to a specific address or port (BND-1, MUST; errno EACCES
SHOULD); binding to the wildcard with port 0 is accepted (BND-2, SHOULD)."""

from __future__ import annotations

import pytest

from conformance.remote import attempt

from .probes import new_socket

# Ports no world service or canary holds, so an unrestricted bind succeeds (and fails the case).
SPECIFIC = [
    ("ipv4", "tcp", ("127.0.0.1", 0)),
    ("ipv4", "tcp", ("", 41080)),
    ("ipv4", "tcp", ("0.0.0.0", 41000)),
    ("ipv4", "udp", ("0.0.0.0", 41053)),
    ("ipv4", "udp", ("127.0.0.1", 0)),
    ("ipv6", "tcp", ("::1", 0)),
    ("ipv6", "tcp", ("::", 41081)),
    ("ipv6", "udp", ("::", 41054)),
]
WILDCARD = [("ipv4", ("", 0)), ("ipv4", ("0.0.0.0", 0)), ("ipv6", ("::", 0))]


def _bind(instance, fam: str, proto: str, address: tuple):
    sock = new_socket(instance.module("socket"), fam, proto)
    tried = attempt(sock.call, "bind", address)
    sock.call("close")
    return tried


@pytest.mark.clause("BND-1", "MUST")
@pytest.mark.parametrize(("fam", "proto", "address"), SPECIFIC,
                         ids=[f"{p}-{a[0] or 'any'}-{a[1]}" for _, p, a in SPECIFIC])
def test_bind_specific_address_or_port_raises(fam, proto, address, instance, verdict):
    verdict.raised(_bind(instance, fam, proto, address))


@pytest.mark.clause("BND-1", "SHOULD")
@pytest.mark.parametrize(("fam", "proto", "address"), SPECIFIC[:3],
                         ids=[f"{p}-{a[0] or 'any'}-{a[1]}" for _, p, a in SPECIFIC[:3]])
def test_bind_error_is_eacces(fam, proto, address, instance, verdict):
    verdict.raised(_bind(instance, fam, proto, address), errno="EACCES", socket_error=True)


@pytest.mark.clause("BND-2", "SHOULD")
@pytest.mark.parametrize(("fam", "address"), WILDCARD,
                         ids=[f"{a[0] or 'empty'}-0" for _, a in WILDCARD])
def test_bind_wildcard_port_zero_accepted(fam, address, instance, verdict):
    tried = _bind(instance, fam, "tcp", address)
    verdict.succeeded(tried)


@pytest.mark.clause("BND-2", "SHOULD")
def test_bind_wildcard_then_connect_works(instance, verdict, world):
    """A bind that names nothing must not break the connection that follows."""
    socket = instance.module("socket")
    sock = new_socket(socket)
    bound = attempt(sock.call, "bind", ("", 0))
    sock.call("connect", (world.data.host("public-echo").ipv4[0], 7))
    sock.call("sendall", b"after bind")
    echoed = sock.call("recv", 32)
    sock.call("close")
    verdict.succeeded(bound)
    verdict.check(bytes(echoed) == b"after bind", name="echo", expected="the echo",
                  observed=repr(echoed))


@pytest.mark.clause("BND-2", "SHOULD")
def test_http_client_wildcard_source_address_works(instance, verdict):
    """http.client's source_address ('', 0) names no address or port either: the request
    goes through as it does without one (over urlfetch or over a socket)."""
    name = "www.mailhostingcompany.net"
    http = instance.module("httplib" if instance.python_major == 2 else "http.client")
    conn = http.call("HTTPConnection", name, 80, timeout=10, source_address=("", 0))
    tried = attempt(conn.call, "request", "GET", "/?case=bnd-2-http-client")
    status = attempt(lambda: conn.call("getresponse").status) if tried.ok else tried
    attempt(conn.call, "close")
    verdict.succeeded(tried)
    verdict.check(status.ok and status.value == 200, name="response", expected="200",
                  observed=status.describe())
