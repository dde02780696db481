"""Address spellings, read the way a resolver would, for the policy to judge.

Two rules. First, every spelling that some resolver would turn into an IPv4
address (inet_aton's decimal, hex, octal and short forms, a trailing dot,
surrounding spaces) is parsed here into that address, so the policy judges
the address the spelling *means* rather than the text. Second, anything that
is neither an address nor a well-formed host name is refused outright:
nothing half-parsed ever reaches a resolver or a connect().

Pure functions, no I/O: the service and the tests share them.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass


class InvalidHost(ValueError):
    """The text is neither an IP address nor a well-formed host name."""


@dataclass(frozen=True, slots=True)
class Address:
    """An IP address as (version, integer value): cheap to compare and to range-test."""

    version: int
    value: int

    @classmethod
    def parse(cls, text: str) -> Address:
        """A strict literal (what inet_pton accepts); InvalidHost otherwise."""
        try:
            ip = ipaddress.ip_address(text.split("%", 1)[0])
        except ValueError as exc:
            raise InvalidHost(f"not an IP address: {text!r}") from exc
        return cls(ip.version, int(ip))

    def __str__(self) -> str:
        return str(ipaddress.ip_address(self.value) if self.version == 4
                   else ipaddress.IPv6Address(self.value))


# ---------------------------------------------------------------------------
# inet_aton: "a", "a.b", "a.b.c", "a.b.c.d", each part decimal, 0x hex or 0 octal.
_PART = re.compile(r"^(0[xX][0-9a-fA-F]*|0[0-7]*|[1-9][0-9]*)$")


def _aton_part(part: str) -> int | None:
    if not _PART.match(part):
        return None
    if part[:2] in ("0x", "0X"):
        return int(part[2:] or "0", 16)
    if part.startswith("0") and len(part) > 1:
        return int(part, 8)
    return int(part)


def parse_ipv4_spelling(text: str) -> int | None:
    """The IPv4 address inet_aton would read from `text`, or None.

    Accepts what glibc accepts (1 to 4 parts; the last part fills the
    remaining bytes), after removing surrounding whitespace and one trailing
    dot, which resolvers also ignore."""
    text = text.strip()
    if text.endswith("."):
        text = text[:-1]
    if not text or len(text) > 64:
        return None
    parts = text.split(".")
    if len(parts) > 4:
        return None
    values = [_aton_part(p) for p in parts]
    if any(v is None for v in values):
        return None
    nums: list[int] = values  # type: ignore[assignment]
    head, last = nums[:-1], nums[-1]
    if any(v > 0xFF for v in head):
        return None
    if last >= 1 << (8 * (4 - len(head))):
        return None
    value = 0
    for v in head:
        value = (value << 8) | v
    return (value << (8 * (4 - len(head)))) | last


# ---------------------------------------------------------------------------
_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")


def normalise_hostname(text: str) -> str:
    """Lower case, one trailing dot removed; InvalidHost for anything that is
    not a plain DNS name (NUL, spaces, empty labels, over-long names)."""
    if not isinstance(text, str):
        raise InvalidHost(f"host name must be str, not {type(text).__name__}")
    name = text.lower()
    if name.endswith("."):
        name = name[:-1]
    if not name or len(name) > 253:
        raise InvalidHost(f"bad host name: {text!r}")
    try:
        name.encode("ascii")
    except UnicodeEncodeError:
        try:
            name = name.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise InvalidHost(f"bad host name: {text!r}") from exc
    if not all(_LABEL.match(label) for label in name.split(".")):
        raise InvalidHost(f"bad host name: {text!r}")
    return name


@dataclass(frozen=True, slots=True)
class HostSpelling:
    """What a client-supplied host string turned out to be: an address, or a name."""

    address: Address | None
    name: str | None


def read_host(text: str) -> HostSpelling:
    """Classify a client-supplied host: IPv6 literal, any IPv4 spelling, or a
    normalised host name. Raises InvalidHost for anything else."""
    if not isinstance(text, str):
        raise InvalidHost(f"host must be str, not {type(text).__name__}")
    if "\x00" in text:
        raise InvalidHost("host contains a NUL byte")
    stripped = text.strip()
    if ":" in stripped:
        return HostSpelling(Address.parse(stripped), None)
    v4 = parse_ipv4_spelling(stripped)
    if v4 is not None:
        return HostSpelling(Address(4, v4), None)
    if stripped != text:
        raise InvalidHost(f"bad host name: {text!r}")
    return HostSpelling(None, normalise_hostname(text))


# ---------------------------------------------------------------------------
# IPv6 forms that carry an IPv4 address inside.
_MAPPED = 0xFFFF << 32                       # ::ffff:0:0/96
_NAT64 = 0x0064FF9B << 96                    # 64:ff9b::/96
_6TO4_PREFIX = 0x2002                        # 2002::/16
_TEREDO_PREFIX = 0x20010000                  # 2001:0::/32
_LOW32 = 0xFFFFFFFF


def embedded_ipv4(value: int) -> tuple[int, ...]:
    """The IPv4 addresses an IPv6 address embeds, by the form it has.

    Mapped and compatible (::a.b.c.d, except :: and ::1), NAT64 well-known
    prefix, 6to4 (bits 16..48) and Teredo (server in bits 32..64, client
    obfuscated in the low 32 bits). Teredo gives both, so a blocked server
    or client blocks the address."""
    high96 = value >> 32
    if high96 == _MAPPED >> 32:
        return (value & _LOW32,)
    if high96 == 0 and value > 1:
        return (value & _LOW32,)
    if high96 == _NAT64 >> 32:
        return (value & _LOW32,)
    if value >> 112 == _6TO4_PREFIX:
        return ((value >> 80) & _LOW32,)
    if value >> 96 == _TEREDO_PREFIX:
        server = (value >> 64) & _LOW32
        client = (value & _LOW32) ^ _LOW32
        return (client, server) if server else (client,)
    return ()
