"""Frames between instances and the socket service (both sides import this).

A frame is `!II` (header length, payload length), a JSON header, then raw
payload bytes. A request header has "op"; a reply has "ok" and either result
fields or "errno"/"message" (a system error) or "gai" (a resolver error).
JSON, never pickle: the service does not trust what an app sends.

A connection's first frame says what it is: "control" (RPCs for one
instance), "connect" (a TCP socket: after the reply the connection carries
the raw byte stream both ways), "attach" (a pickled descriptor taken up by
another instance) or "udp" (datagrams arrive as frames).
"""

from __future__ import annotations

import json
import struct
from typing import Any, Protocol

HEAD = struct.Struct("!II")
MAX_HEADER = 1 << 20
MAX_PAYLOAD = 1 << 24


class WireError(Exception):
    """The other side closed or sent something that is not a frame."""


class _Sock(Protocol):
    def recv_into(self, buf: Any, n: int = ..., /) -> int: ...
    def sendall(self, data: Any, /) -> None: ...


def encode(header: dict[str, Any], payload: bytes = b"") -> bytes:
    body = json.dumps(header, separators=(",", ":")).encode()
    return HEAD.pack(len(body), len(payload)) + body + payload


def recv_exact(sock: _Sock, n: int) -> bytes:
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        k = sock.recv_into(view[got:], n - got)
        if not k:
            raise WireError("connection closed mid-frame" if got else "connection closed")
        got += k
    return bytes(buf)


def read_frame(sock: _Sock) -> tuple[dict[str, Any], bytes]:
    hlen, plen = HEAD.unpack(recv_exact(sock, HEAD.size))
    if hlen > MAX_HEADER or plen > MAX_PAYLOAD:
        raise WireError("oversized frame")
    try:
        header = json.loads(recv_exact(sock, hlen))
    except ValueError as exc:
        raise WireError("frame header is not JSON") from exc
    if not isinstance(header, dict):
        raise WireError("frame header is not an object")
    payload = recv_exact(sock, plen) if plen else b""
    return header, payload


def send_frame(sock: _Sock, header: dict[str, Any], payload: bytes = b"") -> None:
    sock.sendall(encode(header, payload))
