"""What a matrix case does inside the instance, and how its verdict is read.

A blocked case aims at the destination the way a program would (connect and
send on TCP, sendto on UDP) and then checks both halves: the call raised, and
no journal event (canary or service) exists at any address where the traffic
would have landed. An allowed case connects and then *speaks* to whatever
listens there (echo, sink, a mail greeting over TLS, a real DNS query...),
so the verdict rests on the bytes arriving intact and the reply coming back.

Each case attaches one `{"matrix": {...}}` entry to its evidence before any
check can fail, so the truth table has every cell.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from conformance.remote import Attempt, Remote, attempt
from fakenet.world import World

from .matrix import MatrixCase

TIMEOUT = 5.0
# Rows whose blocked half may be a rejection of any kind (not only socket.error):
# a spelling or a name the socket module itself refuses is "rejected as invalid".
REJECTION_CLAUSES = ("DST-7",)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Aim:
    """What happened when a case aimed at its destination."""

    decisive: Attempt                 # the call the verdict is about
    steps: list[str] = field(default_factory=list)
    sock: Remote | None = None

    def note(self, what: str, tried: Attempt) -> Attempt:
        self.steps.append(f"{what}: {tried.describe()}")
        return tried


def family_const(socket: Remote, family: str) -> int:
    return socket.AF_INET if family == "ipv4" else socket.AF_INET6


def _closed(sock: Remote | None) -> None:
    if sock is not None:
        attempt(sock.call, "close")


def aim(instance: Any, case: MatrixCase, payload: bytes) -> Aim:
    """Aim at the case's destination; for TCP, send `payload` if the connect went through
    (so that a leak shows as bytes at the canary)."""
    socket = instance.module("socket")
    steps: list[str] = []
    if case.mode == "rebind":
        # take the name's first (allowed) answer now; the call below gets the next one
        steps.append("warm-up gethostbyname: "
                     + attempt(socket.call, "gethostbyname", case.target).describe())
    if case.mode == "hint":
        steps.append(f"warm-up getaddrinfo({case.hint!r}): "
                     + attempt(socket.call, "getaddrinfo", case.hint, case.port).describe())
    if case.proto == "tcp":
        if case.mode == "mixed":
            result = _connect_each(socket, case, payload)
        else:
            result = _connect_send(socket, case.family, case.sockaddr, payload)
    else:
        result = _sendto(socket, case, payload)
    result.steps[:0] = steps
    return result


def _connect_send(socket: Remote, fam: str, sockaddr: tuple, payload: bytes) -> Aim:
    sock = new_socket(socket, fam, "tcp")
    result = Aim(decisive=attempt(sock.call, "connect", sockaddr), sock=sock)
    result.note(f"connect{sockaddr!r}", result.decisive)
    if result.decisive.ok:
        sent = result.note("sendall", attempt(sock.call, "sendall", payload))
        if sent.raised:
            result.decisive = sent     # a lazy block at the first send is still a raise
    return result


def _connect_each(socket: Remote, case: MatrixCase, payload: bytes) -> Aim:
    """create_connection's loop, restricted to the row's family: try each answer in order."""
    infos = attempt(socket.call, "getaddrinfo", case.target, case.port,
                    family_const(socket, case.family), socket.SOCK_STREAM)
    result = Aim(decisive=infos)
    result.note(f"getaddrinfo({case.target!r}, {case.port})", infos)
    if infos.raised:
        return result
    last: Attempt = infos
    for info in infos.value:
        sockaddr = tuple(info[4])
        step = _connect_send(socket, case.family, sockaddr, payload)
        result.steps.extend(step.steps)
        last = step.decisive
        if last.ok:
            result.sock = step.sock
            break
        _closed(step.sock)
    result.decisive = last
    return result


def _sendto(socket: Remote, case: MatrixCase, payload: bytes) -> Aim:
    sock = new_socket(socket, case.family, "udp")
    result = Aim(decisive=Attempt(ok=True), sock=sock)
    if case.host in ("broadcast", "multicast") or case.target == "<broadcast>":
        # an unrestricted candidate must really send, or the case could not fail
        result.note("setsockopt(SO_BROADCAST, 1)",
                    attempt(sock.call, "setsockopt", socket.SOL_SOCKET, socket.SO_BROADCAST, 1))
    # mode "mixed": sendto resolves the name itself and takes its first answer, in the
    # resolver's order (glibc sorts per RFC 6724 and may put the allowed answer first)
    result.decisive = result.note(f"sendto({case.sockaddr!r})",
                                  attempt(sock.call, "sendto", payload, case.sockaddr))
    return result


# ---------------------------------------------------------------------------
# Verdicts
# ---------------------------------------------------------------------------

def leaks(verdict: Any, case: MatrixCase) -> list[Any]:
    """Every journal event at an address where this case's traffic would land."""
    found: list[Any] = []
    for address in case.watch:
        found.extend(verdict.events(address=address, port=case.port, proto=case.proto))
    return found


