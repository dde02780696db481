"""The egress policy handed to third-party guards, loaded from egress_policy.toml.

Runs on both sides: the harness's tests load it, and the bootstraps of the
third-party candidates load it inside their instances (standard library
only, so it imports nothing of the harness). Each bootstrap turns the
policy into its library's own configuration; what a library cannot express
is said in docs/candidates/NAME.md.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

POLICY_FILE = Path(__file__).with_name("egress_policy.toml")
#: Set by the adapters, read by the bootstraps inside the instance.
POLICY_ENV = "CONFORMANCE_EGRESS_POLICY"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class PolicyError(ValueError):
    """The policy file is malformed; the message names the file and the entry."""


@dataclass(frozen=True)
class Exception_:
    """One documented exception: addresses or host names, allowed on these ports."""

    clause: str
    what: str
    addresses: tuple[str, ...]
    hosts: tuple[str, ...]
    ports: tuple[int, ...]
    protos: tuple[str, ...]


@dataclass(frozen=True)
class EgressPolicy:
    blocked: tuple[Network, ...]
    blocked_ports: tuple[int, ...]
    embedded_ipv4: tuple[Network, ...]
    exceptions: tuple[Exception_, ...]

    @property
    def exception_addresses(self) -> tuple[str, ...]:
        return tuple(a for exc in self.exceptions for a in exc.addresses)

    def allowed_networks(self, *, block_embedded: bool) -> tuple[Network, ...]:
        """Every address outside the blocked ranges, as CIDR blocks: the policy for a
        guard that only takes an allow-list. With `block_embedded` the IPv6 forms
        that embed an IPv4 address are left out whole."""
        blocked = list(self.blocked) + (list(self.embedded_ipv4) if block_embedded else [])
        allowed: list[Network] = []
        for universe in (ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0")):
            pieces: list[Network] = [universe]
            for net in (n for n in blocked if n.version == universe.version):
                pieces = [part for piece in pieces for part in _without(piece, net)]
            allowed += pieces
        return tuple(sorted(allowed, key=lambda n: (n.version, n)))


def _without(piece: Network, net: Network) -> list[Network]:
    if not piece.overlaps(net):
        return [piece]
    if piece.subnet_of(net):  # type: ignore[arg-type]
        return []
    return list(piece.address_exclude(net))  # type: ignore[arg-type]


def load(path: str | os.PathLike[str] | None = None) -> EgressPolicy:
    """The policy at `path`, else $CONFORMANCE_EGRESS_POLICY, else the bundled file."""
    where = Path(path or os.environ.get(POLICY_ENV) or POLICY_FILE)
    try:
        data = tomllib.loads(where.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise PolicyError(f"{where}: cannot read the egress policy: {exc}") from exc
    try:
        blocked = data["blocked"]
        return EgressPolicy(
            blocked=tuple(_network(n) for n in [*blocked["ipv4"], *blocked["ipv6"]]),
            blocked_ports=tuple(int(p) for p in blocked.get("ports", [])),
            embedded_ipv4=tuple(_network(n)
                                for n in data.get("embedded_ipv4", {}).get("prefixes", [])),
            exceptions=tuple(_exception(e) for e in data.get("exception", [])),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise PolicyError(f"{where}: malformed egress policy: {exc!r}") from exc


def _network(text: str) -> Network:
    return ipaddress.ip_network(text, strict=True)


def _exception(entry: dict[str, Any]) -> Exception_:
    addresses = tuple(str(ipaddress.ip_address(a)) for a in entry.get("addresses", []))
    hosts = tuple(str(h) for h in entry.get("hosts", []))
    if not addresses and not hosts:
        raise ValueError(f"exception {entry.get('what', '?')!r} names no address and no host")
    protos = tuple(str(p) for p in entry["protos"])
    if not set(protos) <= {"tcp", "udp"}:
        raise ValueError(f"exception {entry.get('what', '?')!r}: protos must be tcp/udp")
    return Exception_(clause=str(entry["clause"]), what=str(entry["what"]),
                      addresses=addresses, hosts=hosts,
                      ports=tuple(int(p) for p in entry["ports"]), protos=protos)
