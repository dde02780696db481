"""The world as data: hosts, services, canaries and special names from world.toml.

Read-only frozen values. Nothing here decides a verdict; this module only
says what exists where, so that fake servers, the namespace builder and the
catalogue all read one description of the fake internet.
"""

from __future__ import annotations

import contextlib
import ipaddress
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_WORLD = Path(__file__).with_name("world.toml")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class WorldDataError(ValueError):
    """The world file is malformed; the message names the file and the entry."""


@dataclass(frozen=True)
class Listen:
    """One transport endpoint of a service kind, e.g. tcp/587."""

    proto: str  # "tcp" or "udp"
    port: int

    @classmethod
    def parse(cls, text: str) -> Listen:
        proto, _, port = text.partition("/")
        if proto not in ("tcp", "udp") or not port.isdigit() or not 0 < int(port) < 65536:
            raise WorldDataError(f"bad listen spec {text!r}: expected 'tcp/PORT' or 'udp/PORT'")
        return cls(proto, int(port))

    def __str__(self) -> str:
        return f"{self.proto}/{self.port}"


@dataclass(frozen=True)
class ServiceKind:
    """What a host's `services` entry means: where it listens and how it speaks TLS."""

    name: str
    doc: str
    listen: tuple[Listen, ...]
    tls: str = ""  # "", "implicit" or "starttls"
    certificate_names: tuple[str, ...] = ()  # override of the names the cert carries


@dataclass(frozen=True)
class Host:
    id: str
    role: str
    names: tuple[str, ...]
    ipv4: tuple[str, ...]
    ipv6: tuple[str, ...]
    services: tuple[str, ...]
    clauses: tuple[str, ...]

    @property
    def addresses(self) -> tuple[str, ...]:
        return self.ipv4 + self.ipv6

    def address(self, family: str) -> str:
        """The first address of `family` ("ipv4" or "ipv6"); KeyError if the host has none."""
        found = self.ipv4 if family == "ipv4" else self.ipv6
        if not found:
            raise KeyError(f"host {self.id} has no {family} address")
        return found[0]


@dataclass(frozen=True)
class Binding:
    """A service kind served on one address of one host."""

    host: Host
    kind: ServiceKind
    address: str
    listen: Listen


@dataclass(frozen=True)
class Account:
    user: str
    password: str
    services: tuple[str, ...]
    hosts: tuple[str, ...]


@dataclass(frozen=True)
class Message:
    mailbox: str
    uid: str
    text: str

    @property
    def wire(self) -> bytes:
        """The message as it travels: CRLF line endings."""
        return self.text.replace("\r\n", "\n").replace("\n", "\r\n").encode()


@dataclass(frozen=True)
class Article:
    group: str
    number: int
    message_id: str
    text: str


@dataclass(frozen=True)
class HttpBody:
    path: str
    text: str | None = None
    size: int | None = None

    def content(self) -> bytes:
        if self.text is not None:
            return self.text.encode()
        return generated_bytes(self.size or 0)


def generated_bytes(size: int, offset: int = 0) -> bytes:
    """The deterministic pattern of generated bodies: byte i is (i*31+7) % 251."""
    period = bytes((i * 31 + 7) % 251 for i in range(251))
    start = offset % 251
    reps = (start + size) // 251 + 1
    return (period * reps)[start : start + size]


@dataclass(frozen=True)
class Rebinding:
    """A DST-8 name: the n-th A (AAAA) query of a case gets a[n] (aaaa[n]); the last repeats."""

    name: str
    a: tuple[str, ...]
    aaaa: tuple[str, ...]

    def sequence(self, family: str) -> tuple[str, ...]:
        return self.a if family == "ipv4" else self.aaaa


@dataclass(frozen=True)
class MixedName:
    name: str
    ipv4: tuple[str, ...]
    ipv6: tuple[str, ...]


@dataclass(frozen=True)
class Canary:
    tcp: tuple[int, ...]
    udp: tuple[int, ...]
    multicast_groups: tuple[str, ...]