def _describe(events: list[Any]) -> str:
    shown = "; ".join(f"{e.role} {e.endpoint} {e.kind} {e.proto} {e.dst[0]}:{e.dst[1]}"
                      + (f" {e.nbytes}B" if e.nbytes else "") for e in events[:4])
    return f"{len(events)} journal event(s): {shown}" if events else "no journal event"


def check_blocked(instance: Any, verdict: Any, case: MatrixCase) -> None:
    """Both halves of "blocked", with the matrix cell recorded first."""
    payload = case.payload()
    result = aim(instance, case, payload)
    _closed(result.sock)
    hits = leaks(verdict, case)
    raised = result.decisive.raised
    where = " or ".join(f"{a}:{case.port}/{case.proto}" for a in case.watch)
    observed = "allowed" if hits else ("blocked" if raised else "error")
    if case.mode in ("rebind", "mixed") and not hits:
        observed = "blocked"   # the blocked answer was never reached: that is the clause
    verdict.evidence(case.matrix_evidence(observed))
    verdict.evidence({"steps": result.steps})
    story = "; ".join(result.steps) + "; " + _describe(hits)
    if case.mode in ("rebind", "mixed"):
        verdict.check(not hits, name="blocked-answer-not-reached",
                      expected=f"nothing reaches {where} (the call may raise or use the "
                               "allowed answer)", observed=story)
        return
    error = result.decisive.error
    want_socket_error = case.clause not in REJECTION_CLAUSES and "\x00" not in case.target
    raised_ok = raised and (not want_socket_error or (error is not None and error.is_socket_error))
    verdict.check(raised_ok and not hits, name="blocked",
                  expected=("the call raises " + ("socket.error" if want_socket_error
                                                  else "(rejected or blocked)")
                            + f" and nothing reaches {where}"),
                  observed=story)


def check_allowed(instance: Any, verdict: Any, world: World, case: MatrixCase) -> None:
    """The call succeeds, the bytes arrive intact, and the reply comes back."""
    payload = case.payload()
    socket = instance.module("socket")
    service = service_at(world, case.host, case.proto, case.port)
    sock = new_socket(socket, case.family, case.proto)
    steps: list[str] = []
    if case.proto == "tcp":
        opened = attempt(sock.call, "connect", case.sockaddr)
        steps.append(f"connect{case.sockaddr!r}: {opened.describe()}")
    else:
        opened = Attempt(ok=True)
    exchange = None
    if opened.ok:
        talk = PROBES.get((case.proto, service), PROBES[(case.proto, None)])
        exchange = attempt(talk, instance, socket, sock, case, world, payload)
        steps.append(f"probe {service or 'canary'}: {exchange.describe()}")
    _closed(sock)
    hits = leaks(verdict, case)
    reply = exchange.value if exchange is not None and exchange.ok else None
    if hits:
        observed = "allowed"
    elif opened.raised or (exchange is not None and exchange.raised):
        observed = "blocked"
    else:
        observed = "error"
    verdict.evidence(case.matrix_evidence(observed))
    verdict.evidence({"steps": steps})
    verdict.check(opened.ok and exchange is not None and exchange.ok, name="succeeded",
                  expected="the connect and the exchange succeed", observed="; ".join(steps))
    assert isinstance(reply, Reply)
    if reply.delivered is not None:
        nbytes, sha = reply.delivered
        found = [e for e in hits
                 if e.kind in ("close", "datagram") and e.nbytes == nbytes and e.sha256 == sha]
        verdict.check(bool(found), name="delivered",
                      expected=f"{nbytes} bytes sha256={sha[:16]}... arrive intact at "
                               f"{case.destination}:{case.port}/{case.proto}",
                      observed=_describe(hits))
    else:
        kinds = [e for e in hits if reply.journal_kind in (None, e.kind)]
        verdict.check(bool(kinds), name="reached",
                      expected=f"{reply.journal_kind or 'traffic'} at "
                               f"{case.destination}:{case.port}/{case.proto}",
                      observed=_describe(hits))
    verdict.check(reply.ok, name="reply", expected=reply.expected, observed=reply.observed)


