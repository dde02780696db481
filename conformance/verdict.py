"""The evidence checks a case makes (the `verdict` fixture), over the world's journal.

    verdict.blocked(tried, address="10.0.0.1", port=7, proto="tcp")

Every check records what the clause expects beside what happened (`Check`);
a failed one raises AssertionError, which the plugin turns into FAIL,
NON-STRICT or INFORMATIONAL by the case's level. A check the world could not
have observed (an unwatched port, a host name instead of the dialled
address) raises EvidenceUnavailable: an ERROR, never a pass.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from conformance.instance import activity
from conformance.leaks import Cell
from conformance.remote import Attempt
from fakenet.drops import DROPS

if TYPE_CHECKING:  # fixtures.py imports this module
    from conformance.fixtures import CaseState


# How long a positive check waits for a peer-visible effect (a close, the bytes)
# to reach the journal: a slow machine delays such a verdict, never flips it.
SETTLE_TIMEOUT = 10.0


class EvidenceUnavailable(Exception):
    """The world cannot observe what a check needs (e.g. no canary on that
    port): the case cannot reach a verdict, so it is an ERROR, never a pass."""


@dataclass(frozen=True)
class Check:
    """One evidence check: what the clause expects beside what happened."""

    name: str
    ok: bool
    expected: str
    observed: str

    def to_json(self) -> dict[str, Any]:
        return {"check": self.name, "ok": self.ok, "expected": self.expected,
                "observed": self.observed}


# The cells of the truth table: what the world saw, beside how the call ended.
BLOCKED, ALLOWED, REJECTED, TIMEOUT, ERROR = "blocked", "allowed", "rejected", "timeout", "error"


@dataclass(frozen=True)
class Judgement:
    """One destination's verdict: the truth-table cell and whether the clause holds.
    The case's check, the matrix evidence and the reports all take it from here."""

    cell: str
    ok: bool
    expected: str
    observed: str


def outcome_cell(tried: Attempt | None, hits: Sequence[Any], *,
                 rejection_ok: bool = False) -> str:
    """What happened at one destination. Traffic there is "allowed", whatever the call
    said. Otherwise a socket.error is "blocked"; a timeout is never a refusal
    ("timeout"); another exception is "error", or "rejected" where the clause accepts
    a rejection of the input (DST-7); no exception and no traffic is "error"."""
    if hits:
        return ALLOWED
    error = tried.error if tried is not None else None
    if error is None:
        return ERROR
    if error.is_timeout:
        return TIMEOUT
    if error.is_socket_error:
        return BLOCKED
    return REJECTED if rejection_ok else ERROR


def judge_blocked(tried: Attempt, hits: Sequence[Any], where: str, *,
                  rejection_ok: bool = False) -> Judgement:
    """Blocked: the call raised a socket.error (or, with `rejection_ok`, rejected its
    input) AND nothing reached `where`."""
    cell = outcome_cell(tried, hits, rejection_ok=rejection_ok)
    raises = "the call raises " + ("socket.error or rejects its input" if rejection_ok
                                   else "socket.error")
    return Judgement(cell, cell in (BLOCKED, REJECTED),
                     f"{raises} and nothing reaches {where}",
                     f"{tried.describe()}; " + (_describe_events(hits) if hits
                                                else f"nothing reached {where}"))


def judge_untouched(hits: Sequence[Any], where: str, story: str) -> Judgement:
    """Nothing reached `where`; the call itself may raise or take an allowed path
    (a rebinding name, a name whose answers mix blocked and allowed addresses)."""
    return Judgement(ALLOWED if hits else BLOCKED, not hits,
                     f"nothing reaches {where} (the call may raise or use an allowed answer)",
                     f"{story}; " + (_describe_events(hits) if hits
                                     else f"nothing reached {where}"))


def judge_allowed(tried: Attempt, hits: Sequence[Any], where: str) -> Judgement:
    """Allowed: the call succeeded AND traffic reached `where`."""
    return Judgement(outcome_cell(tried, hits), tried.ok and bool(hits),
                     f"the call succeeds and traffic reaches {where}",
                     f"{tried.describe()}; " + (_describe_events(hits) if hits
                                                else f"nothing reached {where}"))


# Errors that say the call dialled something that did not answer. The world
# answers at the address a reached-or-refused case means, so one of these after
# aiming there says the candidate dialled another address.
DIALLED_ERRNOS = ("ECONNREFUSED", "ENETUNREACH", "EHOSTUNREACH", "ETIMEDOUT", "ECONNRESET",
                  "ECONNABORTED", "EHOSTDOWN", "ENETDOWN", "EPIPE")
