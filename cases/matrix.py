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
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

from fakenet.world import Host, World, load_world

from .clauses import Clause, load_clauses

MATRIX_DIR = Path(__file__).with_name("matrices")

# reached-or-refused: an odd spelling of the host's address reaches exactly that
# address or is refused; refused: a text that is no address is refused, nothing dialled.
VERDICTS = ("allowed", "blocked", "reached-or-refused", "refused")
FAMILIES = ("ipv4", "ipv6")
PROTOS = ("tcp", "udp")
# connect: aim at the target directly. rebind: reach a rebinding name through
# each of `paths`, after each number of `warmups` resolutions (DST-8).
# mixed: the target name's answers mix blocked and allowed addresses (DST-9).
# hint: resolve `hint` (a Gmail name) first, then aim at the target (EXC-5).
MODES = ("connect", "rebind", "mixed", "hint")
# How a rebind case reaches the name: connect((name, port)) on a socket,
# socket.create_connection, an ssl-wrapped socket's connect, UDP sendto, and
# UDP connect((name, port)) then send.
TCP_PATHS = ("connect", "create_connection", "tls_connect")
UDP_PATHS = ("sendto", "udp_connect")
HOST_TYPES = ("str", "bytes")
_KEYS = {
    "clause", "level", "expected", "host", "role", "family", "address", "target",
    "watch", "mode", "scope_id", "tcp", "udp", "note", "hint",
    "flowinfo", "host_type", "platform_refuses", "paths", "warmups",
}


class MatrixDataError(ValueError):
    """A matrix file is malformed; the message names the file and the row."""


