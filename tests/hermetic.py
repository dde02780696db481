"""A guard for DEVELOPERS.md rule 1 inside the test process.

The tests' own process runs on the host network: it may talk to loopback and
to unix sockets, never to a world address or a DNS server. Anything that must
reach the world runs in a process started through `WorldHandle.enter`. This
guard turns a slip (a name lookup, a connect to 10.x) into a loud error
before a packet is sent.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from typing import Any

# Lookups that bypass getaddrinfo (the C library's gethostby* calls).
BY_NAME = ("gethostbyname", "gethostbyname_ex", "gethostbyaddr")
LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", ""})


class HermeticViolation(OSError):
    """The test process tried to reach something outside loopback."""


def is_local(host: object) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    text = str(host).split("%", 1)[0]
    if text.lower() in LOCAL_NAMES:
        return True
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def _check_address(address: Any) -> None:
    if isinstance(address, tuple) and address and not is_local(address[0]):
        raise HermeticViolation(f"hermetic guard: the test process may not reach {address!r}")


def install() -> Callable[[], None]:
    """Patch socket entry points in this process; returns the undo."""
    originals: dict[str, Any] = {
        "connect": socket.socket.connect,
        "connect_ex": socket.socket.connect_ex,
        "sendto": socket.socket.sendto,
        "getaddrinfo": socket.getaddrinfo,
        **{name: getattr(socket, name) for name in BY_NAME},
    }

    def connect(self: socket.socket, address: Any) -> None:
        _check_address(address)
        return originals["connect"](self, address)  # type: ignore[no-any-return]

    def connect_ex(self: socket.socket, address: Any) -> int:
        _check_address(address)
        return originals["connect_ex"](self, address)  # type: ignore[no-any-return]

    def sendto(self: socket.socket, data: bytes, *args: Any) -> int:
        _check_address(args[-1])
        return originals["sendto"](self, data, *args)  # type: ignore[no-any-return]

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        flags = kwargs.get("flags", args[4] if len(args) > 4 else 0)
        numeric_only = bool(flags & socket.AI_NUMERICHOST)  # parses, never queries
        if not numeric_only and not is_local(host):
            raise HermeticViolation(f"hermetic guard: the test process may not resolve {host!r}")
        return originals["getaddrinfo"](host, *args, **kwargs)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    socket.socket.sendto = sendto  # type: ignore[assignment]
    socket.getaddrinfo = getaddrinfo
    for name in BY_NAME:
        setattr(socket, name, _guarded_lookup(name, originals[name]))

    def undo() -> None:
        socket.socket.connect = originals["connect"]  # type: ignore[method-assign]
        socket.socket.connect_ex = originals["connect_ex"]  # type: ignore[method-assign]
        socket.socket.sendto = originals["sendto"]  # type: ignore[method-assign]
        socket.getaddrinfo = originals["getaddrinfo"]
        for name in BY_NAME:
            setattr(socket, name, originals[name])

    return undo


def _guarded_lookup(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
    def lookup(host: Any) -> Any:
        if not is_local(host):
            raise HermeticViolation(f"hermetic guard: the test process may not {name}({host!r})")
        return original(host)

    return lookup
