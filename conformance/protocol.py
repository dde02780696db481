"""The harness side of the agent wire protocol, version 1 (sans-IO).

No pipes and no processes here: bytes in, frozen values out, and the reverse.
`conformance/instance.py` binds this to a child process. The agent's side of
the same protocol is in `conformance/agent.py` (which must stay one stdlib
file for Python 2.7, so the two sides share the spec in docs/architecture.md,
not code).

Values are JSON with tagged forms: `{"$bytes": B64}`, `{"$nstr": B64}` (a
Python 2 native `str`, see `NativeStr`), `{"$tuple": [...]}`, `{"$dict": [[k, v], ...]}`
(keys that are not plain strings), `{"$ref": "h3",
"type": "socket", "module": "socket"}`, `{"$float": "nan"|"inf"|"-inf"}`.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

PROTOCOL_VERSION = 1
MAX_LINE = 64 * 1024 * 1024   # a reply longer than this is garbage, not data


class ProtocolError(Exception):
    """The agent said something that is not protocol version 1."""


@dataclass(frozen=True)
class Ref:
    """An object held by the agent, named by its handle."""

    handle: str
    type: str = ""
    module: str = ""
    callable: bool = False


class NativeStr(bytes):
    """A Python 2 native `str` from a 2.7 agent: bytes that also compare equal
    to the same text as a Python 3 `str` (latin-1), so that one case can say
    `assert peer[0] == "192.0.2.1"` and `assert data == b"hello"` on every
    runtime."""

    @property
    def text(self) -> str:
        return self.decode("latin-1")

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            return self.text == other
        return bytes.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = bytes.__hash__


@dataclass(frozen=True)
class Hello:
    """The agent's first line."""

    version: int
    python: str
    pid: int
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class ErrorInfo:
    """An exception raised inside the instance, as the agent described it."""

    type: str
    module: str
    mro_names: tuple[str, ...]   # (`mro` would clash with type.mro in dataclasses)
    errno: int | None
    errno_name: str | None
    message: str
    is_socket_error: bool
    is_timeout: bool
    is_gaierror: bool
    args_repr: str = ""
    traceback: str = ""
    origin: str = "candidate"   # "agent": the agent refused the request (a harness bug)

    @classmethod
    def from_json(cls, data: Any) -> ErrorInfo:
        if not isinstance(data, Mapping) or "type" not in data:
            raise ProtocolError(f"malformed error object: {data!r:.200}")
        errno = data.get("errno")
        return cls(
            type=str(data["type"]),
            module=str(data.get("module", "")),
            mro_names=tuple(str(n) for n in data.get("mro", ())),
            errno=int(errno) if isinstance(errno, int) else None,
            errno_name=str(data["errno_name"]) if data.get("errno_name") else None,
            message=str(data.get("message", "")),
            is_socket_error=bool(data.get("is_socket_error", False)),
            is_timeout=bool(data.get("is_timeout", False)),
            is_gaierror=bool(data.get("is_gaierror", False)),
            args_repr=str(data.get("args", "")),
            traceback=str(data.get("traceback", "")),
            origin=str(data.get("origin", "candidate")),
        )

    def describe(self) -> str:
        name = f"{self.module}.{self.type}" if self.module not in ("", "builtins",
                                                                   "exceptions") else self.type
        code = f" [{self.errno_name or self.errno}]" if self.errno is not None else ""
        flags = [f for f, on in (("socket.error", self.is_socket_error),
                                 ("socket.timeout", self.is_timeout),
                                 ("socket.gaierror", self.is_gaierror)) if on]
        also = f" (is {', '.join(flags)})" if flags else ""
        return f"{name}{code}: {_shortened(self.message)}{also}"


MESSAGE_SHOWN = 300


def _shortened(message: str) -> str:
    """A candidate's error message as evidence shows it: a library that lists its whole
    allow-list in every error (pytest-socket: 625 networks) would otherwise repeat
    tens of kilobytes in every case of every report."""
    if len(message) <= MESSAGE_SHOWN:
        return message
    return f"{message[:MESSAGE_SHOWN]}... ({len(message) - MESSAGE_SHOWN} more characters)"


@dataclass(frozen=True)
class Reply:
    id: int
    ok: bool
    value: Any = None          # still in wire form; decode with `decode_value`
    error: ErrorInfo | None = None


# ---------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------