def service_at(world: World, host_id: str, proto: str, port: int) -> str | None:
    """The service kind the world runs on host:port/proto, or None (a canary answers)."""
    host = world.host(host_id)
    for name in host.services:
        for listen in world.services[name].listen:
            if listen.proto == proto and listen.port == port:
                return name
    return None


# ---------------------------------------------------------------------------
# Probes: one short exchange per kind of listener
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Reply:
    """How an exchange went: whether the reply was right, and what bytes the peer got."""

    ok: bool
    expected: str
    observed: str
    delivered: tuple[int, str] | None = None   # (nbytes, sha256) the peer must have journalled
    journal_kind: str | None = None            # else: an event of this kind must be journalled


def _head(data: bytes, limit: int = 60) -> str:
    return repr(bytes(data[:limit]))


def _probe_echo_tcp(instance, socket, sock, case, world, payload) -> Reply:
    sock.call("sendall", payload)
    sock.call("shutdown", socket.SHUT_WR)
    got = instance.recv_until_eof(sock)
    return Reply(got.sha256 == digest(payload) and got.eof,
                 f"the echo returns the {len(payload)} bytes sent, then EOF",
                 f"{got.nbytes} bytes {_head(got.head)} eof={got.eof}",
                 (len(payload), digest(payload)))


def _probe_sink_tcp(instance, socket, sock, case, world, payload) -> Reply:
    sock.call("sendall", payload)
    sock.call("shutdown", socket.SHUT_WR)
    got = instance.recv_until_eof(sock)
    want = f"{len(payload)} {digest(payload)}\n".encode()
    return Reply(bytes(got.head) == want, f"the sink answers {want!r}",
                 f"{_head(got.head, 120)}", (len(payload), digest(payload)))


def _probe_canary_tcp(instance, socket, sock, case, world, payload) -> Reply:
    sock.call("sendall", payload)
    sock.call("shutdown", socket.SHUT_WR)
    return Reply(True, "no reply expected from a canary port", "sent and shut down",
                 (len(payload), digest(payload)))


def _recv_line(sock: Remote, limit: int = 4096) -> bytes:
    data = b""
    while b"\n" not in data and len(data) < limit:
        chunk = bytes(sock.call("recv", 1024))
        if not chunk:
            break
        data += chunk
    return data


def _greeting(prefix: bytes, bye: bytes, bye_prefix: bytes) -> Callable[..., Reply]:
    def talk(instance, socket, sock, case, world, payload, *, tls: bool = False) -> Reply:
        if tls:
            sock = wrap_tls(instance, sock, world.host(case.host).names[0])
        hello = _recv_line(sock)
        sock.call("sendall", bye)
        answer = _recv_line(sock)
        ok = hello.startswith(prefix) and answer.startswith(bye_prefix)
        return Reply(ok, f"greeting {prefix!r}..., then {bye_prefix!r}... after {bye!r}",
                     f"{_head(hello)} then {_head(answer)}", (len(bye), digest(bye)))
    return talk


def wrap_tls(instance: Any, sock: Remote, server_name: str) -> Remote:
    """A verified TLS client socket over `sock`, using the instance's own ssl module."""
    ssl = instance.module("ssl")
    context = ssl.call("create_default_context")
    return context.call("wrap_socket", sock, server_hostname=server_name)


