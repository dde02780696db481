"""From what a client asked for to the addresses the service may dial.

The verdict is taken on the exact address that will be dialled: a name is
resolved here, once, and each answer is judged on its own (DST-8, DST-9).
A Gmail exception is granted only when the service's own resolution of the
client-supplied name contains the address (EXC-2..5).
"""

from __future__ import annotations

import contextlib
import errno
import socket
from collections.abc import Callable, Iterator

from ..addresses import Address, InvalidHost, normalise_hostname, read_host
from ..policy import Policy, Verdict
from .table import ServiceError

Resolver = Callable[[str, int], list[Address]]


class ResolveError(Exception):
    """A resolver failure, reported to the app as socket.gaierror."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message


@contextlib.contextmanager
def resolver_errors() -> Iterator[None]:
    """Turn the stdlib resolver's failures into ResolveError (gaierror for the app)."""
    try:
        yield
    except socket.gaierror as exc:
        raise ResolveError(exc.errno or socket.EAI_NONAME, exc.strerror or str(exc)) from exc
    except (socket.herror, UnicodeError) as exc:
        raise ResolveError(socket.EAI_NONAME, str(exc)) from exc


def system_resolver(name: str, family: int) -> list[Address]:
    """The namespace's stub resolver (glibc getaddrinfo)."""
    with resolver_errors():
        infos = socket.getaddrinfo(name, None, family, socket.SOCK_STREAM)
    out: list[Address] = []
    for fam, _t, _p, _c, sa in infos:
        addr = Address.parse(str(sa[0]))
        if addr not in out and fam in (socket.AF_INET, socket.AF_INET6):
            out.append(addr)
    return out


def sockaddr(family: int, address: Address, port: int) -> tuple:
    if family == socket.AF_INET6:
        if address.version == 4:
            return (f"::ffff:{address}", port, 0, 0)
        return (str(address), port, 0, 0)
    return (str(address), port)


def candidates(host: str, family: int, resolver: Resolver) -> tuple[list[Address], str | None]:
    """Addresses `host` stands for on a socket of `family`, and the normalised
    name if it was a name."""
    if host == "<broadcast>":
        return [Address(4, 0xFFFFFFFF)], None
    try:
        spelling = read_host(host)
    except InvalidHost as exc:
        raise ResolveError(socket.EAI_NONAME, str(exc)) from exc
    if spelling.address is not None:
        addr = spelling.address
        if family == socket.AF_INET and addr.version != 4:
            raise ResolveError(socket.EAI_ADDRFAMILY, "Address family for hostname not supported")
        if family == socket.AF_INET6 and addr.version == 4:
            raise ResolveError(socket.EAI_ADDRFAMILY, "Address family for hostname not supported")
        return [addr], None
    assert spelling.name is not None
    return resolver(spelling.name, family), spelling.name


def choose(policy: Policy, resolver: Resolver, family: int, host: str, port: int, proto: str,
           hint: str | None) -> tuple[Address, Verdict]:
    """The first address `host` stands for that the policy allows, or ServiceError(EACCES)."""
    addrs, name = candidates(host, family, resolver)
    exc_name = name
    if exc_name is None and hint:
        try:
            exc_name = normalise_hostname(hint)
        except InvalidHost:
            exc_name = None
    owned: frozenset[Address] = frozenset()
    if exc_name in policy.gmail_ports:
        try:
            owned = frozenset(resolver(exc_name, socket.AF_UNSPEC))
        except ResolveError:
            owned = frozenset()
    last: Verdict | None = None
    for addr in addrs:
        verdict = policy.decide(addr, port, proto, exc_name, owned)
        if verdict.allowed:
            return addr, verdict
        last = verdict
    reason = last.reason if last else "no address"
    raise ServiceError(errno.EACCES, f"Permission denied: {reason}")
