"""Proxies for objects living inside a candidate instance.

A case drives the candidate's socket module as if it were local:

    socket = instance.module("socket")
    s = socket.create_connection(("echo.example", 7), 5)   # a Remote
    s.sendall(b"hi")
    assert s.recv(2) == b"hi"

Attribute access is one `getattr` round trip; plain values (None, bool, int,
float, str, bytes, and tuples/lists/dicts of them) come back as Python
values, anything else as a `Remote`. Calling a Remote calls it in the
instance. `remote.call("name", ...)` does getattr+call in ONE round trip, for
hot paths. An exception inside the instance raises `RemoteError`, which
carries what the agent reported (class, MRO names, errno, message, and
whether it is the instance's own socket.error/timeout/gaierror).
"""

from __future__ import annotations

import errno as errno_module
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from conformance.protocol import ErrorInfo, Ref


class RemoteError(Exception):
    """An exception raised inside the candidate instance.

    Not a harness failure: a case that expects one catches it (or uses
    `instance.attempt`); one that escapes a case counts as the candidate not
    conforming (FAIL/NON-STRICT/INFORMATIONAL by the case's level).
    """

    def __init__(self, info: ErrorInfo, op: str = "") -> None:
        super().__init__(info.describe())
        self.info = info
        self.op = op

    type = property(lambda self: self.info.type)
    module = property(lambda self: self.info.module)
    mro = property(lambda self: self.info.mro_names)
    errno = property(lambda self: self.info.errno)
    errno_name = property(lambda self: self.info.errno_name)
    message = property(lambda self: self.info.message)
    is_socket_error = property(lambda self: self.info.is_socket_error)
    is_timeout = property(lambda self: self.info.is_timeout)
    is_gaierror = property(lambda self: self.info.is_gaierror)

    def is_a(self, class_name: str) -> bool:
        """Whether `class_name` (e.g. "NotImplementedError", "OSError") is in the MRO."""
        return class_name in self.info.mro_names

    def has_errno(self, *names: str) -> bool:
        """Whether errno is one of `names` ("EACCES", ...), by symbolic name."""
        wanted = {getattr(errno_module, n) for n in names}
        return self.info.errno in wanted

    def describe(self) -> str:
        return self.info.describe()


class Channel(Protocol):
    """What a Remote needs of its instance (conformance.instance.Instance)."""

    def request(self, op: str, **fields: Any) -> Any: ...

    def encode(self, value: Any) -> Any: ...


class Remote:
    """An object held by the agent (a module, a socket, a file, a method...).

    Private attributes start with `_remote_` so that every other name is the
    remote object's.
    """

    __slots__ = ("_remote_channel", "_remote_name", "_remote_ref")

    def __init__(self, channel: Channel, ref: Ref, name: str = "") -> None:
        object.__setattr__(self, "_remote_channel", channel)
        object.__setattr__(self, "_remote_ref", ref)
        object.__setattr__(self, "_remote_name", name or ref.type)

    # -- the remote object's attributes -------------------------------------
    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)   # keep copy/pickle/inspect protocols local
        return self._remote_channel.request("getattr", target=self._remote_ref.handle, name=name)

    def __setattr__(self, name: str, value: Any) -> None:
        self._remote_channel.request("setattr", target=self._remote_ref.handle, name=name,
                                     value=self._remote_channel.encode(value))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._remote_channel.request(
            "call", target=self._remote_ref.handle, name=None,
            args=[self._remote_channel.encode(a) for a in args],
            kwargs={k: self._remote_channel.encode(v) for k, v in kwargs.items()})

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """`obj.method(*args, **kwargs)` in one round trip."""
        return self._remote_channel.request(
            "call", target=self._remote_ref.handle, name=method,
            args=[self._remote_channel.encode(a) for a in args],
            kwargs={k: self._remote_channel.encode(v) for k, v in kwargs.items()})

    # -- with-statement: the remote object's own context manager --------------
    def __enter__(self) -> Any:
        return self.call("__enter__")

    def __exit__(self, *exc: object) -> None:
        self.call("__exit__", None, None, None)

    def __eq__(self, other: object) -> bool:
        """The same object in the same instance (the agent keeps one handle per object)."""
        if not isinstance(other, Remote):
            return NotImplemented
        return (self._remote_channel is other._remote_channel
                and self._remote_ref.handle == other._remote_ref.handle)

    def __hash__(self) -> int:
        return hash((id(self._remote_channel), self._remote_ref.handle))

    def __repr__(self) -> str:
        ref = self._remote_ref
        return f"<Remote {ref.module + '.' if ref.module else ''}{ref.type} {ref.handle}>"


def ref_of(value: Any) -> Ref | None:
    """The Ref a harness value stands for, if it is a Remote."""
    if isinstance(value, Remote):
        ref: Ref = object.__getattribute__(value, "_remote_ref")
        return ref
    return None


def remote_type(value: Remote) -> str:
    """The class name of the object a Remote stands for ("socket", "SSLSocket", ...)."""
    ref: Ref = object.__getattribute__(value, "_remote_ref")
    return ref.type


@dataclass(frozen=True)
class Attempt:
    """What happened when a case tried something: a value, or a RemoteError."""

    ok: bool
    value: Any = None
    error: RemoteError | None = None
    elapsed: float = 0.0

    @property
    def raised(self) -> bool:
        return not self.ok

    def describe(self) -> str:
        if self.ok:
            shown = repr(self.value)
            return f"returned {shown[:120]}{'...' if len(shown) > 120 else ''} " \
                   f"after {self.elapsed:.3f}s"
        assert self.error is not None
        return f"raised {self.error.describe()} after {self.elapsed:.3f}s"


def attempt(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Attempt:
    """Run `fn(*args, **kwargs)`; a RemoteError becomes an Attempt, anything
    else (CandidateError, a bug in the case) propagates."""
    started = time.monotonic()
    try:
        value = fn(*args, **kwargs)
    except RemoteError as exc:
        return Attempt(ok=False, error=exc, elapsed=time.monotonic() - started)
    return Attempt(ok=True, value=value, elapsed=time.monotonic() - started)


@dataclass(frozen=True)
class Received:
    """What `recv_until_eof` read: a summary, since bodies may be large."""

    nbytes: int
    sha256: str
    head: bytes          # the first bytes, for evidence and small payloads
    eof: bool            # False when it stopped at the limit


@dataclass(frozen=True)
class Sent:
    """What `sendall_pattern` sent (the world's generated-bytes pattern)."""

    nbytes: int
    sha256: str
