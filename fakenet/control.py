"""The world control protocol, sans-IO: JSON lines between harness and world.

One request, one reply, in order (docs/architecture.md). The world greets with
`{"ready": true, "version": 1, "ca": PATH, "pid": N}` or, if it cannot come
up, `{"error": MESSAGE, "fault": "namespace" | "world"}`. This module only
turns those lines into frozen values and back; the pipes live in
fakenet/runtime.py (world side) and fakenet/handle.py (harness side).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fakenet.journal import JournalEvent

VERSION = 1


class ControlError(ValueError):
    """A control line that is not valid JSON or not a known message."""


# ---- requests (harness -> world) -------------------------------------------
@dataclass(frozen=True)
class Mark:
    """Reset per-case state (DNS rebinding counters); reply with the journal position."""


@dataclass(frozen=True)
class Events:
    """Settle, then reply with every journal event after `since`."""

    since: int


@dataclass(frozen=True)
class Stop:
    """Close every listener and exit."""


Request = Mark | Events | Stop


# ---- replies (world -> harness) ---------------------------------------------
@dataclass(frozen=True)
class Ready:
    version: int
    ca: str
    pid: int


@dataclass(frozen=True)
class Marked:
    mark: int


@dataclass(frozen=True)
class EventList:
    events: tuple[JournalEvent, ...]


@dataclass(frozen=True)
class Stopped:
    pass


@dataclass(frozen=True)
class Failure:
    """The world refused a request or could not start; `fault` says whose fault."""

    error: str
    fault: str = "world"  # "world" or "namespace"


Reply = Ready | Marked | EventList | Stopped | Failure


def _line(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode() + b"\n"


def _parse(line: bytes | str) -> dict[str, Any]:
    try:
        obj = json.loads(line)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ControlError(f"control line is not JSON: {line[:80]!r}") from exc
    if not isinstance(obj, dict):
        raise ControlError(f"control line is not a JSON object: {line[:80]!r}")
    return obj


def encode_request(request: Request) -> bytes:
    match request:
        case Mark():
            return _line({"op": "mark"})
        case Events(since=since):
            return _line({"op": "events", "since": since})
        case Stop():
            return _line({"op": "stop"})
    raise ControlError(f"not a request: {request!r}")


def decode_request(line: bytes | str) -> Request:
    obj = _parse(line)
    op = obj.get("op")
    if op == "mark":
        return Mark()
    if op == "stop":
        return Stop()
    if op == "events":
        since = obj.get("since", 0)
        if not isinstance(since, int) or isinstance(since, bool) or since < 0:
            raise ControlError(f"events: 'since' must be a non-negative integer, got {since!r}")
        return Events(since)
    raise ControlError(f"unknown op {op!r}; expected mark, events or stop")


def encode_reply(reply: Reply) -> bytes:
    match reply:
        case Ready(version=version, ca=ca, pid=pid):
            return _line({"ready": True, "version": version, "ca": ca, "pid": pid})
        case Marked(mark=mark):
            return _line({"mark": mark})
        case EventList(events=events):
            return _line({"events": [e.to_json() for e in events]})
        case Stopped():
            return _line({"stopped": True})
        case Failure(error=error, fault=fault):
            return _line({"error": error, "fault": fault})
    raise ControlError(f"not a reply: {reply!r}")


def decode_reply(line: bytes | str) -> Reply:
    obj = _parse(line)
    try:
        if "error" in obj:
            return Failure(str(obj["error"]), str(obj.get("fault", "world")))
        if obj.get("ready") is True:
            return Ready(int(obj["version"]), str(obj["ca"]), int(obj.get("pid", 0)))
        if "mark" in obj:
            return Marked(int(obj["mark"]))
        if "events" in obj:
            return EventList(tuple(JournalEvent.from_json(e) for e in obj["events"]))
        if obj.get("stopped") is True:
            return Stopped()
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise ControlError(f"malformed reply {obj!r}: {exc}") from exc
    raise ControlError(f"unknown reply {obj!r}")
