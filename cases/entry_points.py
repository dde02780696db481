"""The entry-point table: cases/entry_points.toml loaded into frozen values.

Rows are entry points (a socket method, a stdlib server or client), columns
the operations the policy forbids. The loader refuses a malformed file, and
above all a cell with neither a case nor a written reason, so the table can
only grow by saying why a cell stays empty.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .clauses import load_clauses

DEFAULT_FILE = Path(__file__).with_name("entry_points.toml")
REACH = ("reach-tcp", "reach-udp")
FAMILIES = ("ipv4", "ipv6")
_ENTRY_KEYS = {"name", "py3", "py2", "since", "until", "absent", "case"}
_CASE_KEYS = {"op", "clause", "level", "driver", "covered_by", "host", "family", "port",
              "callable"}
_COVERED = re.compile(r"^test_[a-z0-9_]+\.py::test_[a-z0-9_]+$")
_VERSION = re.compile(r"^3\.[0-9]+$")


class EntryDataError(ValueError):
    """The entry-point file is malformed; the message names the entry and the case."""


@dataclass(frozen=True)
class EntryCase:
    """One cell's case: a driver run against a destination, or a pointer to a catalogue case."""

    entry: str
    op: str
    clause: str
    level: str
    driver: str = ""
    covered_by: str = ""
    host: str = ""
    family: str = "ipv4"
    port: int = 0
    callable: str = ""

    @property
    def proto(self) -> str:
        return "udp" if self.op == "reach-udp" else "tcp"

    @property
    def id(self) -> str:
        slug = re.sub(r"[^A-Za-z0-9.]+", "-", self.entry).strip("-")
        parts = [slug, self.op, self.callable or self.driver or self.covered_by.split("::")[-1]]
        if self.host:
            parts += [self.host, self.family, str(self.port)]
        return "-".join(p for p in parts if p)


@dataclass(frozen=True)
class EntryPoint:
    """A public way to perform operations: the module it lives in on each runtime."""

    name: str
    py3: str | None
    py2: str | None
    since: str | None
    until: str | None
    cases: tuple[EntryCase, ...]
    absent: Mapping[str, str]        # operation -> why the cell has no case

    def module_for(self, version: tuple[int, int]) -> str | None:
        """The module holding this entry point on Python `version`, or None if that
        runtime lacks it (the case is UNSUPPORTED there, never a pass)."""
        if version[0] == 2:
            return self.py2
        if self.py3 is None:
            return None
        if self.since and version < _as_version(self.since):
            return None
        if self.until and version > _as_version(self.until):
            return None
        return self.py3

    def runtimes(self) -> str:
        py3 = ""
        if self.py3:
            py3 = "3" + (f" >={self.since}" if self.since else "") + \
                  (f" <={self.until}" if self.until else "")
        return ", ".join(r for r in ("2.7" if self.py2 else "", py3) if r)


@dataclass(frozen=True)
class EntryTable:
    operations: Mapping[str, str]    # id -> doc, in the file's order
    entries: tuple[EntryPoint, ...]

    @property
    def cases(self) -> tuple[EntryCase, ...]:
        return tuple(c for e in self.entries for c in e.cases)

    def cell(self, entry: EntryPoint, op: str) -> tuple[tuple[EntryCase, ...], str]:
        """The cell's cases, and the reason it has none ("" when it has some)."""
        cases = tuple(c for c in entry.cases if c.op == op)
        return cases, ("" if cases else entry.absent[op])


def _as_version(text: str) -> tuple[int, int]:
    major, minor = text.split(".")
    return int(major), int(minor)