@dataclass(frozen=True)
class WatchedRanges:
    ipv4: tuple[Network, ...]
    ipv6: tuple[Network, ...]
    broadcast: tuple[str, ...]
    multicast: tuple[Network, ...]


@dataclass(frozen=True)
class World:
    """The whole fake internet, as described by one world file."""

    source: Path
    services: dict[str, ServiceKind] = field(hash=False)
    hosts: tuple[Host, ...]
    canary: Canary
    watched: WatchedRanges
    accounts: tuple[Account, ...]
    messages: tuple[Message, ...]
    articles: tuple[Article, ...]
    http_bodies: tuple[HttpBody, ...]
    cnames: dict[str, str] = field(hash=False)
    rebindings: tuple[Rebinding, ...]
    mixed: tuple[MixedName, ...]

    def host(self, host_id: str) -> Host:
        for host in self.hosts:
            if host.id == host_id:
                return host
        raise KeyError(f"no host {host_id!r} in {self.source}")

    def host_named(self, name: str) -> Host:
        """The host a DNS name belongs to (case and one trailing dot ignored)."""
        wanted = normalise_name(name)
        for host in self.hosts:
            if wanted in (normalise_name(n) for n in host.names):
                return host
        raise KeyError(f"no host named {name!r} in {self.source}")

    def by_role(self, role: str) -> tuple[Host, ...]:
        return tuple(h for h in self.hosts if h.role == role)

    def bindings(self) -> Iterator[Binding]:
        """Every (host, service, address, port) the world serves, in file order."""
        for host in self.hosts:
            for name in host.services:
                kind = self.services[name]
                for address in host.addresses:
                    for listen in kind.listen:
                        yield Binding(host, kind, address, listen)

    def serves(self, host_id: str, service: str) -> bool:
        return service in self.host(host_id).services

    def watched_ports(self, proto: str) -> tuple[int, ...]:
        """Ports a canary or a service answers on, at every world address."""
        ports = set(self.canary.tcp if proto == "tcp" else self.canary.udp)
        ports.update(
            listen.port
            for kind in self.services.values()
            for listen in kind.listen
            if listen.proto == proto
        )
        return tuple(sorted(ports))

    def account(self, user: str) -> Account:
        for account in self.accounts:
            if account.user == user:
                return account
        raise KeyError(f"no account {user!r}")

    def mailbox(self, user: str) -> tuple[Message, ...]:
        return tuple(m for m in self.messages if m.mailbox == user)

    def all_names(self) -> dict[str, Host]:
        """Every DNS name a host carries, normalised, to its host."""
        return {normalise_name(n): h for h in self.hosts for n in h.names}


def normalise_name(name: str) -> str:
    """DNS names compare case-insensitively and without one trailing dot."""
    lowered = name.lower()
    return lowered[:-1] if lowered.endswith(".") else lowered


