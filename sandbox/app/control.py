"""The instance's control connection to the service: one per process, lazily opened."""

from __future__ import annotations

import errno
import os
import socket as _stdlib
import threading
from typing import Any

from ..wire import WireError, encode, read_frame

SERVICE_ENV = "SANDBOX_SERVICE"
APP_ENV = "CONFORMANCE_APP_ID"


def service_path() -> str:
    path = os.environ.get(SERVICE_ENV)
    if not path:
        raise OSError(errno.ENETDOWN, f"no socket service ({SERVICE_ENV} is not set)")
    return path


def app_id() -> str:
    return os.environ.get(APP_ENV) or os.environ.get("APPLICATION_ID") or "default-app"


def raise_reply(reply: dict[str, Any]) -> None:
    """Raise the standard module's error that a failed reply stands for."""
    message = str(reply.get("message") or "")
    if reply.get("gai") is not None:
        raise _stdlib.gaierror(int(reply["gai"]), message or "Name or service not known")
    if reply.get("timeout"):
        raise TimeoutError("timed out")
    code = int(reply.get("errno") or errno.EIO)
    raise OSError(code, message or os.strerror(code))


class Control:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sock: _stdlib.socket | None = None
        self._pid = 0

    def _open(self) -> _stdlib.socket:
        s = _stdlib.socket(_stdlib.AF_UNIX, _stdlib.SOCK_STREAM)
        try:
            s.connect(service_path())
            s.sendall(encode({"op": "control", "app": app_id()}))
            reply, _ = read_frame(s)
        except (OSError, WireError) as exc:
            s.close()
            raise OSError(errno.ENETDOWN, f"socket service unavailable: {exc}") from None
        if not reply.get("ok"):
            s.close()
            raise_reply(reply)
        return s

    def call(self, header: dict[str, Any], payload: bytes = b"") -> tuple[dict[str, Any], bytes]:
        """One RPC; raises the standard error when the service says no."""
        with self._lock:
            if self._sock is None or self._pid != os.getpid():
                self._sock = self._open()
                self._pid = os.getpid()
            try:
                self._sock.sendall(encode(header, payload))
                reply, data = read_frame(self._sock)
            except (OSError, WireError) as exc:
                self._sock.close()
                self._sock = None
                raise OSError(errno.EPIPE, f"socket service connection lost: {exc}") from None
        if not reply.get("ok"):
            raise_reply(reply)
        return reply, data


CONTROL = Control()
