"""The urlfetch emulation behind httplib/http.client (HTTP-1).

The app hands over one raw HTTP request; the service makes its own request
to the same URL, under the same destination policy as sockets, with
`AppEngine-Google; (+http://code.google.com/appengine; appid: APP_ID)`
appended to the User-Agent, and returns the raw response.
"""

from __future__ import annotations

import errno
import socket
import ssl
from typing import TYPE_CHECKING, Any

from .resolve import ResolveError, choose, sockaddr
from .table import ServiceError

if TYPE_CHECKING:
    from .core import Service

MAX_RESPONSE = 32 * 1024 * 1024
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "upgrade", "te", "trailer"}


def signature(app: str) -> str:
    return f"AppEngine-Google; (+http://code.google.com/appengine; appid: {app})"


def rewrite_request(raw: bytes, app: str) -> bytes:
    """The request urlfetch sends: the app's, with the User-Agent signed and one
    request per connection."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        raise ServiceError(errno.EINVAL, "incomplete HTTP request")
    lines = head.decode("latin-1").split("\r\n")
    request_line, fields = lines[0], lines[1:]
    out = [request_line]
    agent = None
    for line in fields:
        name, _, value = line.partition(":")
        key = name.strip().lower()
        if key == "user-agent":
            agent = value.strip()
        elif key not in HOP_BY_HOP:
            out.append(line)
    out.append(f"User-Agent: {agent + ' ' if agent else ''}{signature(app)}")
    out.append("Connection: close")
    return ("\r\n".join(out) + "\r\n\r\n").encode("latin-1") + body


def fetch(service: Service, app: str, req: dict[str, Any], raw: bytes) -> tuple[int, bytes]:
    scheme, host, port = req.get("scheme"), req.get("host"), req.get("port")
    if scheme not in ("http", "https") or not isinstance(host, str) or not isinstance(port, int):
        raise ServiceError(errno.EINVAL, "bad urlfetch request")
    timeout = req.get("timeout")
    timeout = float(timeout) if isinstance(timeout, (int, float)) else 60.0
    request = rewrite_request(raw, app)
    last: BaseException | None = None
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            addr, _ = choose(service.policy, service.resolver, family, host, port, "tcp", host)
        except (ServiceError, ResolveError) as exc:
            last = exc
            continue
        sock = socket.create_connection(sockaddr(family, addr, port)[:2], timeout=timeout)
        try:
            if scheme == "https":
                ctx = ssl.create_default_context(cafile=service.cafile)
                sock = ctx.wrap_socket(sock, server_hostname=host)
            sock.sendall(request)
            service.table.count(app, len(request))
            chunks, total = [], 0
            while True:
                data = sock.recv(65536)
                if not data:
                    break
                chunks.append(data)
                total += len(data)
                if total > MAX_RESPONSE:
                    raise ServiceError(errno.EFBIG, "urlfetch response too large")
        finally:
            sock.close()
        response = b"".join(chunks)
        status = int(response.split(b" ", 2)[1]) if response.startswith(b"HTTP/") else 0
        return status, response
    if last is not None:
        raise last
    raise ServiceError(errno.EACCES)
