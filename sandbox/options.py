"""Socket-level rules that need no network: options, families and binding.

Pure functions returning an errno (0 = fine) or a value, so that the app-side
module raises the standard error and the tests need no socket.

Option values mirror the official SDK's development server mock table
(_remote_socket_stub._MOCK_SOCKET_OPTIONS): raw bytes per (level, option),
read back as a native unsigned 32-bit integer. Setting a supported option is
accepted and ignored (OPT-2); anything else is PERMISSION_DENIED, which the
SDK client maps to EACCES (OPT-3).
"""

from __future__ import annotations

import errno
import socket as _stdlib
import struct

SOL_SOCKET = _stdlib.SOL_SOCKET
IPPROTO_TCP = _stdlib.IPPROTO_TCP
IPPROTO_UDP = _stdlib.IPPROTO_UDP

MOCK_OPTIONS: dict[tuple[int, int], bytes] = {
    (SOL_SOCKET, _stdlib.SO_KEEPALIVE): bytes.fromhex("00000000"),
    (SOL_SOCKET, _stdlib.SO_DEBUG): bytes.fromhex("80000000"),
    (IPPROTO_TCP, _stdlib.TCP_NODELAY): bytes.fromhex("00000000"),
    (SOL_SOCKET, _stdlib.SO_LINGER): bytes.fromhex("0000000000000000"),
    (SOL_SOCKET, _stdlib.SO_OOBINLINE): bytes.fromhex("00000000"),
    (SOL_SOCKET, _stdlib.SO_SNDBUF): bytes.fromhex("00002000"),
    (SOL_SOCKET, _stdlib.SO_RCVBUF): bytes.fromhex("00002000"),
    (SOL_SOCKET, _stdlib.SO_REUSEADDR): bytes.fromhex("01000000"),
}
# Read-only options answered truthfully (OPT-3 exemption).
TRUTHFUL_READ_ONLY = frozenset({(SOL_SOCKET, _stdlib.SO_ERROR), (SOL_SOCKET, _stdlib.SO_TYPE)})

FAMILIES = frozenset({_stdlib.AF_INET, _stdlib.AF_INET6})
TYPES = frozenset({_stdlib.SOCK_STREAM, _stdlib.SOCK_DGRAM})
PROTO_FOR_TYPE: dict[int, int] = {_stdlib.SOCK_STREAM: IPPROTO_TCP, _stdlib.SOCK_DGRAM: IPPROTO_UDP}
TYPE_FLAGS = getattr(_stdlib, "SOCK_NONBLOCK", 0) | getattr(_stdlib, "SOCK_CLOEXEC", 0)


def creation_errno(family: int, type: int, proto: int) -> int:
    """0 when (family, type, proto) names TCP or UDP over IPv4/IPv6 (PRT-1), else the errno."""
    if family not in FAMILIES:
        return errno.EAFNOSUPPORT
    if (type & ~TYPE_FLAGS) not in TYPES:
        return errno.EPROTONOSUPPORT
    if proto and proto != PROTO_FOR_TYPE[type & ~TYPE_FLAGS]:
        return errno.EPROTONOSUPPORT
    return 0


def mock_value(level: int, option: int, buflen: int = 0) -> int | bytes | None:
    """The mock getsockopt answer for a supported option, or None if unsupported."""
    raw = MOCK_OPTIONS.get((level, option))
    if raw is None:
        return None
    if buflen:
        return raw[:buflen]
    value: int = struct.unpack("=L", raw[:4])[0]
    return value


def setsockopt_errno(level: int, option: int) -> int:
    return 0 if (level, option) in MOCK_OPTIONS else errno.EACCES


def bind_errno(host: str, port: int) -> int:
    """Binding names no specific address or port only (BND-1/2)."""
    if port == 0 and host in ("", "0.0.0.0", "::"):
        return 0
    return errno.EACCES
