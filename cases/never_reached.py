"""What is blocked at MUST, cell by cell: cases/never_reached.toml loaded into rules.

The harness judges every case's journal against this table
(`conformance.leaks`): traffic at a cell a rule blocks is a MUST failure of
the rule's clause, whatever the case was about. The rules are data read
against CLAUSES.md; first match wins, so the documented exceptions (Google
Public DNS on 53, each Gmail host on its own ports) come before the ranges
that contain them. Host names (the Gmail hosts) are resolved through the
world's data, the fake internet's DNS, never through sandbox/.

Checked at load time: every key, every CIDR, every name (it must resolve in
the world), every clause (it must have a MUST level), every port.
"""

from __future__ import annotations

import ipaddress
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fakenet.world import World, load_world, normalise_name

from .clauses import Clause, load_clauses
from .matrix import catalogue_world

TABLE_FILE = Path(__file__).with_name("never_reached.toml")

IP = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

VERDICTS = ("blocked", "allowed")
PROTOS = ("tcp", "udp")
EMBEDDED = ("ipv4-mapped", "ipv4-compatible")
_KEYS = {"verdict", "clause", "networks", "names", "embedded", "proto", "ports", "note"}


class TableDataError(ValueError):
    """never_reached.toml is malformed; the message names the file and the rule."""


@dataclass(frozen=True)
class Rule:
    """One row: these networks, on these protocols and ports, are blocked (or allowed)."""

    verdict: str
    clause: str
    networks: tuple[Network, ...]
    protos: frozenset[str]
    ports: frozenset[int] | None      # None: every port
    embedded: str = ""
    source: str = ""

    def covers(self, ip: IP, port: int, proto: str) -> bool:
        return (proto in self.protos
                and (self.ports is None or port in self.ports)
                and any(ip.version == n.version and ip in n for n in self.networks))


@dataclass(frozen=True)
class Table:
    """The ordered rules; `blocked_by` is the one question the harness asks."""

    rules: tuple[Rule, ...]

    def rule_for(self, address: str, port: int, proto: str) -> Rule | None:
        """The first rule that decides address:port/proto, or None (not blocked at MUST).
        An embedded-IPv4 rule decides by the rule its embedded address meets."""
        ip = parse_ip(address)
        for rule in self.rules:
            if not rule.covers(ip, port, proto):
                continue
            if rule.embedded:
                inner = self.rule_for(str(embedded_ipv4(ip, rule.embedded)), port, proto)
                return rule if inner is not None and inner.verdict == "blocked" else inner
            return rule
        return None

    def blocked_by(self, address: str, port: int, proto: str) -> str | None:
        """The clause that blocks address:port/proto at MUST, or None."""
        rule = self.rule_for(address, port, proto)
        return rule.clause if rule is not None and rule.verdict == "blocked" else None


def parse_ip(address: str) -> IP:
    """The address as dialled; a scope suffix ('fe80::1%1') does not change the cell."""
    return ipaddress.ip_address(address.split("%", 1)[0])


def embedded_ipv4(ip: IP, form: str) -> ipaddress.IPv4Address:
    if form == "ipv4-mapped" and isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        return ip.ipv4_mapped
    return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)


def _list(rule: Mapping[str, object], key: str, where: str, kind: type) -> list:
    value = rule.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(
            isinstance(v, kind) and not isinstance(v, bool) for v in value):
        raise TableDataError(f"{where}: {key} must be a list of {kind.__name__}")
    return value


def parse_rule(rule: object, where: str, world: World, clauses: Mapping[str, Clause]) -> Rule:
    if not isinstance(rule, dict):
        raise TableDataError(f"{where}: expected a table, got {rule!r}")
    unknown = sorted(set(rule) - _KEYS)
    if unknown:
        raise TableDataError(f"{where}: unknown keys {unknown}; known: {sorted(_KEYS)}")
    verdict, clause = rule.get("verdict"), rule.get("clause")
    if verdict not in VERDICTS:
        raise TableDataError(f"{where}: verdict must be one of {VERDICTS}, got {verdict!r}")
    if not isinstance(clause, str) or clause not in clauses:
        raise TableDataError(f"{where}: unknown clause {clause!r} (not in clauses.toml)")
    try:
        clauses[clause].ref("MUST")
    except ValueError as exc:
        raise TableDataError(f"{where}: only MUST clauses decide a cell here: {exc}") from None
    cidrs, names = _list(rule, "networks", where, str), _list(rule, "names", where, str)
    if bool(cidrs) == bool(names):
        raise TableDataError(f"{where}: name exactly one of 'networks' or 'names'")
    networks: list[Network] = []
    for cidr in cidrs:
        try:
            networks.append(ipaddress.ip_network(cidr))
        except ValueError as exc:
            raise TableDataError(f"{where}: {exc}") from None
    known = world.all_names()
    for name in names:
        host = known.get(normalise_name(name))
        if host is None:
            raise TableDataError(f"{where}: {name!r} is no host name of {world.source}")
        networks.extend(ipaddress.ip_network(a) for a in host.addresses)
    protos = _list(rule, "proto", where, str) or list(PROTOS)
    if set(protos) - set(PROTOS):
        raise TableDataError(f"{where}: proto must be among {PROTOS}, got {protos}")
    ports = _list(rule, "ports", where, int)
    if any(not 0 < p < 65536 for p in ports):
        raise TableDataError(f"{where}: ports must be 1..65535, got {ports}")
    embedded = rule.get("embedded", "")
    if embedded and embedded not in EMBEDDED:
        raise TableDataError(f"{where}: embedded must be one of {EMBEDDED}, got {embedded!r}")
    return Rule(verdict=str(verdict), clause=clause, networks=tuple(networks),
                protos=frozenset(protos), ports=frozenset(ports) if ports else None,
                embedded=str(embedded), source=where)


def load_table(path: Path | str = TABLE_FILE, world: World | None = None,
               clauses: Mapping[str, Clause] | None = None) -> Table:
    source = Path(path)
    world = world or load_world()
    clauses = clauses or load_clauses()
    try:
        raw = tomllib.loads(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise TableDataError(f"{source}: cannot read: {exc}") from exc
    extra = sorted(set(raw) - {"rule"})
    rules = raw.get("rule")
    if extra or not isinstance(rules, list) or not rules:
        raise TableDataError(f"{source}: expected [[rule]] entries only (extra keys: {extra})")
    return Table(tuple(parse_rule(rule, f"{source.name} rule {n}", world, clauses)
                       for n, rule in enumerate(rules, start=1)))


@cache
def never_reached() -> Table:
    """The catalogue's table (cached: loaded once per process)."""
    return load_table(world=catalogue_world())