ELSEWHERE = "elsewhere"


def judge_reached_or_refused(tried: Attempt, *, intact: bool, reached: bool,
                             elsewhere: Sequence[Any], where: str | None) -> Judgement:
    """An odd spelling of an address: it reaches `where` (the address it means) and the
    bytes arrive intact there, or the call refuses it before dialling anything. Traffic
    on the case's port anywhere else, a timeout, or an error of a dialled connection is
    a miss, and so is a raise after traffic reached `where` (dialled, then failed: no
    refusal). `where` None: the text means no address, so only a refusal holds."""
    wanted = ("the call reaches " + where + " intact, or raises socket.error before "
              "dialling; nothing else is dialled") if where else \
        "the call raises socket.error; nothing is dialled"
    if elsewhere:
        cell, ok = ELSEWHERE, False
    elif tried.ok:
        cell, ok = (ALLOWED if intact else ERROR), intact and where is not None
    else:
        assert tried.error is not None
        if tried.error.is_timeout:
            cell, ok = TIMEOUT, False
        elif reached or tried.error.has_errno(*DIALLED_ERRNOS):
            cell, ok = ERROR, False
        elif tried.error.is_socket_error:
            cell, ok = BLOCKED, True   # gaierror included: the socket module's own refusal
        else:
            cell, ok = ERROR, False    # another exception is no refusal of the socket API
    seen = (_describe_events(elsewhere) if elsewhere
            else ("the bytes arrived intact" if intact else "no traffic arrived")
            + (f" at {where}" if where else ""))
    return Judgement(cell, ok, wanted, f"{tried.describe()}; {seen}")


@dataclass(frozen=True)
class JournalRead:
    """One read of the case's journal, current while no instance was asked anything."""

    activity: int
    events: tuple[Any, ...]


def case_journal(state: CaseState, world: Any) -> list[Any]:
    """The journal events since the case's mark: one round trip to the world, reused
    until the case makes another request (a request is what can cause traffic)."""
    if state.mark is None:
        raise EvidenceUnavailable("no journal mark was taken for this case")
    now = activity()
    if state.journal is None or state.journal.activity != now:
        state.journal = JournalRead(now, tuple(world.events(state.mark)))
    return list(state.journal.events)


