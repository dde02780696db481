"""`reference`: the reference sandbox as a conformance candidate.

open_session starts one socket service inside the world (SessionContext.spawn)
and talks to it over its stdin/stdout for the adapter-only operations
(advancing the clock, reading the byte meter). Instances get the service's
unix socket path in their environment and the bootstrap that installs the
sandbox's `socket` module.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from conformance.adapter import (
    Adapter,
    CandidateInfo,
    Capability,
    InstanceSpec,
    SessionContext,
    Unsupported,
)

ROOT = Path(__file__).resolve().parent.parent
# The name this package is imported under (`sandbox` in the repository,
# `gae_sockets_sandbox` when installed): the service and the bootstrap are
# started by that name, so they are the same code as this adapter.
PACKAGE = __name__.rpartition(".")[0]
PROFILES = ("default", "sdk-pre-1.8.1")


class ServiceFailed(RuntimeError):
    """The socket service did not start or stopped answering."""


class ReferenceAdapter(Adapter):
    profiles = PROFILES

    def __init__(self) -> None:
        self._proc: subprocess.Popen[bytes] | None = None
        self._socket_path: str | None = None
        self._profile = "default"
        self._lock = threading.Lock()
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    def info(self) -> CandidateInfo:
        return CandidateInfo("reference", "0.1.0",
                             "reference sandbox: drop-in socket module over a socket service")

    def capabilities(self) -> frozenset[Capability]:
        return frozenset({Capability.CLOCK, Capability.BYTE_METER, Capability.ASYNCIO})

    def open_session(self, context: SessionContext) -> None:
        if context.profile not in PROFILES:
            raise Unsupported(f"reference sandbox has no profile {context.profile!r}")
        self._profile = context.profile
        path = Path(context.workdir) / "sandbox-service.sock"
        if len(str(path)) > 100:  # sun_path is 108 bytes
            self._tmp = tempfile.TemporaryDirectory(prefix="sbx-")
            path = Path(self._tmp.name) / "svc.sock"
        self._socket_path = str(path)
        argv = [sys.executable, "-m", f"{PACKAGE}.service", "--socket", self._socket_path,
                "--ca", str(context.world.ca_bundle)]
        self._proc = context.spawn(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   cwd=str(ROOT))
        line = self._proc.stdout.readline() if self._proc.stdout else b""
        try:
            hello = json.loads(line)
        except ValueError:
            hello = {}
        if not hello.get("ready"):
            self.close_session()
            raise ServiceFailed(f"sandbox service did not start (said {line[:200]!r})")

    def _admin(self, request: dict[str, Any]) -> dict[str, Any]:
        proc = self._proc
        if proc is None or proc.stdin is None or proc.stdout is None:
            raise ServiceFailed("no sandbox service session is open")
        with self._lock:
            try:
                proc.stdin.write(json.dumps(request).encode() + b"\n")
                proc.stdin.flush()
                line = proc.stdout.readline()
            except OSError as exc:
                raise ServiceFailed(f"sandbox service is gone: {exc}") from exc
        try:
            reply: dict[str, Any] = json.loads(line)
        except ValueError as exc:
            raise ServiceFailed(f"sandbox service said {line[:200]!r}") from exc
        if not reply.get("ok"):
            raise ServiceFailed(str(reply.get("error")))
        return reply

    def instance(self, app_id: str) -> InstanceSpec:
        if self._socket_path is None:
            raise ServiceFailed("open_session was not called")
        env = {"SANDBOX_SERVICE": self._socket_path, "SANDBOX_PROFILE": self._profile}
        return InstanceSpec(argv=[sys.executable, "-s"], env=env,
                            bootstrap=f"{PACKAGE}.bootstrap:install", pythonpath=[str(ROOT)])

    def advance_clock(self, seconds: float) -> None:
        self._admin({"op": "advance", "seconds": seconds})

    def bytes_metered(self, app_id: str) -> int:
        return int(self._admin({"op": "meter", "app": app_id})["bytes"])

    def close_session(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            try:
                if proc.stdin:
                    proc.stdin.write(b'{"op": "stop"}\n')
                    proc.stdin.flush()
                proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                proc.kill()
                proc.wait()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