def _tls(talk: Callable[..., Reply]) -> Callable[..., Reply]:
    """The same exchange inside verified TLS. The server's answer to our command over
    the verified session is the proof of delivery (the world does not journal a
    plaintext digest for every TLS front), so the journal check is the handshake."""
    def wrapped(*args: Any) -> Reply:
        reply = talk(*args, tls=True)
        return Reply(reply.ok, reply.expected, reply.observed, None, "tls-handshake")
    return wrapped


def _probe_http(instance, socket, sock, case, world, payload, *, tls: bool = False) -> Reply:
    name = world.host(case.host).names[0]
    if tls:
        sock = wrap_tls(instance, sock, name)
    request = f"GET / HTTP/1.0\r\nHost: {name}\r\nUser-Agent: conformance\r\n\r\n".encode()
    sock.call("sendall", request)
    got = instance.recv_until_eof(sock)
    head = bytes(got.head)
    return Reply(head.startswith(b"HTTP/1.") and b" 200" in head.split(b"\r\n", 1)[0],
                 "an HTTP 200 status line", _head(head), (len(request), digest(request)))


def _dns_query(world: World) -> tuple[bytes, str, str]:
    from dnslib import DNSRecord
    host = world.host("public-echo")
    query = DNSRecord.question(host.names[0], "A")
    return query.pack(), host.names[0], host.ipv4[0]


def _dns_answer(data: bytes, name: str, address: str, sent: bytes) -> Reply:
    from dnslib import DNSRecord
    try:
        answers = [str(rr.rdata) for rr in DNSRecord.parse(data).rr]
    except Exception as exc:   # a garbled answer is a wrong reply, not a harness error
        return Reply(False, f"a DNS answer {name} A {address}", f"unparsable: {exc!r}",
                     (len(sent), digest(sent)))
    return Reply(address in answers, f"a DNS answer {name} A {address}", f"answers {answers}",
                 (len(sent), digest(sent)))


def _probe_dns_tcp(instance, socket, sock, case, world, payload) -> Reply:
    query, name, address = _dns_query(world)
    framed = len(query).to_bytes(2, "big") + query
    sock.call("sendall", framed)
    sock.call("shutdown", socket.SHUT_WR)
    got = instance.recv_until_eof(sock, head=4096)
    return _dns_answer(bytes(got.head)[2:], name, address, framed)


def _probe_dns_udp(instance, socket, sock, case, world, payload) -> Reply:
    query, name, address = _dns_query(world)
    sock.call("sendto", query, case.sockaddr)
    data, _ = sock.call("recvfrom", 4096)
    return _dns_answer(bytes(data), name, address, query)


def _probe_echo_udp(instance, socket, sock, case, world, payload) -> Reply:
    sock.call("sendto", payload, case.sockaddr)
    data, _ = sock.call("recvfrom", 65536)
    return Reply(bytes(data) == payload, f"the echo returns the {len(payload)}-byte datagram",
                 _head(bytes(data)), (len(payload), digest(payload)))


def _probe_sink_udp(instance, socket, sock, case, world, payload) -> Reply:
    sock.call("sendto", payload, case.sockaddr)
    data, _ = sock.call("recvfrom", 65536)
    want = f"{len(payload)} {digest(payload)}".encode()
    return Reply(bytes(data).strip() == want, f"the sink answers {want!r}",
                 _head(bytes(data), 120), (len(payload), digest(payload)))


def _probe_canary_udp(instance, socket, sock, case, world, payload) -> Reply:
    sock.call("sendto", payload, case.sockaddr)
    return Reply(True, "no reply expected from a canary port", "sent",
                 (len(payload), digest(payload)))


