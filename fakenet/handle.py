"""WorldHandle: the harness's side of a running world (docs/architecture.md).

The harness never joins the namespace: it starts the world process through
`unshare`, talks to it over a JSON-lines pipe (fakenet/control.py) and hands
out `nsenter` prefixes for processes that must run inside. `stop()` ends the
world, kills whatever was still running inside its network namespace (e.g.
candidates started through `enter`), and removes a workdir it created, so
nothing is left behind.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import TracebackType

from fakenet import control, namespace, workdirs
from fakenet.journal import JournalEvent
from fakenet.namespace import NamespaceUnavailable
from fakenet.world import World, load_world

START_TIMEOUT = 20.0
REQUEST_TIMEOUT = 30.0
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class WorldError(RuntimeError):
    """The world failed to start (bad data, missing service starter) or stopped answering."""


def _hold_namespace(pid: int) -> int | None:
    """A descriptor of `pid`'s network namespace; while it is open the namespace's inode
    cannot pass to another (e.g. a parallel world's), so stop() kills only our own."""
    try:
        return os.open(f"/proc/{pid}/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None


def processes_in_namespace(inode: int) -> list[int]:
    """Pids whose network namespace is `inode` (what stop() must not leave behind)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}/ns/net").st_ino == inode:
                    found.append(int(entry))
            except OSError:
                continue
    return found


class WorldHandle:
    """A running world. Use `WorldHandle.start()` (a context manager) to get one."""

    def __init__(self, proc: subprocess.Popen[bytes], data: World, workdir: Path,
                 owns_workdir: bool, ready: control.Ready) -> None:
        self._proc = proc
        self.data = data
        self.workdir = workdir
        self._owns_workdir = owns_workdir
        self.ca_bundle = Path(ready.ca)
        self.pid = proc.pid
        self.log_path = workdir / "world.log"
        self._lock = threading.Lock()
        self._buffer = b""
        self._net_fd = _hold_namespace(self.pid)
        self._stopped = False

    # ---- life cycle -------------------------------------------------------------
    @classmethod
    def start(cls, world_file: Path | str | None = None,
              workdir: Path | str | None = None) -> WorldHandle:
        """Start a world; raises NamespaceUnavailable or WorldError with the reason."""
        data = load_world(world_file)
        owns = workdir is None
        where = workdirs.make("fakenet") if workdir is None else Path(workdir)
        where.mkdir(parents=True, exist_ok=True)
        try:
            argv = namespace.world_command([
                sys.executable, "-m", "fakenet.runtime",
                "--world", str(data.source.resolve()), "--workdir", str(where.resolve()),
                *(["--remove-workdir"] if owns else []),
            ])
            env = dict(os.environ)
            env["PYTHONPATH"] = os.pathsep.join(
                p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH", "")) if p)
            env.setdefault("PYTHONDONTWRITEBYTECODE", "1")
            with open(where / "world.log", "wb") as log:
                try:
                    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                            stderr=log, env=env, cwd="/", start_new_session=True)
                except OSError as exc:
                    raise NamespaceUnavailable(
                        f"cannot run {argv[0]}: {exc}. Install util-linux (unshare, nsenter) "
                        "and iproute2 (ip)."
                    ) from exc
            handle = None
            try:
                first = cls._read_first(proc, where / "world.log")
                handle = cls(proc, data, where, owns, first)
            finally:
                if handle is None:
                    cls._kill(proc)
            return handle
        except BaseException:
            if owns:
                shutil.rmtree(where, ignore_errors=True)
            raise

    @staticmethod
    def _kill(proc: subprocess.Popen[bytes]) -> None:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
        with contextlib.suppress(Exception):
            proc.wait(5)
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()

    @staticmethod
    def _read_first(proc: subprocess.Popen[bytes], log: Path) -> control.Ready:
        assert proc.stdout is not None
        line = _readline(proc.stdout.fileno(), START_TIMEOUT, bytearray())
        if line is None:
            # End of output or timeout; an exited unshare may not be reaped yet.
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(2)
            stderr = log.read_text(errors="replace") if log.exists() else ""
            if proc.poll() is None:
                raise WorldError(f"the world did not become ready within {START_TIMEOUT} s; "
                                 f"log: {stderr[-2000:]}")
            raise namespace.unavailable(stderr[-2000:], proc.returncode)
        reply = control.decode_reply(line)
        if isinstance(reply, control.Failure):
            if reply.fault == "namespace":
                raise NamespaceUnavailable(reply.error)
            raise WorldError(reply.error)
        if not isinstance(reply, control.Ready):
            raise WorldError(f"unexpected first line from the world: {line!r}")
        if reply.version != control.VERSION:
            raise WorldError(f"world speaks control version {reply.version}, "
                             f"expected {control.VERSION}")
        return reply

    def __enter__(self) -> WorldHandle:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop the world; leaves no process, namespace or mount behind."""
        if self._stopped:
            return
        self._stopped = True
        with contextlib.suppress(Exception):
            self._request(control.Stop(), timeout=5.0)
        with contextlib.suppress(Exception):
            self._proc.stdin.close()  # type: ignore[union-attr]
        try:
            self._proc.wait(5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(5)
        if self._net_fd is not None:
            # Anything still inside (candidates started through enter()) would
            # keep the namespace alive; closing our descriptor then frees it.
            for pid in processes_in_namespace(os.fstat(self._net_fd).st_ino):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            os.close(self._net_fd)
            self._net_fd = None
        with contextlib.suppress(OSError):
            self._proc.stdout.close()  # type: ignore[union-attr]
        if self._owns_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    # ---- use ------------------------------------------------------------------------
    def enter(self, argv: list[str], cwd: str | None = None) -> list[str]:
        """`argv` prefixed so that it runs inside the world (working directory kept).

        Refused once the world has stopped or exited: its pid, once reaped, may
        name another process, whose namespaces (the host's) nsenter would join.
        """
        if self._stopped:
            raise WorldError("the world was stopped; nothing can enter it")
        if self._proc.poll() is not None:
            raise WorldError(f"the world process exited ({self._proc.returncode}); "
                             f"nothing can enter it; see {self.log_path}")
        return namespace.enter_command(self.pid, list(argv), cwd)

    def env(self) -> dict[str, str]:
        """Environment entries candidates need to trust the world's TLS servers."""
        return {"SSL_CERT_FILE": str(self.ca_bundle)}

    def mark(self) -> int:
        """Settle, reset per-case state (DNS rebinding counters), and return the journal
        position to ask from: traffic that came before lands before the mark."""
        reply = self._request(control.Mark())
        assert isinstance(reply, control.Marked)
        return reply.mark

    def events(self, since: int = 0) -> list[JournalEvent]:
        """Every journal event after `since`, once the world has settled."""
        reply = self._request(control.Events(since))
        assert isinstance(reply, control.EventList)
        return list(reply.events)

    @property
    def running(self) -> bool:
        return not self._stopped and self._proc.poll() is None

    def _request(self, request: control.Request, timeout: float = REQUEST_TIMEOUT
                 ) -> control.Reply:
        with self._lock:
            if self._proc.poll() is not None:
                raise WorldError(f"the world process exited ({self._proc.returncode}); "
                                 f"see {self.log_path}")
            assert self._proc.stdin is not None and self._proc.stdout is not None
            try:
                self._proc.stdin.write(control.encode_request(request))
                self._proc.stdin.flush()
            except BrokenPipeError as exc:
                raise WorldError("the world process closed its control pipe") from exc
            buffer = bytearray(self._buffer)
            line = _readline(self._proc.stdout.fileno(), timeout, buffer)
            self._buffer = bytes(buffer)
        if line is None:
            raise WorldError(f"no answer from the world to {request!r} within {timeout} s")
        reply = control.decode_reply(line)
        if isinstance(reply, control.Failure):
            raise WorldError(reply.error)
        return reply


def _readline(fd: int, timeout: float, buffer: bytearray) -> bytes | None:
    """One line from `fd` within `timeout` (None on EOF or timeout); rest stays in `buffer`."""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while b"\n" not in buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not selector.select(remaining):
                return None
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return None
            buffer.extend(chunk)
    line, _, rest = bytes(buffer).partition(b"\n")
    buffer[:] = rest
    return line
