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

from conformance.leaks import fresh_events
from conformance.remote import Attempt, Remote, attempt
from conformance.verdict import (
    judge_allowed,
    judge_blocked,
    judge_reached_or_refused,
    judge_untouched,
)
from fakenet.world import World

from .matrix import MatrixCase, MatrixDataError, catalogue_world

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
    if case.mode == "rebind":
        return _aim_by_name(instance, socket, case, payload)
    steps: list[str] = []
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


def _aim_by_name(instance: Any, socket: Remote, case: MatrixCase, payload: bytes) -> Aim:
    """DST-8: `case.warmups` resolutions of the rebinding name, then the call by name
    through `case.path`; the world's sequence decides which query meets the blocked answer."""
    kind = socket.SOCK_STREAM if case.proto == "tcp" else socket.SOCK_DGRAM
    steps = [f"warm-up getaddrinfo({case.target!r}) #{n + 1}: "
             + attempt(socket.call, "getaddrinfo", case.target, case.port,
                       family_const(socket, case.family), kind).describe()
             for n in range(case.warmups)]
    if case.path == "sendto":
        result = _sendto(socket, case, payload)
    elif case.path == "udp_connect":
        result = _connect_send(socket, case.family, case.sockaddr, payload, "udp")
    elif case.path == "create_connection":
        opened = attempt(socket.call, "create_connection", case.sockaddr, TIMEOUT)
        result = Aim(decisive=opened, sock=opened.value if opened.ok else None)
        result.note(f"create_connection({case.sockaddr!r})", opened)
        if opened.ok:
            result.note("sendall", attempt(opened.value.call, "sendall", payload))
    elif case.path == "tls_connect":
        result = _tls_connect(instance, socket, case)
    else:
        result = _connect_send(socket, case.family, case.sockaddr, payload)
    result.steps[:0] = steps
    return result


def _tls_connect(instance: Any, socket: Remote, case: MatrixCase) -> Aim:
    """An unverified context wraps an unconnected socket, which then connects by name:
    the resolution happens inside the ssl socket's connect. The handshake is left for
    later (a canary never answers one); the TCP connection is what would leak."""
    ssl = instance.module("ssl")
    context = ssl.call("create_default_context")
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    plain = new_socket(socket, case.family, "tcp")
    wrapped = attempt(context.call, "wrap_socket", plain, server_hostname=case.target,
                      do_handshake_on_connect=False)
    result = Aim(decisive=wrapped, sock=wrapped.value if wrapped.ok else plain)
    result.note("wrap_socket(unconnected)", wrapped)
    if wrapped.ok:
        result.decisive = result.note(f"tls connect{case.sockaddr!r}",
                                      attempt(wrapped.value.call, "connect", case.sockaddr))
    return result


def _connect_send(socket: Remote, fam: str, sockaddr: tuple, payload: bytes,
                  proto: str = "tcp") -> Aim:
    sock = new_socket(socket, fam, proto)
    result = Aim(decisive=attempt(sock.call, "connect", sockaddr), sock=sock)
    result.note(f"connect{sockaddr!r}", result.decisive)
    if result.decisive.ok:
        send = "sendall" if proto == "tcp" else "send"
        sent = result.note(send, attempt(sock.call, send, payload))
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

def _describe(events: list[Any]) -> str:
    shown = "; ".join(f"{e.role} {e.endpoint} {e.kind} {e.proto} {e.dst[0]}:{e.dst[1]}"
                      + (f" {e.nbytes}B" if e.nbytes else "") for e in events[:4])
    return f"{len(events)} journal event(s): {shown}" if events else "no journal event"