PROBES: dict[tuple[str, str | None], Callable[..., Reply]] = {
    ("tcp", None): _probe_canary_tcp,
    ("tcp", "echo"): _probe_echo_tcp,
    ("tcp", "sink"): _probe_sink_tcp,
    ("tcp", "blackhole"): _probe_canary_tcp,
    ("tcp", "smtp-submission"): _greeting(b"220", b"QUIT\r\n", b"221"),
    ("tcp", "smtps"): _tls(_greeting(b"220", b"QUIT\r\n", b"221")),
    ("tcp", "pop3s"): _tls(_greeting(b"+OK", b"QUIT\r\n", b"+OK")),
    ("tcp", "imaps"): _tls(_greeting(b"* OK", b"a1 LOGOUT\r\n", b"* BYE")),
    ("tcp", "nntp"): _greeting(b"20", b"QUIT\r\n", b"205"),
    ("tcp", "ftp"): _greeting(b"220", b"QUIT\r\n", b"221"),
    ("tcp", "http"): _probe_http,
    ("tcp", "https"): _tls(_probe_http),
    ("tcp", "dns"): _probe_dns_tcp,
    ("udp", None): _probe_canary_udp,
    ("udp", "echo"): _probe_echo_udp,
    ("udp", "sink"): _probe_sink_udp,
    ("udp", "blackhole"): _probe_canary_udp,
    ("udp", "dns"): _probe_dns_udp,
}


def run_matrix_case(instance: Any, verdict: Any, world: Any, case: MatrixCase) -> None:
    """The whole of one matrix case: aim, observe, record, judge."""
    if case.expected == "blocked":
        check_blocked(instance, verdict, case)
    else:
        check_allowed(instance, verdict, getattr(world, "data", world), case)


# ---------------------------------------------------------------------------
# Small helpers for the hand-written cases
# ---------------------------------------------------------------------------

# Linux values, used when the candidate's module lacks a constant (a sandbox may
# leave out names it does not support; the case must still be able to ask).
LINUX = {
    "AF_UNIX": 1, "AF_INET": 2, "AF_INET6": 10, "AF_NETLINK": 16, "AF_PACKET": 17,
    "SOCK_STREAM": 1, "SOCK_DGRAM": 2, "SOCK_RAW": 3, "SOCK_SEQPACKET": 5,
    "IPPROTO_IP": 0, "IPPROTO_ICMP": 1, "IPPROTO_TCP": 6, "IPPROTO_UDP": 17,
    "IPPROTO_IPV6": 41, "IPPROTO_SCTP": 132, "SOL_SOCKET": 1,
    "SO_DEBUG": 1, "SO_REUSEADDR": 2, "SO_TYPE": 3, "SO_ERROR": 4, "SO_BROADCAST": 6,
    "SO_SNDBUF": 7, "SO_RCVBUF": 8, "SO_KEEPALIVE": 9, "SO_OOBINLINE": 10, "SO_LINGER": 13,
    "SO_PRIORITY": 12, "SO_BINDTODEVICE": 25, "TCP_NODELAY": 1, "TCP_MAXSEG": 2,
    "TCP_KEEPIDLE": 4, "IP_TOS": 1, "IP_TTL": 2, "IP_MULTICAST_TTL": 33, "IPV6_V6ONLY": 26,
    "SHUT_WR": 1,
}


def const(socket: Remote, name: str) -> int:
    """The candidate's value of socket.NAME, or Linux's when the module lacks it."""
    got = attempt(getattr, socket, name)
    if got.ok and isinstance(got.value, int):
        return int(got.value)
    return LINUX[name]


def address_of(world: Any, host_id: str, fam: str = "ipv4") -> str:
    return str(getattr(world, "data", world).host(host_id).address(fam))


def new_socket(socket: Remote, fam: str = "ipv4", proto: str = "tcp") -> Remote:
    """A TCP or UDP socket of family `fam` ("ipv4" | "ipv6"), with the cases' timeout."""
    sock = socket.call("socket", family_const(socket, fam),
                       socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
    sock.call("settimeout", TIMEOUT)
    return sock


def blocked_with_socket_error(verdict: Any, tried: Attempt, address: str, port: int,
                              proto: str) -> None:
    """The blocked verdict for one destination (the call raised and nothing reached it,
    refused by `verdict.blocked` where the world could not have seen a leak), and the
    error is the socket error."""
    verdict.blocked(tried, address=address, port=port, proto=proto)
    verdict.raised(tried, socket_error=True)


def text(value: Any) -> str:
    """A string value from any runtime: a 2.7 agent's native str arrives as bytes."""
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return str(value)
