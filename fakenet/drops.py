"""What the world's kernel dropped: the namespace's drop counters, read as deltas.

A datagram the kernel dropped (a receive buffer full in a burst) or a
connection it refused (a listen queue full) never reaches an endpoint, so
the journal alone would say "nothing arrived". The world process reads its
own network namespace's counters (/proc/net is per namespace) at each mark
and settle and journals any growth as a `drops` event (fakenet/runtime.py);
the harness then cannot conclude "nothing arrived" for that case
(conformance/verdict.py: EvidenceUnavailable).
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

DROPS = "drops"   # the journal event's kind; detail: counter -> growth

# (file, table) -> the counters in it that mean "dropped on arrival"
TABLES: dict[tuple[str, str], tuple[str, ...]] = {
    ("snmp", "Udp"): ("RcvbufErrors", "InErrors", "MemErrors"),
    ("snmp", "UdpLite"): ("RcvbufErrors", "InErrors", "MemErrors"),
    ("netstat", "TcpExt"): ("ListenDrops", "ListenOverflows"),
}
SNMP6 = ("Udp6RcvbufErrors", "Udp6InErrors", "Udp6MemErrors",
         "UdpLite6RcvbufErrors", "UdpLite6InErrors")

# What a world UDP socket asks for; the kernel doubles it, and caps SO_RCVBUF at
# net.core.rmem_max unless the namespace's root may force it (SO_RCVBUFFORCE).
UDP_RCVBUF = 64 << 20
SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)   # Linux; the stdlib lacks the name


def parse_tables(text: str) -> dict[str, int]:
    """'Udp: A B' / 'Udp: 1 2' line pairs (snmp, netstat) -> {'Udp:A': 1, 'Udp:B': 2}."""
    found: dict[str, int] = {}
    lines = text.splitlines()
    for names, values in zip(lines[::2], lines[1::2], strict=False):
        table, _, heads = names.partition(":")
        vtable, _, nums = values.partition(":")
        if table != vtable:
            continue
        for name, value in zip(heads.split(), nums.split(), strict=False):
            if value.lstrip("-").isdigit():
                found[f"{table}:{name}"] = int(value)
    return found


def parse_pairs(text: str) -> dict[str, int]:
    """'Name value' lines (snmp6) -> {'Name': value}."""
    found = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            found[parts[0]] = int(parts[1])
    return found


def read_counters(root: Path = Path("/proc/net")) -> dict[str, int]:
    """The drop counters of the calling process's network namespace (missing files: none)."""
    counters: dict[str, int] = {}
    tables: dict[str, dict[str, int]] = {}
    for (name, table), wanted in TABLES.items():
        if name not in tables:
            try:
                tables[name] = parse_tables((root / name).read_text())
            except OSError:
                tables[name] = {}
        for counter in wanted:
            key = f"{table}:{counter}"
            if key in tables[name]:
                counters[key] = tables[name][key]
    try:
        six = parse_pairs((root / "snmp6").read_text())
    except OSError:
        six = {}
    counters.update({name: six[name] for name in SNMP6 if name in six})
    return counters


class DropCounter:
    """Growth of the drop counters since the last look."""

    def __init__(self, read: Callable[[], dict[str, int]] = read_counters) -> None:
        self._read = read
        self._last = read()

    def growth(self) -> dict[str, int]:
        now = self._read()
        grown = {k: v - self._last.get(k, 0) for k, v in now.items() if v > self._last.get(k, 0)}
        self._last = now
        return grown


def large_receive_buffer(sock: socket.socket) -> None:
    """As large a receive buffer as the namespace allows, for bursts of datagrams."""
    for option in (SO_RCVBUFFORCE, socket.SO_RCVBUF):
        try:
            sock.setsockopt(socket.SOL_SOCKET, option, UDP_RCVBUF)
            return
        except OSError:
            continue