class Verdict:
    """Evidence checks over the journal since the case's mark.

    "blocked" = the call raised AND nothing reached the destination;
    "allowed" = the call succeeded AND traffic reached it;
    "delivered" = the peer received exactly these bytes.
    """

    def __init__(self, state: CaseState, world: Any) -> None:
        self._state = state
        self._world = world

    # -- raw material ---------------------------------------------------------
    def events(self, *, address: str | None = None, port: int | None = None,
               proto: str | None = None, kind: str | Sequence[str] | None = None,
               role: str | None = None, endpoint: str | None = None) -> list[Any]:
        """Journal events since the case's mark (settled), filtered."""
        kinds = (kind,) if isinstance(kind, str) else tuple(kind or ())
        if address is not None:
            address = _journal_address(address)
        found = []
        for event in case_journal(self._state, self._world):
            if address is not None and not _same_address(event.dst[0], address):
                continue
            if port is not None and event.dst[1] != port:
                continue
            if proto is not None and event.proto != proto:
                continue
            if kinds and event.kind not in kinds:
                continue
            if role is not None and event.role != role:
                continue
            if endpoint is not None and event.endpoint != endpoint:
                continue
            found.append(event)
        return found

    def await_event(self, *, timeout: float = SETTLE_TIMEOUT,
                    match: Callable[[Any], bool] | None = None, **filters: Any) -> list[Any]:
        """The events `events(**filters)` finds, waiting up to `timeout` s until one
        satisfies `match` (default: any). Each look is a settled journal read, so
        the wait ends as soon as the effect is journalled; an effect that never
        comes costs `timeout`, and the caller's check then fails."""
        deadline = time.monotonic() + timeout
        pause = 0.005
        while True:
            found = self.events(**filters)
            if any(match(e) for e in found) if match is not None else found:
                return found
            left = deadline - time.monotonic()
            if left <= 0:
                return found
            time.sleep(min(pause, left))
            pause = min(pause * 2, 0.25)
            self._state.journal = None   # the cached read is what we are waiting past

    def nothing_lost(self) -> None:
        """Refuse "nothing arrived" if the world's kernel dropped anything during the
        case (a full receive buffer, a full listen queue): EvidenceUnavailable."""
        lost = [e for e in self.events() if e.kind == DROPS and e.role == "world"]
        if lost:
            counts: dict[str, int] = {}
            for event in lost:
                for name, n in event.detail.items():
                    counts[name] = counts.get(name, 0) + int(n)
            said = ", ".join(f"{name} +{n}" for name, n in sorted(counts.items()))
            raise EvidenceUnavailable(
                f"the world's kernel dropped traffic during this case ({said}): "
                "'nothing arrived' would prove nothing")

    @property
    def checks(self) -> tuple[Check, ...]:
        return tuple(self._state.checks)

    def evidence(self, entry: Mapping[str, Any]) -> None:
        """Attach one structured entry to the case's result, e.g. the
        `{"matrix": {...}}` cell the reports' destination table reads."""
        self._state.evidence.append(dict(entry))

    def expect(self, address: str, port: int, proto: str = "tcp") -> None:
        """Declare that this case reaches address:port/proto on purpose (a server it
        talks to), so traffic there is no leak (conformance.leaks)."""
        self._state.expected.add(Cell.of(_journal_address(address), port, proto))

    def watch(self, addresses: Sequence[str], port: int, proto: str) -> list[Any]:
        """The events at each of `addresses` on port/proto, refusing (EvidenceUnavailable)
        any the world could not have seen. These cells are judged by this case."""
        found: list[Any] = []
        for address in addresses:
            self._require_observable(address, port, proto)
            self._state.judged.add(Cell.of(_journal_address(address), port, proto))
            found.extend(self.events(address=address, port=port, proto=proto))
        if not found:
            self.nothing_lost()   # a world that dropped traffic cannot say "nothing arrived"
        return found

    def record(self, judgement: Judgement, name: str) -> None:
        """Record a judgement as a check; AssertionError if the clause does not hold."""
        self.check(judgement.ok, expected=judgement.expected, observed=judgement.observed,
                   name=name)

    def check(self, ok: bool, *, expected: str, observed: str, name: str = "check") -> None:
        """Record one check; raise AssertionError if it failed."""
        self._state.checks.append(Check(name, bool(ok), expected, observed))
        if not ok:
            raise AssertionError(f"{name}: expected {expected}; observed {observed}")

    # -- the verdicts -----------------------------------------------------------
    def raised(self, attempt: Attempt, *, errno: str | Sequence[str] | None = None,
               socket_error: bool | None = None, is_a: str | None = None,
               timeout: bool | None = None) -> None:
        """The attempt raised, optionally with errno in `errno` ("EACCES"), as a
        socket.error (`socket_error=True`), with `is_a` in its MRO."""
        wants = ["the call raises"]
        if socket_error:
            wants.append("a socket.error")
        if timeout:
            wants.append("a socket.timeout")
        if is_a:
            wants.append(f"an instance of {is_a}")
        names = (errno,) if isinstance(errno, str) else tuple(errno or ())
        if names:
            wants.append(f"errno {' or '.join(names)}")
        error = attempt.error
        ok = (error is not None
              and (socket_error is None or error.is_socket_error == socket_error)
              and (timeout is None or error.is_timeout == timeout)
              and (is_a is None or error.is_a(is_a))
              and (not names or error.has_errno(*names)))
        self.check(ok, expected=", ".join(wants), observed=attempt.describe(), name="raised")

    def succeeded(self, attempt: Attempt) -> None:
        self.check(attempt.ok, expected="the call succeeds", observed=attempt.describe(),
                   name="succeeded")

    def nothing_reached(self, address: str, port: int | None = None,
                        proto: str | None = None) -> None:
        """No journal event (connection, datagram, service request) at address:port/proto."""
        if port is not None and proto is not None:
            hits = self.watch([address], port, proto)
        else:
            self._require_observable(address, port, proto)
            hits = self.events(address=address, port=port, proto=proto)
            if not hits:
                self.nothing_lost()
        where = _where(address, port, proto)
        self.check(not hits, expected=f"nothing reaches {where}",
                   observed=_describe_events(hits) if hits else f"nothing reached {where}",
                   name="nothing-reached")

    def reached(self, address: str, port: int | None = None, proto: str | None = None,
                kind: str | Sequence[str] | None = None) -> list[Any]:
        """Some journal event at address:port/proto (awaited); returns them."""
        hits = self.await_event(address=address, port=port, proto=proto, kind=kind)
        where = _where(address, port, proto)
        self.check(bool(hits), expected=f"traffic reaches {where}",
                   observed=_describe_events(hits) if hits else f"nothing reached {where}",
                   name="reached")
        return hits

    def blocked(self, attempt: Attempt, address: str, port: int, proto: str = "tcp", *,
                rejection_ok: bool = False) -> Judgement:
        """Both halves of "blocked" (`judge_blocked`): the call raised a socket.error AND
        nothing reached address:port/proto. Both are checked (and recorded) even when
        the first fails."""
        hits = self.watch([address], port, proto)
        judgement = judge_blocked(attempt, hits, _where(address, port, proto),
                                  rejection_ok=rejection_ok)
        self.record(judgement, "blocked")
        return judgement

    def allowed(self, attempt: Attempt, address: str, port: int, proto: str = "tcp"
                ) -> Judgement:
        """The call succeeded AND traffic reached address:port/proto (`judge_allowed`)."""
        self.expect(address, port, proto)
        hits = (self.await_event(address=address, port=port, proto=proto) if attempt.ok
                else self.events(address=address, port=port, proto=proto))
        judgement = judge_allowed(attempt, hits, _where(address, port, proto))
        self.record(judgement, "allowed")
        return judgement

    def delivered(self, nbytes: int, sha256: str, *, address: str | None = None,
                  port: int | None = None, proto: str = "tcp") -> Any:
        """The peer received exactly `nbytes` with digest `sha256`: one TCP
        connection's `close` event, or one UDP `datagram`. Returns the event."""
        kind = "close" if proto == "tcp" else "datagram"

        def intact(event: Any) -> bool:
            return bool(event.nbytes == nbytes and event.sha256 == sha256)

        candidates = self.await_event(address=address, port=port, proto=proto, kind=kind,
                                      match=intact)
        match = [e for e in candidates if intact(e)]
        where = _where(address or "any address", port, proto)
        self.check(bool(match),
                   expected=f"{nbytes} bytes sha256={sha256[:16]}... arrive intact at {where}",
                   observed=_describe_events(candidates) if candidates
                   else f"no {kind} event at {where}",
                   name="delivered")
        return match[0]

    # -- observability ----------------------------------------------------------
    def _require_observable(self, address: str, port: int | None, proto: str | None) -> None:
        """Refuse to call something "blocked" that the world could not have seen."""
        data = getattr(self._world, "data", None)
        if data is None:
            raise EvidenceUnavailable(
                "the world has no data saying what it watches, so 'nothing reached' "
                "would prove nothing")
        if port is not None and proto in ("tcp", "udp") and port not in data.watched_ports(proto):
            raise EvidenceUnavailable(
                f"the world does not watch {proto} port {port}: no canary could see "
                f"traffic to it, so 'nothing reached' would prove nothing")
        if not _watched_address(data, address):
            raise EvidenceUnavailable(
                f"the world does not watch address {address}: traffic to it would not be "
                f"journalled, so 'nothing reached' would prove nothing")


