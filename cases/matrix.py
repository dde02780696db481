"""Destination matrices: data tables in cases/matrices/*.toml, expanded into cases.

A row names a clause and level, the expected verdict, a world host (by id or
by role), address families and TCP/UDP ports. Expansion makes one
`MatrixCase` per (address, protocol, port). Addresses come from the world
file, never from this package, so the matrices read as "which host, which
port, which verdict" against CLAUSES.md line by line.

Checks made at load time (so a typo cannot silently shrink the catalogue):
the host or role exists, the port is one a canary or service watches (else
a leak could not be recorded), the clause has that level, and every address
where leaked traffic would land is a world address or inside a watched range.
"""

from __future__ import annotations

import hashlib
import ipaddress
import tomllib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fakenet.world import Host, World, load_world

from .clauses import Clause, load_clauses

MATRIX_DIR = Path(__file__).with_name("matrices")

VERDICTS = ("allowed", "blocked")
FAMILIES = ("ipv4", "ipv6")
PROTOS = ("tcp", "udp")
# connect: aim at the target directly. rebind: resolve the (rebinding) name
# once first, so the call's own resolution gets the next answer (DST-8).
# mixed: the target name's answers mix blocked and allowed addresses (DST-9).
# hint: resolve `hint` (a Gmail name) first, then aim at the target (EXC-5).
MODES = ("connect", "rebind", "mixed", "hint")
_KEYS = {
    "clause", "level", "expected", "host", "role", "family", "address", "target",
    "watch", "mode", "scope_id", "tcp", "udp", "note", "hint",
}


class MatrixDataError(ValueError):
    """A matrix file is malformed; the message names the file and the row."""