def check_blocked(instance: Any, verdict: Any, case: MatrixCase) -> None:
    """Both halves of "blocked" (conformance.verdict.judge_blocked), with the matrix
    cell, taken from that same judgement, recorded first."""
    payload = case.payload()
    result = aim(instance, case, payload)
    _closed(result.sock)
    hits = verdict.watch(case.watch, case.port, case.proto)
    where = " or ".join(f"{a}:{case.port}/{case.proto}" for a in case.watch)
    if case.mode in ("rebind", "mixed"):
        judgement = judge_untouched(hits, where, "; ".join(result.steps))
    else:
        # a spelling that may be rejected as invalid, or a form the platform itself
        # refuses, passes on any raise; everywhere else a block is the socket error
        rejection_ok = (case.clause in REJECTION_CLAUSES or "\x00" in case.target
                        or case.platform_refuses)
        judgement = judge_blocked(result.decisive, hits, where, rejection_ok=rejection_ok)
    verdict.evidence(case.matrix_evidence(judgement.cell))
    verdict.evidence({"steps": result.steps})
    verdict.record(judgement, "blocked-answer-not-reached" if case.mode in ("rebind", "mixed")
                   else "blocked")


@dataclass
class Exchange:
    """A connect (TCP) and one probe exchange with the listener at the case's host."""

    opened: Attempt
    talked: Attempt | None
    steps: list[str]

    @property
    def decisive(self) -> Attempt:
        """The step the outcome turns on: the exchange once the connect went through."""
        return self.talked if self.opened.ok and self.talked is not None else self.opened

    @property
    def reply(self) -> Reply | None:
        value = self.talked.value if self.talked is not None and self.talked.ok else None
        return value if isinstance(value, Reply) else None


def exchange(instance: Any, world: World, case: MatrixCase) -> Exchange:
    """Connect to the case's target (TCP) and speak to the listener at its host."""
    socket = instance.module("socket")
    sock = new_socket(socket, case.family, case.proto)
    steps: list[str] = []
    if case.proto == "tcp":
        opened = attempt(sock.call, "connect", case.sockaddr)
        steps.append(f"connect{case.sockaddr!r}: {opened.describe()}")
    else:
        opened = Attempt(ok=True)
    talked = None
    if opened.ok:
        service = service_at(world, case.host, case.proto, case.port)
        talk = probe_for(case.proto, service, case.source)
        talked = attempt(talk, instance, socket, sock, case, world, case.payload())
        steps.append(f"probe {service or 'canary'}: {talked.describe()}")
    _closed(sock)
    return Exchange(opened, talked, steps)


def _arrived(verdict: Any, case: MatrixCase, reply: Reply | None) -> list[Any]:
    """The journal events at the case's watched addresses, once the effect the reply
    promises has had time to show."""
    if reply is not None:
        _await_effect(verdict, case, reply)
    return [e for a in case.watch
            for e in verdict.events(address=a, port=case.port, proto=case.proto)]


def _intact(hits: list[Any], reply: Reply) -> bool:
    if reply.delivered is None:
        return any(reply.journal_kind in (None, e.kind) for e in hits)
    nbytes, sha = reply.delivered
    return any(e.kind in ("close", "datagram") and e.nbytes == nbytes and e.sha256 == sha
               for e in hits)


def check_allowed(instance: Any, verdict: Any, world: World, case: MatrixCase) -> None:
    """The call succeeds, the bytes arrive intact, and the reply comes back."""
    done = exchange(instance, world, case)
    for address in case.watch:
        verdict.expect(address, case.port, case.proto)
    reply = done.reply
    hits = _arrived(verdict, case, reply)
    verdict.evidence(case.matrix_evidence(judge_allowed(done.decisive, hits,
                                                        case.destination).cell))
    verdict.evidence({"steps": done.steps})
    verdict.check(reply is not None, name="succeeded",
                  expected="the connect and the exchange succeed", observed="; ".join(done.steps))
    assert reply is not None
    if reply.delivered is not None:
        nbytes, sha = reply.delivered
        verdict.check(_intact(hits, reply), name="delivered",
                      expected=f"{nbytes} bytes sha256={sha[:16]}... arrive intact at "
                               f"{case.destination}:{case.port}/{case.proto}",
                      observed=_describe(hits))
    else:
        verdict.check(_intact(hits, reply), name="reached",
                      expected=f"{reply.journal_kind or 'traffic'} at "
                               f"{case.destination}:{case.port}/{case.proto}",
                      observed=_describe(hits))
    verdict.check(reply.ok, name="reply", expected=reply.expected, observed=reply.observed)


