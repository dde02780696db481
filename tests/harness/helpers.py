"""Stand-ins for the harness tests: a world with no namespace (for cases that
send nothing, or only to 127.0.0.1), a loopback echo server, and candidates
that crash, hang or speak garbage."""

from __future__ import annotations

import os
import socket
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from conformance.adapter import Adapter, CandidateInfo, InstanceSpec
from conformance.adapters.native import NativeAdapter

HERE = Path(__file__).parent
PROJECT = HERE.parent.parent
CANDIDATES = HERE / "candidates"   # bootstrap modules of the fake candidates

PYTHONS = {
    "2.7": "/root/.pyenv/versions/2.7.18/bin/python",
    "3.8": "/root/.pyenv/versions/3.8.18/bin/python",
    "3.11": sys.executable,
    "3.13": "/root/.pyenv/versions/3.13.0/bin/python",
}
AVAILABLE_PYTHONS = {k: v for k, v in PYTHONS.items() if os.access(v, os.X_OK)}


class LocalWorld:
    """A world stand-in WITHOUT a namespace: instances run on the host, so a
    test using it must send nothing, or only to 127.0.0.1. Its journal is empty."""

    def __init__(self) -> None:
        self.ca_bundle = Path(os.devnull)
        self.data = None
        self.stopped = False

    def enter(self, argv: Sequence[str], cwd: str | None = None) -> list[str]:
        return list(argv)

    def env(self) -> dict[str, str]:
        return {}

    def mark(self) -> int:
        return 0

    def events(self, since: int = 0) -> list[object]:
        return []

    def stop(self) -> None:
        self.stopped = True


def start_local_world() -> LocalWorld:
    return LocalWorld()


class LocalNativeAdapter(NativeAdapter):
    """native, named so the results say it ran on a LocalWorld."""

    name = "native-local"


class _ScriptAdapter(Adapter):
    """An instance whose argv runs Python code before (or instead of) the agent."""

    code = ""
    bootstrap: str | None = None

    def info(self) -> CandidateInfo:
        return CandidateInfo(type(self).__name__, "0")

    def instance(self, app_id: str) -> InstanceSpec:
        argv = [sys.executable, "-c", self.code] if self.code else [sys.executable]
        return InstanceSpec(argv=argv, bootstrap=self.bootstrap, pythonpath=[str(CANDIDATES)])


class CrashingAdapter(_ScriptAdapter):
    """The candidate's bootstrap raises: the instance dies before its hello."""

    bootstrap = "crashing:bootstrap"


class HangingAdapter(_ScriptAdapter):
    """Never says hello."""

    code = "import time; time.sleep(120)"


class GarbageAdapter(_ScriptAdapter):
    """Writes garbage where the protocol's hello belongs."""

    code = "import sys; sys.stdout.write('Welcome to my sandbox!\\n'); sys.stdout.flush()"


class EchoServer:
    """A threaded TCP echo server on 127.0.0.1 (harness side of loopback tests)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._echo, args=(conn,), daemon=True).start()

    @staticmethod
    def _echo(conn: socket.socket) -> None:
        with conn:
            while True:
                try:
                    data = conn.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                conn.sendall(data)

    def close(self) -> None:
        self.sock.close()


def closed_port() -> int:
    """A loopback port with (almost certainly) nothing listening."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def unavailable_world() -> LocalWorld:
    """A world that cannot start, as on a machine without user namespaces."""
    from fakenet import NamespaceUnavailable
    raise NamespaceUnavailable("user namespaces are disabled here (test stand-in)")


class UnbuildableAdapter(_ScriptAdapter):
    """Its constructor raises, as an adapter missing its runtime does."""

    def __init__(self) -> None:
        raise RuntimeError("this adapter needs a runtime that is not here")


class SessionFailsAdapter(_ScriptAdapter):
    """open_session raises, as when the candidate's service will not start."""

    def open_session(self, context: object) -> None:
        raise RuntimeError("the candidate's service refused to start")
