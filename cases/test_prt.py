"""PRT: TCP or UDP over IPv4 or IPv6 only. Constants the candidate's module
lacks are asked for by their Linux values, so a missing name cannot pass a case."""

from __future__ import annotations

import pytest

from conformance.remote import attempt

from .probes import const

ALLOWED = [
    (fam, kind, proto)
    for fam in ("AF_INET", "AF_INET6")
    for kind, protos in (("SOCK_STREAM", ("0", "IPPROTO_TCP")),
                         ("SOCK_DGRAM", ("0", "IPPROTO_UDP")))
    for proto in protos
]
# PRT-2's SHOULD accepts either errno for every row, as CLAUSES.md names them jointly.
REFUSED = [
    ("AF_UNIX", "SOCK_STREAM", "0"),
    ("AF_UNIX", "SOCK_DGRAM", "0"),
    ("AF_PACKET", "SOCK_RAW", "0"),
    ("AF_NETLINK", "SOCK_DGRAM", "0"),
    ("AF_INET", "SOCK_RAW", "IPPROTO_TCP"),
    ("AF_INET6", "SOCK_RAW", "IPPROTO_UDP"),
    ("AF_INET", "SOCK_SEQPACKET", "0"),
    ("AF_INET", "SOCK_DGRAM", "IPPROTO_ICMP"),
    ("AF_INET", "SOCK_STREAM", "IPPROTO_SCTP"),
    ("AF_INET", "SOCK_STREAM", "IPPROTO_UDP"),
    ("AF_INET6", "SOCK_DGRAM", "IPPROTO_TCP"),
]
REFUSED_IDS = ["-".join(r) for r in REFUSED]


def _create(instance, fam: str, kind: str, proto: str):
    socket = instance.module("socket")
    args = [const(socket, fam), const(socket, kind), 0 if proto == "0" else const(socket, proto)]
    tried = attempt(socket.call, "socket", *args)
    if tried.ok:
        attempt(tried.value.call, "close")
    return tried


@pytest.mark.clause("PRT-1", "MUST")
@pytest.mark.parametrize(("fam", "kind", "proto"), ALLOWED, ids=["-".join(a) for a in ALLOWED])
def test_tcp_udp_sockets_can_be_created(fam, kind, proto, instance, verdict):
    verdict.succeeded(_create(instance, fam, kind, proto))


@pytest.mark.clause("PRT-2", "MUST")
@pytest.mark.parametrize(("fam", "kind", "proto"), REFUSED, ids=REFUSED_IDS)
def test_other_families_types_protocols_raise(fam, kind, proto, instance, verdict):
    verdict.raised(_create(instance, fam, kind, proto))


@pytest.mark.clause("PRT-2", "MUST")
def test_socketpair_through_a_library_module_raises(instance, verdict):
    """Code calls socketpair through the `socket` name its own module imported, not
    through sys.modules: ftplib's (a stdlib module that imports socket) refuses the
    AF_UNIX pair as the module itself does."""
    library = instance.module("ftplib")
    tried = attempt(library.socket.call, "socketpair")
    if tried.ok:
        for end in tried.value:
            attempt(end.call, "close")
    verdict.raised(tried)


@pytest.mark.clause("PRT-2", "SHOULD")
@pytest.mark.parametrize(("fam", "kind", "proto"), REFUSED, ids=REFUSED_IDS)
def test_refusal_errno(fam, kind, proto, instance, verdict):
    verdict.raised(_create(instance, fam, kind, proto), socket_error=True,
                   errno=("EAFNOSUPPORT", "EPROTONOSUPPORT"))