@dataclass(frozen=True)
class MatrixCase:
    """One expanded row: one destination, one protocol, one port, one verdict."""

    clause: str
    level: str
    expected: str          # "allowed" or "blocked"
    host: str              # world host id
    family: str            # the socket's family: "ipv4" or "ipv6"
    address: str           # the world address this case is about
    target: str            # what the call is given as the host part (address, name, spelling)
    proto: str
    port: int
    mode: str = "connect"
    watch: tuple[str, ...] = ()   # addresses where leaked traffic would land
    scope_id: int = 0
    hint: str = ""
    note: str = ""
    source: str = ""       # "file.toml row N", for error messages and evidence

    @property
    def id(self) -> str:
        """A stable pytest id: clause, host, target, proto and port."""
        shown = self.target if self.target == self.address else f"{self.address}~{self.target!r}"
        return f"{self.clause}:{self.host}:{shown}:{self.proto}{self.port}"

    @property
    def destination(self) -> str:
        """The truth table's row label: '<host id> (<address>)'."""
        return f"{self.host} ({self.address})"

    @property
    def sockaddr(self) -> tuple:
        """The address tuple given to connect/sendto."""
        if self.family == "ipv6" and self.scope_id:
            return (self.target, self.port, 0, self.scope_id)
        return (self.target, self.port)

    def payload(self, size: int = 64) -> bytes:
        """Bytes unique to this case, so a digest at the peer proves these bytes arrived."""
        seed = hashlib.sha256(self.id.encode()).hexdigest().encode()
        return (b"conformance:" + seed * (size // 64 + 1))[:size]

    def matrix_evidence(self, observed: str) -> dict:
        return {"matrix": {
            "destination": self.destination, "port": self.port, "proto": self.proto,
            "expected": self.expected, "observed": observed, "clause": self.clause,
            "level": self.level, "target": self.target, "family": self.family,
        }}


def _in_world(world: World, address: str) -> bool:
    if any(address in h.addresses for h in world.hosts):
        return True
    if address in world.watched.broadcast:
        return True
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    nets = (*world.watched.ipv4, *world.watched.ipv6, *world.watched.multicast)
    return any(ip.version == n.version and ip in n for n in nets)


def _ports(value: object, where: str, key: str, world: World) -> tuple[int, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(
        isinstance(p, int) and not isinstance(p, bool) for p in value
    ):
        raise MatrixDataError(f"{where}: {key} must be a list of port numbers, got {value!r}")
    watched = world.watched_ports(key)
    unwatched = [p for p in value if p not in watched]
    if unwatched:
        raise MatrixDataError(
            f"{where}: {key} ports {unwatched} are not watched by the world's canaries or "
            f"services (watched: {list(watched)}); a leak there could not be recorded"
        )
    return tuple(value)


def _strings(value: object, where: str, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise MatrixDataError(f"{where}: {key} must be a string or a list of strings")
    return tuple(value)


def expand_row(
    row: dict, where: str, world: World, clauses: dict[str, Clause]
) -> list[MatrixCase]:
    """One row's cases; MatrixDataError naming `where` for anything wrong."""
    if not isinstance(row, dict):
        raise MatrixDataError(f"{where}: expected a table, got {row!r}")
    unknown = sorted(set(row) - _KEYS)
    if unknown:
        raise MatrixDataError(f"{where}: unknown keys {unknown}; known: {sorted(_KEYS)}")
    for key in ("clause", "level", "expected"):
        if not isinstance(row.get(key), str):
            raise MatrixDataError(f"{where}: missing or non-string {key!r}")
    clause_id, level, expected = row["clause"], row["level"], row["expected"]
    if clause_id not in clauses:
        raise MatrixDataError(f"{where}: unknown clause {clause_id!r} (not in clauses.toml)")
    try:
        clauses[clause_id].ref(level)
    except ValueError as exc:
        raise MatrixDataError(f"{where}: {exc}") from None
    if expected not in VERDICTS:
        raise MatrixDataError(f"{where}: expected must be one of {VERDICTS}, got {expected!r}")
    mode = row.get("mode", "connect")
    if mode not in MODES:
        raise MatrixDataError(f"{where}: mode must be one of {MODES}, got {mode!r}")

    hosts: tuple[Host, ...]
    if ("host" in row) == ("role" in row):
        raise MatrixDataError(f"{where}: name exactly one of 'host' (a world host id) or 'role'")
    if "host" in row:
        try:
            hosts = (world.host(str(row["host"])),)
        except KeyError:
            raise MatrixDataError(f"{where}: no host {row['host']!r} in {world.source}") from None
    else:
        hosts = world.by_role(str(row["role"]))
        if not hosts:
            raise MatrixDataError(f"{where}: no host with role {row['role']!r} in {world.source}")

    families = _strings(row.get("family"), where, "family")
    if not families and "address" in row:
        families = ("ipv6" if ":" in str(row["address"]) else "ipv4",)
    explicit_family = bool(families)
    families = families or FAMILIES
    bad = [f for f in families if f not in FAMILIES]
    if bad:
        raise MatrixDataError(f"{where}: family must be among {FAMILIES}, got {bad}")
    tcp = _ports(row.get("tcp"), where, "tcp", world)
    udp = _ports(row.get("udp"), where, "udp", world)
    if not tcp and not udp:
        raise MatrixDataError(f"{where}: names no tcp or udp ports")
    target = row.get("target")
    if target is not None and not isinstance(target, str):
        raise MatrixDataError(f"{where}: target must be a string")
    if mode in ("rebind", "mixed") and target is None:
        raise MatrixDataError(f"{where}: mode {mode!r} needs a target name")
    if mode == "rebind" and target not in {r.name for r in world.rebindings}:
        raise MatrixDataError(f"{where}: {target!r} is not a rebinding name of the world")
    if mode == "mixed" and target not in {m.name for m in world.mixed}:
        raise MatrixDataError(f"{where}: {target!r} is not a mixed-answer name of the world")
    hint = row.get("hint", "")
    if not isinstance(hint, str):
        raise MatrixDataError(f"{where}: hint must be a host name string")
    if mode == "hint" and not hint:
        raise MatrixDataError(f"{where}: mode 'hint' needs a hint name")
    watch_given = _strings(row.get("watch"), where, "watch")
    for address in watch_given:
        if not _in_world(world, address):
            raise MatrixDataError(
                f"{where}: watch address {address!r} is neither a world address nor in a "
                "watched range; a leak there could not be recorded"
            )
    scope_id = row.get("scope_id", 0)
    if not isinstance(scope_id, int):
        raise MatrixDataError(f"{where}: scope_id must be an integer")

    cases: list[MatrixCase] = []
    for host in hosts:
        for family in families:
            own = host.ipv4 if family == "ipv4" else host.ipv6
            if "address" in row:
                address = str(row["address"])
                if address not in host.addresses:
                    raise MatrixDataError(
                        f"{where}: address {address!r} is not one of host {host.id}'s "
                        f"{list(host.addresses)}"
                    )
                addresses: tuple[str, ...] = (address,)
            elif target is not None:
                # the call names something else; the case is about the host's addresses
                addresses = own[:1] or (host.addresses[:1] if explicit_family else ())
            else:
                addresses = own
            if not addresses:
                if explicit_family and "role" not in row:
                    raise MatrixDataError(f"{where}: host {host.id} has no {family} address")
                continue
            for address in addresses:
                watch = watch_given or ((*own,) if target is not None and own else (address,))
                for proto, ports in (("tcp", tcp), ("udp", udp)):
                    for port in ports:
                        cases.append(MatrixCase(
                            clause=clause_id, level=level.upper(), expected=expected,
                            host=host.id, family=family, address=address,
                            target=target if target is not None else address,
                            proto=proto, port=port, mode=mode, watch=tuple(watch),
                            scope_id=scope_id, hint=hint, note=str(row.get("note", "")),
                            source=where,
                        ))
    if not cases:
        raise MatrixDataError(f"{where}: expands to no cases (no address of the named families)")
    return cases


def load_matrix(
    path: Path | str, world: World | None = None, clauses: dict[str, Clause] | None = None
) -> list[MatrixCase]:
    """Every case of one matrix file, in file order."""
    source = Path(path)
    world = world or load_world()
    clauses = clauses or load_clauses()
    try:
        raw = tomllib.loads(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise MatrixDataError(f"{source}: cannot read matrix file: {exc}") from exc
    extra = sorted(set(raw) - {"row"})
    if extra:
        raise MatrixDataError(f"{source}: unknown top-level keys {extra}; rows go in [[row]]")
    rows = raw.get("row")
    if not isinstance(rows, list) or not rows:
        raise MatrixDataError(f"{source}: no [[row]] entries")
    cases: list[MatrixCase] = []
    for number, row in enumerate(rows, start=1):
        where = f"{source.name} row {number}"
        if isinstance(row, dict) and "clause" in row:
            where += f" ({row['clause']})"
        try:
            cases.extend(expand_row(row, where, world, clauses))
        except MatrixDataError as exc:
            raise MatrixDataError(f"{source}: {exc}") from None
    dupes = sorted(i for i, n in Counter(c.id for c in cases).items() if n > 1)
    if dupes:
        raise MatrixDataError(f"{source}: duplicate cases {dupes[:5]}")
    return cases


@cache
def matrix(name: str) -> tuple[MatrixCase, ...]:
    """The cases of cases/matrices/<name>.toml (cached: loaded once per process)."""
    return tuple(load_matrix(MATRIX_DIR / f"{name}.toml"))


def params(cases: Iterable[MatrixCase]) -> list:
    """pytest parameters, one per case, each marked with the case's clause and level."""
    import pytest

    return [pytest.param(c, marks=pytest.mark.clause(c.clause, c.level), id=c.id) for c in cases]


def family(*names: str, clause_prefix: str) -> list[MatrixCase]:
    """The cases of the named matrices whose clause starts with `clause_prefix`."""
    return [c for name in names for c in matrix(name) if c.clause.startswith(clause_prefix)]