def load_world(path: Path | str | None = None) -> World:
    """Parse and check a world file; WorldDataError says what is wrong and where."""
    source = Path(path) if path is not None else DEFAULT_WORLD
    try:
        raw = tomllib.loads(source.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise WorldDataError(f"{source}: cannot read world file: {exc}") from exc
    try:
        with _entry(str(source)):
            return _build(source, raw)
    except WorldDataError:
        raise
    except AttributeError as exc:  # a table where a list belongs, or the reverse
        raise WorldDataError(f"{source}: malformed entry: {exc}") from exc


@contextlib.contextmanager
def _entry(where: str) -> Iterator[None]:
    """Re-raise what is wrong inside `where` as a WorldDataError that names it."""
    try:
        yield
    except KeyError as exc:
        raise WorldDataError(f"{where}: missing key {exc.args[0]!r}") from exc
    except (TypeError, ValueError) as exc:  # WorldDataError included
        raise WorldDataError(f"{where}: {exc}") from exc


def _tuple(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise WorldDataError(f"expected a list, got {value!r}")
    return tuple(str(v) for v in value)


def _rebinding(entry: dict) -> Rebinding:
    with _entry(f"[[rebinding]] {entry.get('name', 'without a name')!r}"):
        unknown = sorted(set(entry) - {"name", "a", "aaaa"})
        if unknown:
            raise WorldDataError(f"unknown keys {unknown} (a rebinding has name, a, aaaa)")
        a = tuple(str(ipaddress.IPv4Address(x)) for x in entry.get("a", []))
        aaaa = tuple(str(ipaddress.IPv6Address(x)) for x in entry.get("aaaa", []))
        if not a and not aaaa:
            raise WorldDataError("a rebinding name needs an `a` or `aaaa` sequence")
        return Rebinding(normalise_name(str(entry["name"])), a, aaaa)


def _build(source: Path, raw: dict) -> World:
    if raw.get("schema") != 1:
        raise WorldDataError(f"unsupported schema {raw.get('schema')!r}, expected 1")
    services = {}
    for name, spec in raw["service"].items():
        with _entry(f"[service.{name}]"):
            services[name] = ServiceKind(
                name=name,
                doc=str(spec.get("doc", "")),
                listen=tuple(Listen.parse(item) for item in spec["listen"]),
                tls=str(spec.get("tls", "")),
                certificate_names=_tuple(spec.get("certificate_names", [])),
            )
    hosts = []
    seen_ids: set[str] = set()
    for number, entry in enumerate(raw["host"], 1):
        label = entry.get("id", "without an id") if isinstance(entry, dict) else entry
        with _entry(f"[[host]] #{number} ({label!r})"):
            host = Host(
                id=str(entry["id"]),
                role=str(entry["role"]),
                names=_tuple(entry.get("names", [])),
                ipv4=tuple(str(ipaddress.IPv4Address(a)) for a in entry.get("ipv4", [])),
                ipv6=tuple(str(ipaddress.IPv6Address(a)) for a in entry.get("ipv6", [])),
                services=_tuple(entry.get("services", [])),
                clauses=_tuple(entry.get("clauses", [])),
            )
        if host.id in seen_ids:
            raise WorldDataError(f"host id {host.id!r} appears twice")
        seen_ids.add(host.id)
        unknown = [s for s in host.services if s not in services]
        if unknown:
            raise WorldDataError(f"host {host.id!r} names unknown services {unknown}")
        hosts.append(host)
    canary_raw = raw["canary"]
    watched_raw = raw["watched_ranges"]
    return World(
        source=source,
        services=services,
        hosts=tuple(hosts),
        canary=Canary(
            tcp=tuple(int(p) for p in canary_raw["tcp"]),
            udp=tuple(int(p) for p in canary_raw["udp"]),
            multicast_groups=_tuple(canary_raw.get("multicast_groups", [])),
        ),
        watched=WatchedRanges(
            ipv4=tuple(ipaddress.ip_network(n) for n in watched_raw.get("ipv4", [])),
            ipv6=tuple(ipaddress.ip_network(n) for n in watched_raw.get("ipv6", [])),
            broadcast=_tuple(watched_raw.get("broadcast", [])),
            multicast=tuple(ipaddress.ip_network(n) for n in watched_raw.get("multicast", [])),
        ),
        accounts=tuple(
            Account(str(a["user"]), str(a["password"]), _tuple(a["services"]), _tuple(a["hosts"]))
            for a in raw.get("account", [])
        ),
        messages=tuple(
            Message(str(m["mailbox"]), str(m["uid"]), str(m["text"]))
            for m in raw.get("message", [])
        ),
        articles=tuple(
            Article(str(a["group"]), int(a["number"]), str(a["message_id"]), str(a["text"]))
            for a in raw.get("article", [])
        ),
        http_bodies=tuple(
            HttpBody(str(b["path"]), b.get("text"), b.get("size")) for b in raw.get("http_body", [])
        ),
        cnames={
            normalise_name(c["alias"]): normalise_name(c["target"]) for c in raw.get("cname", [])
        },
        rebindings=tuple(_rebinding(r) for r in raw.get("rebinding", [])),
        mixed=tuple(
            MixedName(
                normalise_name(m["name"]), _tuple(m.get("ipv4", [])), _tuple(m.get("ipv6", []))
            )
            for m in raw.get("mixed", [])
        ),
    )
