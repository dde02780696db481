"""One candidate instance: a child process running the agent, and the pipe to it.

The process is started inside the world's namespaces (`world.enter(argv)`),
in its own process group so that a timeout kills everything it started.
Every call has a deadline. Anything that is not a well-formed reply in time
(a crash, a hang, garbage on the protocol channel) becomes `CandidateError`
with the tail of the instance's stderr as evidence, the process is killed,
and the instance is dead from then on; the run itself goes on.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import os
import selectors
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from conformance.adapter import InstanceSpec, WorldAccess
from conformance.protocol import (
    Hello,
    LineBuffer,
    ProtocolError,
    Ref,
    decode_value,
    encode_request,
    encode_value,
    parse_hello,
    parse_reply,
)
from conformance.remote import Attempt, Received, Remote, RemoteError, Sent, attempt, ref_of

AGENT_PATH = Path(__file__).with_name("agent.py")
DEFAULT_CALL_TIMEOUT = 30.0     # seconds; cases that wait longer say so (`instance.timeout`)
DEFAULT_START_TIMEOUT = 15.0
STDERR_TAIL = 4000              # characters of stderr kept as evidence
TRANSCRIPT_LIMIT = 50           # the case's last ops, remembered as evidence

_counter = itertools.count(1)


_activity = 0


def note_activity() -> None:
    """Something may have sent traffic (a request to an instance, a clock advance):
    a journal read taken before it is stale."""
    global _activity
    _activity += 1


def activity() -> int:
    """How many times `note_activity` was called in this process: a journal read is
    still current while this number has not moved."""
    return _activity


class CandidateError(Exception):
    """The candidate crashed, hung or spoke garbage: no verdict is possible (ERROR)."""

    def __init__(self, message: str, stderr_tail: str = "", returncode: int | None = None) -> None:
        detail = message
        if returncode is not None:
            detail += f" (exit status {returncode})"
        if stderr_tail:
            detail += f"\n--- instance stderr (tail) ---\n{stderr_tail}"
        super().__init__(detail)
        self.reason = message
        self.stderr_tail = stderr_tail
        self.returncode = returncode


class Instance:
    """A running instance of one app in the candidate's runtime."""

    def __init__(self, process: subprocess.Popen[bytes], app_id: str, stderr_path: Path,
                 call_timeout: float = DEFAULT_CALL_TIMEOUT) -> None:
        self.process = process
        self.app_id = app_id
        self.stderr_path = stderr_path
        self.call_timeout = call_timeout
        self.hello: Hello | None = None
        self.transcript: collections.deque[str] = collections.deque(maxlen=TRANSCRIPT_LIMIT)
        self._ids = itertools.count(1)
        self._lines = LineBuffer()
        self._pending: list[bytes] = []
        self._dead: str | None = None
        self._selector = selectors.DefaultSelector()
        assert process.stdout is not None and process.stdin is not None
        self._out_fd = process.stdout.fileno()
        self._in_fd = process.stdin.fileno()
        os.set_blocking(self._out_fd, False)
        self._selector.register(self._out_fd, selectors.EVENT_READ)

    # -- starting and stopping ------------------------------------------------
    @classmethod
    def start(cls, spec: InstanceSpec, app_id: str, world: WorldAccess, *,
              base_env: Mapping[str, str], workdir: Path,
              start_timeout: float = DEFAULT_START_TIMEOUT,
              call_timeout: float = DEFAULT_CALL_TIMEOUT) -> Instance:
        """Start `spec` inside the world and wait for the agent's hello."""
        note_activity()
        env = dict(base_env)
        env.update(spec.env)
        env.update({
            "SSL_CERT_FILE": str(world.ca_bundle),
            "APP_ID": app_id,
            "CONFORMANCE_APP_ID": app_id,
            "CONFORMANCE_BOOTSTRAP": spec.bootstrap or "",
            "CONFORMANCE_PYTHONPATH": os.pathsep.join(str(p) for p in spec.pythonpath),
        })
        argv = world.enter([*spec.argv, str(AGENT_PATH)])
        workdir.mkdir(parents=True, exist_ok=True)
        stderr_path = workdir / f"instance-{os.getpid()}-{next(_counter)}-{app_id}.stderr"
        with open(stderr_path, "wb") as stderr:
            try:
                process = subprocess.Popen(
                    argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
                    env=env, bufsize=0, start_new_session=True, close_fds=True)
            except OSError as exc:
                raise CandidateError(f"cannot start instance {argv!r}: {exc}") from exc
        instance = cls(process, app_id, stderr_path, call_timeout)
        try:
            instance.hello = parse_hello(instance._read_line(start_timeout, "the agent's hello"))
        except ProtocolError as exc:
            instance._die(f"instance of {app_id!r} did not start the agent protocol: {exc}")
        return instance

    def close(self) -> None:
        """Ask the agent to exit; kill it if it does not within a second."""
        if self._dead is None:
            with contextlib.suppress(OSError, CandidateError):
                self._write(encode_request(next(self._ids), "exit"))
            self._dead = "closed"
        self._reap(grace=1.0)

    def kill(self) -> None:
        if self._dead is None:
            self._dead = "killed"
        self._reap(grace=0.0)

    @property
    def alive(self) -> bool:
        return self._dead is None and self.process.poll() is None

    def _reap(self, grace: float) -> None:
        if self.process.poll() is None and grace:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(grace)
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            self.process.wait()
        else:
            # the agent is gone; take down anything it left in its group
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(self._out_fd)
        self._selector.close()

    def stderr_tail(self, limit: int = STDERR_TAIL) -> str:
        try:
            with open(self.stderr_path, "rb") as f:
                f.seek(0, os.SEEK_END)
                size = f.tell()
                f.seek(max(0, size - limit))
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    # -- the pipe -------------------------------------------------------------
    def _die(self, message: str) -> None:
        """Kill the instance and raise CandidateError with its evidence."""
        self._dead = message
        self._reap(grace=0.0 if self.process.poll() is None else 0.2)
        raise CandidateError(message, self.stderr_tail(), self.process.returncode)

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                written = os.write(self._in_fd, view)
            except BlockingIOError:
                time.sleep(0.001)
                continue
            except (BrokenPipeError, OSError) as exc:
                self.process.poll()
                self._die(f"instance of {self.app_id!r} stopped reading requests ({exc})")
            view = view[written:]

    def _read_line(self, timeout: float, waiting_for: str) -> bytes:
        deadline = time.monotonic() + timeout
        while not self._pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._die(f"instance of {self.app_id!r} gave no answer within {timeout:g}s "
                          f"(waiting for {waiting_for}); killed")
            if not self._selector.select(remaining):
                continue
            try:
                data = os.read(self._out_fd, 1 << 20)
            except BlockingIOError:
                continue
            if not data:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(0.5)
                self._die(f"instance of {self.app_id!r} exited or closed its protocol channel "
                          f"(waiting for {waiting_for})")
            try:
                self._pending.extend(self._lines.feed(data))
            except ProtocolError as exc:
                self._die(f"instance of {self.app_id!r} wrote garbage: {exc}")
        return self._pending.pop(0)

    # -- requests -------------------------------------------------------------
    def encode(self, value: Any) -> Any:
        return encode_value(value, ref_of)

    def request(self, op: str, **fields: Any) -> Any:
        """Send one request and return its decoded value; RemoteError if the
        instance raised, CandidateError if it broke."""
        if self._dead is not None:
            raise CandidateError(f"instance of {self.app_id!r} is not running ({self._dead})",
                                 self.stderr_tail())
        request_id = next(self._ids)
        note_activity()
        what = (f"{op} {fields.get('target') or fields.get('module') or ''}"
                f"{'.' + str(fields['name']) if fields.get('name') else ''}").strip()
        self._write(encode_request(request_id, op, **fields))
        line = self._read_line(self.call_timeout, what)
        try:
            reply = parse_reply(line)
        except ProtocolError as exc:
            self._die(f"instance of {self.app_id!r} wrote garbage: {exc}")
        if reply.id != request_id:
            self._die(f"instance of {self.app_id!r} answered request {reply.id}, "
                      f"expected {request_id}")
        if reply.ok:
            self.transcript.append(f"{what} -> ok")
            return decode_value(reply.value, self._make_remote)
        assert reply.error is not None
        self.transcript.append(f"{what} -> raised {reply.error.describe()}")
        if reply.error.origin == "agent":
            raise ProtocolError(f"the agent refused {what}: {reply.error.message}")
        raise RemoteError(reply.error, op)

    def _make_remote(self, ref: Ref) -> Remote:
        return Remote(self, ref)

    @contextlib.contextmanager
    def timeout(self, seconds: float) -> Iterator[None]:
        """Allow calls inside the block up to `seconds` each."""
        previous, self.call_timeout = self.call_timeout, seconds
        try:
            yield
        finally:
            self.call_timeout = previous

    # -- what cases use ---------------------------------------------------------
    def module(self, name: str) -> Remote:
        """`import name` inside the instance (the candidate's module for "socket")."""
        value = self.request("import", module=name)
        assert isinstance(value, Remote)
        return value

    def builtins(self) -> Remote:
        """The instance's builtins module (`__builtin__` on Python 2)."""
        return self.module("__builtin__" if self.python_major == 2 else "builtins")

    @property
    def python_major(self) -> int:
        return int(self.hello.python.split(".")[0]) if self.hello else 3

    def attempt(self, fn: Any, *args: Any, **kwargs: Any) -> Attempt:
        """Run `fn(*args, **kwargs)` and return an Attempt instead of raising
        RemoteError. CandidateError still propagates (-> ERROR)."""
        return attempt(fn, *args, **kwargs)

    def recv_until_eof(self, sock: Remote, limit: int = 64 << 20, head: int = 256) -> Received:
        """Read `sock` until EOF (or `limit` bytes) inside the instance; return a summary."""
        value = self.request("recv_until_eof", target=ref_of(sock).handle,  # type: ignore[union-attr]
                             limit=limit, head=head)
        return Received(nbytes=int(value["nbytes"]), sha256=str(value["sha256"]),
                        head=bytes(value["head"]), eof=bool(value["eof"]))

    def sendall_pattern(self, sock: Remote, size: int, offset: int = 0) -> Sent:
        """`sock.sendall` the world's generated-bytes pattern (fakenet.world.generated_bytes)."""
        value = self.request("sendall_pattern", target=ref_of(sock).handle,  # type: ignore[union-attr]
                             size=size, offset=offset)
        return Sent(nbytes=int(value["nbytes"]), sha256=str(value["sha256"]))

    def pickle(self, obj: Remote, protocol: int = 2) -> bytes:
        """`pickle.dumps(obj)` inside the instance (APP-1/APP-2)."""
        value = self.request("pickle", target=ref_of(obj).handle,  # type: ignore[union-attr]
                             protocol=protocol)
        return bytes(value)

    def unpickle(self, data: bytes) -> Any:
        """`pickle.loads(data)` inside the instance."""
        return self.request("unpickle", data=self.encode(data))

    def reset(self) -> None:
        """Close and forget every object the agent holds and undo setattr calls,
        so a pooled instance starts the next case clean."""
        self.request("reset")
        self.transcript.clear()

    def release(self, obj: Remote) -> None:
        self.request("release", ref=ref_of(obj).handle)  # type: ignore[union-attr]