@dataclass(frozen=True)
class MatrixCase:
    """One expanded row: one destination, one protocol, one port, one verdict."""

    clause: str
    level: str
    expected: str          # one of VERDICTS
    host: str              # world host id
    family: str            # the socket's family: "ipv4" or "ipv6"
    address: str           # the world address this case is about
    target: str            # what the call is given as the host part (address, name, spelling)
    proto: str
    port: int
    mode: str = "connect"
    watch: tuple[str, ...] = ()   # addresses where leaked traffic would land
    scope_id: int = 0
    flowinfo: int | None = None   # given: the address is a 4-tuple (flowinfo, scope_id)
    host_type: str = "str"        # "bytes": the host part is given as bytes
    platform_refuses: bool = False  # the platform's own socket module refuses this form
    path: str = ""                # mode rebind: how the name is reached (TCP_PATHS, UDP_PATHS)
    warmups: int = 0              # mode rebind: resolutions of the name before the call
    hint: str = ""
    note: str = ""
    source: str = ""       # "file.toml row N", for error messages and evidence

    @property
    def id(self) -> str:
        """A stable pytest id: clause, host, target, proto and port (and what else
        tells two rows with one target apart)."""
        target = self.host_target
        shown = target if target == self.address else f"{self.address}~{target!r}"
        if self.flowinfo is not None:
            shown += f"/flow={self.flowinfo},scope={self.scope_id}"
        if _literal_family(self.target) not in (None, self.family):
            shown += f"@{self.family}"   # a literal of one family on a socket of the other
        case = f"{self.clause}:{self.host}:{shown}:{self.proto}{self.port}"
        if self.mode == "rebind":
            case += f":{self.path}" + (f"+{self.warmups}warmup" if self.warmups else "")
        return case

    @property
    def host_target(self) -> str | bytes:
        """The host part as the call is given it: text, or bytes for host_type "bytes"."""
        return self.target.encode("utf-8") if self.host_type == "bytes" else self.target

    @property
    def destination(self) -> str:
        """The truth table's row label: '<host id> (<address>)'."""
        return f"{self.host} ({self.address})"

    @property
    def sockaddr(self) -> tuple:
        """The address tuple given to connect/sendto."""
        if self.family == "ipv6" and (self.scope_id or self.flowinfo is not None):
            return (self.host_target, self.port, self.flowinfo or 0, self.scope_id)
        return (self.host_target, self.port)

    def payload(self, size: int = 64) -> bytes:
        """Bytes unique to this case, so a digest at the peer proves these bytes arrived."""
        seed = hashlib.sha256(self.id.encode()).hexdigest().encode()
        return (b"conformance:" + seed * (size // 64 + 1))[:size]

    def matrix_evidence(self, observed: str) -> dict:
        return {"matrix": {
            "destination": self.destination, "port": self.port, "proto": self.proto,
            "expected": self.expected, "observed": observed, "clause": self.clause,
            "level": self.level, "target": self.target, "family": self.family,
            **({"platform_refuses": True} if self.platform_refuses else {}),
            **({"path": self.path, "warmups": self.warmups} if self.mode == "rebind" else {}),
        }}


def _literal_family(text: str) -> str | None:
    """"ipv4" or "ipv6" for a strict IP literal, None for anything else."""
    try:
        return "ipv4" if ipaddress.ip_address(text).version == 4 else "ipv6"
    except ValueError:
        return None


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


def _rebind_keys(row: dict, where: str, mode: str, tcp: tuple[int, ...],
                 udp: tuple[int, ...]) -> tuple[tuple[str, ...], list[int]]:
    """`paths` and `warmups` of a rebind row (and their absence elsewhere)."""
    paths = _strings(row.get("paths"), where, "paths")
    if (mode == "rebind") != bool(paths):
        raise MatrixDataError(f"{where}: `paths` is required in mode 'rebind' and only there")
    bad_paths = [p for p in paths if p not in TCP_PATHS + UDP_PATHS]
    if bad_paths:
        raise MatrixDataError(f"{where}: unknown paths {bad_paths}; known: "
                              f"{list(TCP_PATHS + UDP_PATHS)}")
    if (any(p in TCP_PATHS for p in paths) and not tcp) or (
            any(p in UDP_PATHS for p in paths) and not udp):
        raise MatrixDataError(f"{where}: TCP paths need tcp ports and UDP paths udp ports")
    warmups = row.get("warmups", [0])
    if mode != "rebind" and "warmups" in row:
        raise MatrixDataError(f"{where}: `warmups` belongs to mode 'rebind'")
    if not isinstance(warmups, list) or not warmups or not all(
            isinstance(w, int) and not isinstance(w, bool) and 0 <= w <= 3 for w in warmups):
        raise MatrixDataError(f"{where}: warmups must be a list of counts 0..3")
    return paths, warmups


def _form_keys(row: dict, where: str, expected: str) -> tuple[int | None, str, bool]:
    """`flowinfo`, `host_type` and `platform_refuses`: how an address form is given."""
    flowinfo = row.get("flowinfo")
    if flowinfo is not None and (not isinstance(flowinfo, int) or isinstance(flowinfo, bool)):
        raise MatrixDataError(f"{where}: flowinfo must be an integer")
    host_type = row.get("host_type", "str")
    if host_type not in HOST_TYPES:
        raise MatrixDataError(f"{where}: host_type must be one of {HOST_TYPES}")
    platform_refuses = row.get("platform_refuses", False)
    if not isinstance(platform_refuses, bool):
        raise MatrixDataError(f"{where}: platform_refuses must be true or false")
    if platform_refuses and expected != "blocked":
        raise MatrixDataError(f"{where}: a form the platform refuses can only be 'blocked'")
    return flowinfo, host_type, platform_refuses


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
    targets: tuple[str | None, ...] = (None,)
    if "target" in row:
        targets = _strings(row["target"], where, "target")
        if not targets or (len(targets) > 1 and mode != "rebind"):
            raise MatrixDataError(f"{where}: target must be one string (a list only in mode "
                                  "'rebind')")
    if mode in ("rebind", "mixed") and targets == (None,):
        raise MatrixDataError(f"{where}: mode {mode!r} needs a target name")
    rebinding = {r.name: r for r in world.rebindings}
    if mode == "rebind":
        unknown_names = [t for t in targets if t not in rebinding]
        if unknown_names:
            raise MatrixDataError(f"{where}: {unknown_names} are not rebinding names of the world")
    if mode == "mixed" and targets[0] not in {m.name for m in world.mixed}:
        raise MatrixDataError(f"{where}: {targets[0]!r} is not a mixed-answer name of the world")
    paths, warmups = _rebind_keys(row, where, mode, tcp, udp)
    flowinfo, host_type, platform_refuses = _form_keys(row, where, expected)
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
    for target in targets:
        cases.extend(_expand_target(
            row, where, hosts, families, explicit_family, target, watch_given, (tcp, udp),
            MatrixCase(clause=clause_id, level=level.upper(), expected=expected, host="",
                       family="", address="", target="", proto="", port=0, mode=mode,
                       scope_id=scope_id, flowinfo=flowinfo, host_type=host_type,
                       platform_refuses=platform_refuses, hint=hint,
                       note=str(row.get("note", "")), source=where)))
    if mode == "rebind":
        cases = [replace(c, path=path, warmups=w) for c in cases for path in paths
                 if (path in TCP_PATHS) == (c.proto == "tcp") for w in warmups]
        for case in cases:
            sequence = rebinding[case.target].sequence(case.family)
            if not set(case.watch) & set(sequence):
                raise MatrixDataError(
                    f"{where}: {case.target} never answers {list(case.watch)} in "
                    f"{case.family}; the case could not meet the blocked answer")
    if not cases:
        raise MatrixDataError(f"{where}: expands to no cases (no address of the named families)")
    return cases


def _expand_target(row: dict, where: str, hosts: tuple[Host, ...], families: tuple[str, ...],
                   explicit_family: bool, target: str | None, watch_given: tuple[str, ...],
                   ports: tuple[tuple[int, ...], tuple[int, ...]],
                   base: MatrixCase) -> list[MatrixCase]:
    """One target's cases: each host, family, address, protocol and port."""
    tcp, udp = ports
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
                for proto, proto_ports in (("tcp", tcp), ("udp", udp)):
                    for port in proto_ports:
                        cases.append(replace(
                            base, host=host.id, family=family, address=address,
                            target=target if target is not None else address,
                            proto=proto, port=port, watch=tuple(watch)))
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
    extra = sorted(set(raw) - {"row", "defaults"})
    if extra:
        raise MatrixDataError(f"{source}: unknown top-level keys {extra}; rows go in [[row]]")
    rows = raw.get("row")
    if not isinstance(rows, list) or not rows:
        raise MatrixDataError(f"{source}: no [[row]] entries")
    defaults = raw.get("defaults", {})
    if not isinstance(defaults, dict):
        raise MatrixDataError(f"{source}: [defaults] must be a table of row keys")
    cases: list[MatrixCase] = []
    for number, row in enumerate(rows, start=1):
        where = f"{source.name} row {number}"
        if isinstance(row, dict):
            row = {**defaults, **row}   # a row's own keys win over the file's defaults
            if "clause" in row:
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
def catalogue_world() -> World:
    """The world file the catalogue aims at (fakenet/world.toml), read once per process."""
    return load_world()


@cache
def matrix(name: str) -> tuple[MatrixCase, ...]:
    """The cases of cases/matrices/<name>.toml (cached: loaded once per process)."""
    return tuple(load_matrix(MATRIX_DIR / f"{name}.toml", catalogue_world()))


def params(cases: Iterable[MatrixCase]) -> list:
    """pytest parameters, one per case, each marked with the case's clause and level."""
    import pytest

    return [pytest.param(c, marks=pytest.mark.clause(c.clause, c.level), id=c.id) for c in cases]


def family(*names: str, clause_prefix: str) -> list[MatrixCase]:
    """The cases of the named matrices whose clause starts with `clause_prefix`."""
    return [c for name in names for c in matrix(name) if c.clause.startswith(clause_prefix)]