def _need(table: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    value = table.get(key)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise EntryDataError(f"{where}: `{key}` must be a {kind.__name__}, got {value!r}")
    return value


def _case(raw: Mapping[str, Any], entry: str, ops: Mapping[str, str], drivers: frozenset[str],
          world: Any, where: str) -> EntryCase:
    unknown = set(raw) - _CASE_KEYS
    if unknown:
        raise EntryDataError(f"{where}: unknown key(s) {sorted(unknown)}")
    op = _need(raw, "op", str, where)
    if op not in ops:
        raise EntryDataError(f"{where}: unknown operation {op!r} (known: {', '.join(ops)})")
    clause_id = _need(raw, "clause", str, where)
    level = raw.get("level", "MUST")
    clause = load_clauses().get(clause_id)
    if clause is None:
        raise EntryDataError(f"{where}: unknown clause {clause_id!r}")
    try:
        clause.ref(level)
    except ValueError as exc:
        raise EntryDataError(f"{where}: {exc}") from None
    driver, covered = raw.get("driver", ""), raw.get("covered_by", "")
    if bool(driver) == bool(covered):
        raise EntryDataError(f"{where}: give exactly one of `driver` and `covered_by`")
    if covered and not _COVERED.match(covered):
        raise EntryDataError(f"{where}: covered_by {covered!r} is not 'test_x.py::test_y'")
    if driver and driver not in drivers:
        raise EntryDataError(f"{where}: unknown driver {driver!r} (see cases/entry_drivers.py)")
    case = EntryCase(entry=entry, op=op, clause=clause_id, level=level, driver=driver,
                     covered_by=covered, host=raw.get("host", ""),
                     family=raw.get("family", "ipv4"), port=raw.get("port", 0),
                     callable=raw.get("callable", ""))
    if case.family not in FAMILIES:
        raise EntryDataError(f"{where}: family must be one of {FAMILIES}")
    if op in REACH and driver:
        _check_destination(case, world, where)
    return case


def _check_destination(case: EntryCase, world: Any, where: str) -> None:
    """A reach case names a world host with an address in its family, on a port a
    canary or service watches: otherwise a leak could not be seen."""
    if not case.host or not isinstance(case.port, int) or not case.port:
        raise EntryDataError(f"{where}: a reach case needs `host` and `port`")
    try:
        host = world.host(case.host)
        host.address(case.family)
    except (KeyError, LookupError, IndexError, ValueError) as exc:
        raise EntryDataError(f"{where}: host {case.host!r} has no {case.family} address "
                             f"in the world ({exc})") from None
    if case.port not in world.watched_ports(case.proto):
        raise EntryDataError(f"{where}: {case.proto} port {case.port} is not watched by the world")


def _absent(raw: Any, reasons: Mapping[str, str], ops: Mapping[str, str],
            cases: tuple[EntryCase, ...], where: str) -> Mapping[str, str]:
    """Every empty cell's reason; refuses a cell with neither a case nor a reason, and a
    reason given for a cell that has cases."""
    raw = raw or {}
    if not isinstance(raw, dict) or not all(isinstance(v, str) and v for v in raw.values()):
        raise EntryDataError(f"{where}: `absent` must map operations to reasons")
    unknown = set(raw) - set(ops) - {"*"}
    if unknown:
        raise EntryDataError(f"{where}: absent names unknown operation(s) {sorted(unknown)}")
    filled = {c.op for c in cases}
    contradicted = filled & set(raw)
    if contradicted:
        raise EntryDataError(f"{where}: {sorted(contradicted)} have cases and a reason for "
                             "having none")
    out: dict[str, str] = {}
    for op in ops:
        if op in filled:
            continue
        reason = raw.get(op, raw.get("*"))
        if reason is None:
            raise EntryDataError(f"{where}: the cell for operation {op!r} has no case and no "
                                 f"written reason (add a case, or `absent.{op}`)")
        out[op] = reasons.get(reason, reason)
    return MappingProxyType(out)


def parse(data: Mapping[str, Any], world: Any, drivers: frozenset[str],
          origin: str = DEFAULT_FILE.name) -> EntryTable:
    if data.get("schema") != 1:
        raise EntryDataError(f"{origin}: schema must be 1")
    ops_raw = data.get("operation")
    if not isinstance(ops_raw, dict) or not ops_raw:
        raise EntryDataError(f"{origin}: no [operation.*] tables")
    ops = {k: _need(v, "doc", str, f"{origin} operation {k}") for k, v in ops_raw.items()}
    reasons = data.get("reason", {})
    entries: list[EntryPoint] = []
    seen_ids: set[str] = set()
    names: set[str] = set()
    for n, raw in enumerate(data.get("entry", [])):
        where = f"{origin} entry #{n + 1}"
        unknown = set(raw) - _ENTRY_KEYS
        if unknown:
            raise EntryDataError(f"{where}: unknown key(s) {sorted(unknown)}")
        name = _need(raw, "name", str, where)
        where = f"{origin} entry {name!r}"
        if name in names:
            raise EntryDataError(f"{where}: listed twice")
        names.add(name)
        if not raw.get("py3") and not raw.get("py2"):
            raise EntryDataError(f"{where}: give the module on py3 and/or py2")
        for key in ("since", "until"):
            if key in raw and not _VERSION.match(str(raw[key])):
                raise EntryDataError(f"{where}: `{key}` must read like 3.8")
        cases = tuple(_case(c, name, ops, drivers, world, f"{where} case #{i + 1}")
                      for i, c in enumerate(raw.get("case", [])))
        for case in cases:
            if case.id in seen_ids:
                raise EntryDataError(f"{where}: two cases with id {case.id!r}")
            seen_ids.add(case.id)
        entries.append(EntryPoint(name=name, py3=raw.get("py3"), py2=raw.get("py2"),
                                  since=raw.get("since"), until=raw.get("until"), cases=cases,
                                  absent=_absent(raw.get("absent"), reasons, ops, cases, where)))
    return EntryTable(operations=MappingProxyType(ops), entries=tuple(entries))


@cache
def load(path: Path = DEFAULT_FILE) -> EntryTable:
    """The table from `path`, checked against the clause list, the world and the drivers."""
    from fakenet.world import load_world

    from .entry_drivers import DRIVERS
    with path.open("rb") as f:
        data = tomllib.load(f)
    return parse(data, load_world(), frozenset(DRIVERS), path.name)