def _ip(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """The address as the network sees it: an IPv4-mapped IPv6 address is its IPv4."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _same_address(a: str, b: str) -> bool:
    try:
        return _ip(a) == _ip(b)
    except ValueError:
        return a == b


def _journal_address(address: str) -> str:
    """The address as the journal records it. A host name cannot be matched
    (events carry the address dialled), and silently matching nothing would
    make "nothing reached" pass, so a name is refused."""
    if address == "<broadcast>":
        return "255.255.255.255"
    try:
        _ip(address)
    except ValueError:
        raise EvidenceUnavailable(
            f"{address!r} is not an IP address: journal events carry the address dialled, "
            f"so give the address the name resolves to in the world") from None
    return address


def _watched_address(data: Any, address: str) -> bool:
    ip = _ip(_journal_address(address))
    if ip.is_unspecified or ip.is_loopback:
        return True
    watched = getattr(data, "watched", None)
    networks = []
    if watched is not None:
        networks = [*watched.ipv4, *watched.ipv6, *watched.multicast]
        if str(ip) in watched.broadcast:
            return True
    if any(ip.version == n.version and ip in n for n in networks):
        return True
    return any(_same_address(a, str(ip)) for host in data.hosts for a in host.addresses)


def _where(address: str, port: int | None, proto: str | None) -> str:
    place = f"[{address}]" if ":" in address else address
    if port is not None:
        place += f":{port}"
    return place + (f"/{proto}" if proto else "")


def _describe_events(events: Sequence[Any]) -> str:
    shown = "; ".join(
        f"{e.role} {e.endpoint} {e.kind} {e.proto} {_where(e.dst[0], e.dst[1], None)}"
        + (f" {e.nbytes}B sha256={e.sha256[:12]}" if e.nbytes else "")
        for e in events[:5])
    more = f" (+{len(events) - 5} more)" if len(events) > 5 else ""
    return f"{len(events)} journal event(s): {shown}{more}"