def _ours(event: Any, case: MatrixCase) -> bool:
    """Whether a journal event is this case's traffic: a new TCP connection (a case
    closes its sockets before it ends: fresh_events drops an earlier one's close), or a
    datagram carrying this case's own payload (an earlier case's datagram can reach the
    journal late on a loaded machine)."""
    return event.kind != "datagram" or event.sha256 == digest(case.payload())


def check_reached_or_refused(instance: Any, verdict: Any, world: World,
                             case: MatrixCase) -> None:
    """An odd spelling of an address (or a text that is no address): it reaches the
    address it means intact, or it is refused before anything is dialled. Traffic on
    the case's port at any other address fails it (conformance.verdict)."""
    done = exchange(instance, world, case)
    means = case.address if case.expected == "reached-or-refused" else None
    reply = done.reply
    hits = _arrived(verdict, case, reply) if means else []
    if means:
        verdict.expect(means, case.port, case.proto)
    seen = {e.seq for e in hits}
    elsewhere = [e for e in fresh_events(verdict.events(port=case.port, proto=case.proto))
                 if e.seq not in seen and _ours(e, case)]
    if not elsewhere:
        verdict.nothing_lost()   # "nothing else was dialled" needs a world that lost nothing
    judgement = judge_reached_or_refused(
        done.decisive, intact=reply is not None and reply.ok and _intact(hits, reply),
        reached=any(_ours(e, case) for e in fresh_events(hits)), elsewhere=elsewhere,
        where=f"{means}:{case.port}/{case.proto}" if means else None)
    verdict.evidence(case.matrix_evidence(judgement.cell))
    verdict.evidence({"steps": done.steps})
    verdict.record(judgement, case.expected)


def _await_effect(verdict: Any, case: MatrixCase, reply: Reply) -> None:
    """Wait (bounded, on the journal) for the peer-visible effect the exchange should
    have caused, so a slow world delays the verdict instead of flipping it."""
    if reply.delivered is not None:
        nbytes, sha = reply.delivered
        verdict.await_event(port=case.port, proto=case.proto,
                            match=lambda e: e.nbytes == nbytes and e.sha256 == sha)
    else:
        verdict.await_event(port=case.port, proto=case.proto,
                            match=lambda e: reply.journal_kind in (None, e.kind))


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


def probe_for(proto: str, service: str | None, source: str = "") -> Callable[..., Reply]:
    """The exchange for `service` (None: a canary port, which only takes the bytes).
    A service with no probe is a data error, never a silent fall back to the canary's."""
    talk = PROBES.get((proto, service))
    if talk is None:
        raise MatrixDataError(f"{source}: no probe speaks {service!r} over {proto}; add one "
                              f"to cases/probes.py PROBES or aim the row elsewhere")
    return talk


def with_probes(cases: list[MatrixCase], world: World | None = None) -> list[MatrixCase]:
    """`cases`, once every allowed one is known to have a probe (MatrixDataError if not):
    checked when the catalogue loads, not when the case runs."""
    world = world or catalogue_world()
    for case in cases:
        if case.expected != "blocked":
            probe_for(case.proto, service_at(world, case.host, case.proto, case.port),
                      case.source)
    return cases


def run_matrix_case(instance: Any, verdict: Any, world: Any, case: MatrixCase) -> None:
    """The whole of one matrix case: aim, observe, record, judge."""
    data = getattr(world, "data", world)
    if case.expected == "blocked":
        check_blocked(instance, verdict, case)
    elif case.expected == "allowed":
        check_allowed(instance, verdict, data, case)
    else:
        check_reached_or_refused(instance, verdict, data, case)


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


def recv_exactly(sock: Remote, nbytes: int) -> bytes:
    """Read until `nbytes` bytes or EOF: a stream may hand an echo over in pieces."""
    got = b""
    while len(got) < nbytes:
        part = bytes(sock.call("recv", nbytes - len(got)))
        if not part:
            break
        got += part
    return got


def text(value: Any) -> str:
    """A string value from any runtime: a 2.7 agent's native str arrives as bytes."""
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return str(value)