def encode_value(value: Any, ref_of: Callable[[Any], Ref | None] = lambda v: None) -> Any:
    """A harness value in wire form. `ref_of` turns harness-side proxies
    (conformance.remote.Remote) into the Ref they stand for."""
    ref = ref_of(value)
    if ref is not None:
        return {"$ref": ref.handle}
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return {"$float": repr(value)}
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$bytes": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, tuple):
        return {"$tuple": [encode_value(v, ref_of) for v in value]}
    if isinstance(value, list):
        return [encode_value(v, ref_of) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value) and not any(k.startswith("$") for k in value):
            return {k: encode_value(v, ref_of) for k, v in value.items()}
        return {"$dict": [[encode_value(k, ref_of), encode_value(v, ref_of)]
                          for k, v in value.items()]}
    raise TypeError(f"cannot send a {type(value).__name__} to the agent: {value!r:.80}")


def decode_value(wire: Any, make_ref: Callable[[Ref], Any] = lambda r: r) -> Any:
    """A wire value as a harness value; refs become `make_ref(Ref)`."""
    if isinstance(wire, list):
        return [decode_value(v, make_ref) for v in wire]
    if not isinstance(wire, dict):
        return wire
    if len(wire) >= 1:
        if "$bytes" in wire:
            return base64.b64decode(wire["$bytes"])
        if "$nstr" in wire:
            return NativeStr(base64.b64decode(wire["$nstr"]))
        if "$tuple" in wire:
            return tuple(decode_value(v, make_ref) for v in wire["$tuple"])
        if "$ref" in wire:
            return make_ref(Ref(str(wire["$ref"]), str(wire.get("type", "")),
                                str(wire.get("module", "")), bool(wire.get("callable", False))))
        if "$float" in wire:
            return float(wire["$float"])
        if "$dict" in wire:
            return {_hashable(decode_value(k, make_ref)): decode_value(v, make_ref)
                    for k, v in wire["$dict"]}
    return {k: decode_value(v, make_ref) for k, v in wire.items()}


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


# ---------------------------------------------------------------------------
# Messages
# ---------------------------------------------------------------------------

def encode_request(request_id: int, op: str, **fields: Any) -> bytes:
    """One request line. `fields` must already be in wire form."""
    message = {"id": request_id, "op": op}
    message.update(fields)
    return json.dumps(message, separators=(",", ":")).encode("utf-8") + b"\n"


def _load(line: bytes) -> dict[str, Any]:
    try:
        message = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ProtocolError(f"not a JSON line: {line[:200]!r}") from exc
    if not isinstance(message, dict):
        raise ProtocolError(f"not a JSON object: {line[:200]!r}")
    return message


def parse_hello(line: bytes) -> Hello:
    message = _load(line)
    version = message.get("agent")
    if version != PROTOCOL_VERSION:
        raise ProtocolError(
            f"expected the agent's hello for protocol {PROTOCOL_VERSION}, got {line[:200]!r}")
    extra = {k: v for k, v in message.items() if k not in ("agent", "python", "pid")}
    return Hello(version=version, python=str(message.get("python", "?")),
                 pid=int(message.get("pid", 0)), extra=extra)


def parse_reply(line: bytes) -> Reply:
    message = _load(line)
    request_id = message.get("id")
    ok = message.get("ok")
    if not isinstance(request_id, int) or not isinstance(ok, bool):
        raise ProtocolError(f"a reply needs an integer id and a boolean ok: {line[:200]!r}")
    if ok:
        return Reply(id=request_id, ok=True, value=message.get("value"))
    return Reply(id=request_id, ok=False, error=ErrorInfo.from_json(message.get("error")))


class LineBuffer:
    """Splits a byte stream into lines; refuses lines longer than MAX_LINE."""

    def __init__(self, limit: int = MAX_LINE) -> None:
        self._buffer = bytearray()
        self._limit = limit

    def feed(self, data: bytes) -> Iterator[bytes]:
        self._buffer += data
        while True:
            end = self._buffer.find(b"\n")
            if end < 0:
                break
            if end > self._limit:
                raise ProtocolError(f"a line longer than {self._limit} bytes")
            line = bytes(self._buffer[:end])
            del self._buffer[: end + 1]
            yield line
        if len(self._buffer) > self._limit:
            raise ProtocolError(f"a line longer than {self._limit} bytes")

    @property
    def pending(self) -> bytes:
        return bytes(self._buffer)
