"""The outbound destination policy: one pure decision per (address, port, protocol).

Theory of operation. The service resolves what the client asked for, then asks
`Policy.decide` about the *exact* address it is about to dial, with the port,
the transport and (for the documented Gmail exceptions) the host name the
client named plus the addresses the service itself resolved that name to.
The order of the rules is the order of the documentation's sentences:

1. port 25 is closed to everything (P25-1);
2. private, loopback, link-local, unspecified, shared, reserved,
   documentation, broadcast and multicast addresses are closed (DST-1..4),
   and an IPv6 address that embeds an IPv4 address is judged by it (DST-6);
3. Google Public DNS on port 53 is open (EXC-1);
4. a Gmail host named by the client is open on its own ports, but only at an
   address that the service's own resolution of that name returned (EXC-2..5);
5. Google's ranges minus its cloud customer ranges are closed (DST-5, GCE-1);
6. TCP port 21 is closed, since FTP is not supported (FTP-2);
7. everything else is open (DST-10).

No I/O here: the range tables are given to the constructor (see ranges.py).
"""

from __future__ import annotations

import ipaddress
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field

from .addresses import Address, embedded_ipv4


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    reason: str


ALLOWED = Verdict(True, "public address")
ALLOWED_DNS = Verdict(True, "Google Public DNS on port 53")
ALLOWED_GMAIL = Verdict(True, "Gmail host on its own port")
DENIED_PORT25 = Verdict(False, "port 25 is blocked")
DENIED_SPECIAL = Verdict(False, "private, special-purpose, broadcast or multicast address")
DENIED_GOOGLE = Verdict(False, "Google IP range")
DENIED_FTP = Verdict(False, "FTP is not supported")
DENIED_PORT = Verdict(False, "port out of range")


class RangeSet:
    """A set of IP ranges as merged, sorted intervals per version: membership is one bisect."""

    __slots__ = ("_ends", "_starts")

    def __init__(self, networks: Iterable[tuple[int, int, int]] = ()) -> None:
        """networks: (version, first address, last address)."""
        by_version: dict[int, list[tuple[int, int]]] = {4: [], 6: []}
        for version, first, last in networks:
            by_version[version].append((first, last))
        self._starts: dict[int, tuple[int, ...]] = {}
        self._ends: dict[int, tuple[int, ...]] = {}
        for version, spans in by_version.items():
            merged: list[list[int]] = []
            for first, last in sorted(spans):
                if merged and first <= merged[-1][1] + 1:
                    merged[-1][1] = max(merged[-1][1], last)
                else:
                    merged.append([first, last])
            self._starts[version] = tuple(m[0] for m in merged)
            self._ends[version] = tuple(m[1] for m in merged)

    @classmethod
    def from_cidrs(cls, cidrs: Iterable[str]) -> RangeSet:
        spans = []
        for cidr in cidrs:
            net = ipaddress.ip_network(cidr, strict=False)
            spans.append((net.version, int(net.network_address), int(net.broadcast_address)))
        return cls(spans)

    def contains(self, version: int, value: int) -> bool:
        starts = self._starts[version]
        i = bisect_right(starts, value) - 1
        return i >= 0 and value <= self._ends[version][i]

    def __len__(self) -> int:
        return sum(len(s) for s in self._starts.values())


# Non-global special-purpose ranges (IANA registries), blocked as "private".
SPECIAL_V4 = (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
    "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16",
    "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
)
# IPv6: everything outside global unicast 2000::/3 is closed, except the
# embedding prefixes, which are judged by their IPv4 address; inside 2000::/3
# these special blocks are closed too.
SPECIAL_V6 = (
    "2001:2::/48", "2001:10::/28", "2001:20::/28", "2001:db8::/32", "3fff::/20",
    "5f00::/16", "64:ff9b:1::/48", "100::/64", "fc00::/7", "fe80::/10", "fec0::/10",
    "ff00::/8", "::/127",
)
SPECIAL = RangeSet.from_cidrs(SPECIAL_V4 + SPECIAL_V6)
GLOBAL_UNICAST_V6 = RangeSet.from_cidrs(("2000::/3",))

PUBLIC_DNS = frozenset({
    Address.parse("8.8.8.8"), Address.parse("8.8.4.4"),
    Address.parse("2001:4860:4860::8888"), Address.parse("2001:4860:4860::8844"),
})

# The documented Gmail exceptions, by normalised host name.
GMAIL_PORTS: dict[str, frozenset[int]] = {
    "smtp.gmail.com": frozenset({465, 587}),
    "pop.gmail.com": frozenset({995}),
    "imap.gmail.com": frozenset({993}),
}


def is_special(address: Address) -> bool:
    """Closed regardless of port: the private and special-purpose families, including
    IPv6 addresses whose embedded IPv4 address is one."""
    version, value = address.version, address.value
    if version == 4:
        return SPECIAL.contains(4, value)
    if SPECIAL.contains(6, value):
        return True
    inner = embedded_ipv4(value)
    if inner:
        return any(SPECIAL.contains(4, v) for v in inner)
    return not GLOBAL_UNICAST_V6.contains(6, value)


@dataclass(frozen=True)
class Policy:
    """Decides destinations. `google` is Google's ranges minus its cloud ranges."""

    google: RangeSet
    block_ftp: bool = True
    gmail_ports: dict[str, frozenset[int]] = field(default_factory=lambda: dict(GMAIL_PORTS))

    def decide(
        self,
        address: Address,
        port: int,
        proto: str,
        hostname: str | None = None,
        hostname_addresses: frozenset[Address] = frozenset(),
    ) -> Verdict:
        """The verdict for dialling `address`:`port` over `proto` ("tcp"/"udp").

        hostname is the normalised name the client asked for (or None), and
        hostname_addresses what the *service* resolved it to: a name only ever
        opens the addresses that belong to it."""
        if not 0 < port < 65536:
            return DENIED_PORT
        if port == 25:
            return DENIED_PORT25
        if is_special(address):
            return DENIED_SPECIAL
        if port == 53 and address in PUBLIC_DNS:
            return ALLOWED_DNS
        if hostname is not None:
            ports = self.gmail_ports.get(hostname)
            if ports is not None and port in ports and address in hostname_addresses:
                return ALLOWED_GMAIL
        if self._in_google(address):
            return DENIED_GOOGLE
        if self.block_ftp and port == 21 and proto == "tcp":
            return DENIED_FTP
        return ALLOWED

    def _in_google(self, address: Address) -> bool:
        if self.google.contains(address.version, address.value):
            return True
        if address.version == 6:
            return any(self.google.contains(4, v) for v in embedded_ipv4(address.value))
        return False
