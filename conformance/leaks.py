"""Leaks: traffic at a cell the catalogue holds blocked at MUST is a MUST failure,
whatever the case was about.

After each case the plugin hands the case's journal events (read once) to
`leak_results`. Every event at an address, port and protocol that the
catalogue's table blocks at MUST (`blocked_by(address, port, proto)` gives
the clause: DST-x, P25-1, EXC-x), and that the case neither expected (a
server it talks to on purpose: `verdict.expect`) nor judges itself at MUST
(`verdict.blocked` on that cell in a MUST case), becomes one more result per
clause, `CASE_ID#leak-CLAUSE`: FAIL at MUST, the events as evidence. The
case's own level (API-5 SHOULD) still applies to what the case checks; it
can no longer lower a leak.

A late event of a connection that began before the case (a close, a
service's note on it) belongs to that earlier case and is not counted here;
a new connect or datagram always counts.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from conformance import catalogue
from conformance.model import CaseResult, ClauseRef, Level, Outcome

LEAK_MARK = "#leak-"
BlockedBy = Callable[[str, int, str], "str | None"]


@dataclass(frozen=True)
class Cell:
    """One address, port and protocol, the address as the network sees it."""

    address: str
    port: int
    proto: str

    @classmethod
    def of(cls, address: str, port: int, proto: str) -> Cell:
        return cls(network_address(address), int(port), proto)


def network_address(address: str) -> str:
    """The address traffic lands on: no scope suffix, an IPv4-mapped IPv6 address as
    its IPv4 (Linux dials it so), '<broadcast>' as 255.255.255.255. A host name is
    refused: a cell is an address, and a name would silently match nothing."""
    if address == "<broadcast>":
        return "255.255.255.255"
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)


def is_leak_id(case_id: str) -> bool:
    return LEAK_MARK in case_id


def base_case_id(case_id: str) -> str:
    """'test_api.py::x[a]#leak-DST-1' -> 'test_api.py::x[a]'."""
    return case_id.split(LEAK_MARK, 1)[0]


def fresh_events(events: Sequence[Any]) -> list[Any]:
    """The events this case caused: every connect and datagram, and the other events of
    a TCP connection only when its connect is among them (else it began earlier)."""
    opened = {(e.dst, e.peer) for e in events if e.proto == "tcp" and e.kind == "connect"}
    return [e for e in events
            if e.proto != "tcp" or e.kind == "connect" or (e.dst, e.peer) in opened]


def find_leaks(events: Iterable[Any], blocked_by: BlockedBy, *,
               allowed: Collection[Cell] = ()) -> dict[str, list[Any]]:
    """clause -> the events at cells it blocks at MUST, outside `allowed`."""
    found: dict[str, list[Any]] = {}
    for event in fresh_events(list(events)):
        address, port = event.dst
        try:
            cell = Cell.of(address, port, event.proto)
        except ValueError:
            continue   # journal destinations are addresses; nothing else can be judged
        if cell in allowed:
            continue
        clause = blocked_by(cell.address, cell.port, cell.proto)
        if clause is not None:
            found.setdefault(clause, []).append(event)
    return found


def leak_results(case_id: str, events: Iterable[Any], blocked_by: BlockedBy,
                 clause_ref: Callable[[str], ClauseRef], *,
                 allowed: Collection[Cell] = ()) -> list[CaseResult]:
    """One FAIL at MUST per clause whose cells the case's traffic reached."""
    results = []
    for clause, hits in sorted(find_leaks(events, blocked_by, allowed=allowed).items()):
        cells = sorted({(e.dst[0], e.dst[1], e.proto) for e in hits})
        where = ", ".join(_where(*c) for c in cells[:5]) + (" ..." if len(cells) > 5 else "")
        results.append(CaseResult(
            case_id=f"{case_id}{LEAK_MARK}{clause}", clause=clause_ref(clause),
            outcome=Outcome.FAIL,
            expected=f"no traffic reaches a cell {clause} blocks at MUST",
            observed=f"{len(hits)} journal event(s) at {where}: "
                     + "; ".join(f"{e.role} {e.endpoint} {e.kind}" for e in hits[:3]),
            evidence=tuple({"journal": _json(e)} for e in hits[:50]),
            reason=f"leak: traffic reached {where}, blocked at MUST by {clause}"))
    return results


def _where(address: str, port: int, proto: str) -> str:
    return f"[{address}]:{port}/{proto}" if ":" in address else f"{address}:{port}/{proto}"


def _json(event: Any) -> Mapping[str, Any]:
    to_json = getattr(event, "to_json", None)
    return dict(to_json()) if callable(to_json) else {"event": repr(event)}


def catalogue_table() -> Any:
    """The catalogue's table of what is blocked at MUST (cases/never_reached.toml),
    found through the registered catalogue (conformance.catalogue), never by name."""
    table = catalogue.registered().never_reached
    if table is None:
        raise LookupError("the catalogue has no never-reached table: no leak verdict")
    return table()


def judge_case(case_id: str, ref: ClauseRef, state: Any, events: Sequence[Any] | None,
               clause_ref: Callable[[str], ClauseRef]) -> list[CaseResult]:
    """The leak results of one case. Its expected cells never leak; the cells a MUST case
    judges itself (`verdict.blocked`) are already its own verdict. Without a journal or a
    table there is no leak verdict: an ERROR, never a silent pass."""
    allowed = set(state.expected) | (set(state.judged) if ref.level is Level.MUST else set())
    try:
        if events is None:
            raise LookupError("the case's journal could not be read")
        table = catalogue_table()
        return leak_results(case_id, events, table.blocked_by, clause_ref, allowed=allowed)
    except Exception as exc:
        return [CaseResult(case_id=f"{case_id}{LEAK_MARK}check", clause=ref,
                           outcome=Outcome.ERROR, expected="the leak check runs",
                           observed=f"{type(exc).__name__}: {exc}",
                           reason=f"no leak verdict: {exc}")]
