"""HTTP/1.1 (RFC 9112) server side: record every request, serve the world's bodies.

Each complete request becomes one `http-request` note with its method,
target, version and headers in arrival order (the User-Agent is the evidence
for clauses HTTP-1 and HTTP-2) and its body as the note's data. GET and HEAD
serve world.toml `[[http_body]]` entries by path (404 otherwise); POST and
PUT answer `<length> <sha256>\\n` of the body received, so a client can prove
its bytes arrived intact. Keep-alive and pipelining follow HTTP/1.1 rules.

Reading is bounded: a request line or header line over LINE_LIMIT gets 431
or 414, more than MAX_HEADERS headers 431, a body over MAX_BODY 413, a
chunked body 501 (no client the suite drives sends one); each of these, and
any malformed request (400) or version (505), closes the connection after
the reply, as RFC 9112 advises once framing is lost. Large bodies go out as
several Sends of CHUNK bytes.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

from fakenet.protocols.lines import TOO_LONG, LineBuffer, coalesce
from fakenet.sansio import Action, Close, Note, Send
from fakenet.world import Binding, HttpBody, World

LINE_LIMIT = 8190
MAX_HEADERS = 100
MAX_BODY = 16 * 1024 * 1024
CHUNK = 256 * 1024

REQUEST_LINE = re.compile(r"([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\S+) HTTP/(\d)\.(\d)")
TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
REASONS = {
    200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
    413: "Content Too Large", 414: "URI Too Long", 431: "Request Header Fields Too Large",
    501: "Not Implemented", 505: "HTTP Version Not Supported",
}


@lru_cache(maxsize=8)
def content(body: HttpBody) -> bytes:
    """A body's bytes, generated once per process (the big one is several MiB)."""
    return body.content()


class HttpServer:
    """One HTTP/1.1 connection, possibly carrying many requests."""

    def __init__(self, world: World, binding: Binding) -> None:
        self.world = world
        self.binding = binding
        self.lines = LineBuffer(LINE_LIMIT)
        self.request: tuple[str, str, str] | None = None  # method, target, version
        self.headers: list[tuple[str, str]] = []
        self.body_left: int | None = None  # set while reading a body
        self.body = bytearray()
        self.closed = False

    def connection_made(self) -> list[Action]:
        return []

    def data_received(self, data: bytes) -> list[Action]:
        if self.closed:
            return []
        self.lines.feed(data)
        actions: list[Action] = []
        while not self.closed:
            if self.body_left is not None:
                if self.body_left:
                    piece = self.lines.take(min(self.body_left, self.lines.pending))
                    if piece:
                        self.body += piece
                        self.body_left -= len(piece)
                if self.body_left:
                    break
                actions += self.respond()
                continue
            line = self.lines.next_line()
            if line is None:
                break
            if line is TOO_LONG:
                code = 414 if self.request is None else 431
                actions += self.fail(code, "line too long")
                break
            assert isinstance(line, bytes)
            actions += self.head_line(line)
        return coalesce(actions)

    def eof_received(self) -> list[Action]:
        if self.closed:
            return []
        if self.request is not None or self.lines.pending:
            return self.fail(400, "connection closed in the middle of a request")
        self.closed = True
        return [Close()]

    def fail(self, code: int, reason: str) -> list[Action]:
        self.closed = True
        note = Note("http-error", {"status": code, "reason": reason})
        return [note, *self.response(code, reason.encode() + b"\n", close=True), Close()]

    def head_line(self, line: bytes) -> list[Action]:
        text = line.decode("latin-1")
        if self.request is None:
            if not text:
                return []  # RFC 9112 2.2: ignore empty lines before a request line
            match = REQUEST_LINE.fullmatch(text)
            if not match:
                return self.fail(400, "malformed request line")
            method, target, major, minor = match.groups()
            if major != "1":
                return self.fail(505, f"HTTP/{major}.{minor} is not supported")
            self.request = (method, target, f"HTTP/{major}.{minor}")
            return []
        if text:
            name, colon, value = text.partition(":")
            if not colon or not TOKEN.fullmatch(name):
                return self.fail(400, "malformed header line")
            if len(self.headers) >= MAX_HEADERS:
                return self.fail(431, "too many headers")
            self.headers.append((name, value.strip(" \t")))
            return []
        return self.start_body()

    def header(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name]

    def start_body(self) -> list[Action]:
        if self.header("transfer-encoding"):
            return self.fail(501, "chunked request bodies are not supported")
        lengths = {v.strip() for v in self.header("content-length")}
        if len(lengths) > 1 or any(not v.isdigit() for v in lengths):
            return self.fail(400, "bad Content-Length")
        size = int(lengths.pop()) if lengths else 0
        if size > MAX_BODY:
            return self.fail(413, f"bodies over {MAX_BODY} bytes are refused")
        self.body_left = size
        return []

    def respond(self) -> list[Action]:
        assert self.request is not None
        method, target, version = self.request
        body = bytes(self.body)
        headers = [[k, v] for k, v in self.headers]
        agents = self.header("user-agent")
        note = Note("http-request", {
            "method": method, "target": target, "path": target.split("?", 1)[0],
            "version": version, "headers": headers,
            "user_agent": agents[0] if agents else None,
            "host": hosts[0] if (hosts := self.header("host")) else None,
        }, body if body or self.header("content-length") else None)
        connection = {t.strip().lower() for v in self.header("connection") for t in v.split(",")}
        close = "close" in connection or (version == "HTTP/1.0" and "keep-alive" not in connection)
        self.request, self.headers, self.body_left, self.body = None, [], None, bytearray()
        status, payload, content_type = self.answer(method, target.split("?", 1)[0], body)
        actions: list[Action] = [note, *self.response(
            status, payload, close=close, head=method == "HEAD", content_type=content_type,
            keep_alive=version == "HTTP/1.0" and not close)]
        if close:
            self.closed = True
            actions.append(Close())
        return actions

    def answer(self, method: str, path: str, body: bytes) -> tuple[int, bytes, str]:
        if method in ("POST", "PUT"):
            return 200, f"{len(body)} {hashlib.sha256(body).hexdigest()}\n".encode(), "text/plain"
        if method not in ("GET", "HEAD"):
            return 405, b"only GET, HEAD, POST and PUT\n", "text/plain"
        for served in self.world.http_bodies:
            if served.path == path:
                kind = "text/plain" if served.text is not None else "application/octet-stream"
                return 200, content(served), kind
        return 404, f"no body at {path[:200]}\n".encode(), "text/plain"

    @staticmethod
    def response(status: int, payload: bytes, *, close: bool, head: bool = False,
                 content_type: str = "text/plain", keep_alive: bool = False) -> list[Action]:
        lines = [
            f"HTTP/1.1 {status} {REASONS.get(status, 'Unknown')}",
            "Server: fakenet", f"Content-Type: {content_type}",
            f"Content-Length: {len(payload)}",
        ]
        if close:
            lines.append("Connection: close")
        elif keep_alive:
            lines.append("Connection: keep-alive")
        if status == 405:
            lines.append("Allow: GET, HEAD, POST, PUT")
        head_bytes = ("\r\n".join(lines) + "\r\n\r\n").encode()
        if head or not payload:
            return [Send(head_bytes)]
        if len(payload) <= CHUNK:
            return [Send(head_bytes + payload)]
        sends: list[Action] = [Send(head_bytes)]
        sends += [Send(payload[i : i + CHUNK]) for i in range(0, len(payload), CHUNK)]
        return sends
