"""The world process: configure the namespace, serve every binding, obey the control pipe.

Run by fakenet.handle as `unshare ... python -m fakenet.runtime --world F
--workdir D`, so it starts as root of fresh user+net+mount namespaces. It
configures them (fakenet/namespace.py), refuses to serve unless lo is the
only interface, starts every binding's service (specific addresses first,
then the wildcard canaries), says `ready` on the control pipe and answers
requests (fakenet/control.py) until `stop` or end of input.

Settling: before answering `events`, the loop keeps running until no served
socket has anything pending (a zero-timeout poll over every listening,
connected and datagram socket) and the journal stopped growing, so that a
connection that landed before the question is in the answer.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import select
import shutil
import signal
import sys
import time
from pathlib import Path

from fakenet import control, namespace
from fakenet.canary import start_canaries
from fakenet.drops import DROPS, DropCounter
from fakenet.journal import Journal
from fakenet.service import Closable, ServiceContext, ServiceStarter
from fakenet.tcpserver import live_fds
from fakenet.tls import WorldTLS
from fakenet.world import World, WorldDataError, load_world

ORPHANED = 4         # exit status when the control pipe closed without a stop
SETTLE_LIMIT = 0.25  # seconds; only sockets whose reader is paused can use it all


class WorldStartError(RuntimeError):
    """The world data or a service cannot be served (not a namespace problem)."""


def missing_starters(world: World, starters: dict[str, ServiceStarter]) -> list[str]:
    used = {kind for host in world.hosts for kind in host.services}
    return sorted(used - set(starters))


class WorldRuntime:
    def __init__(self, world: World, workdir: Path) -> None:
        self.world = world
        self.journal = Journal()
        self.tls = WorldTLS(workdir)
        self.ctx = ServiceContext(world, self.journal, self.tls)
        self.running: list[Closable] = []
        self.drops = DropCounter()

    def note_drops(self) -> None:
        """Journal what the kernel dropped since the last look (fakenet/drops.py)."""
        grown = self.drops.growth()
        if grown:
            self.journal.record(endpoint="kernel", role="world", proto="", kind=DROPS,
                                dst=("", 0), peer=("", 0), detail=grown)

    async def start(self, starters: dict[str, ServiceStarter]) -> None:
        for binding in self.world.bindings():
            try:
                self.running.append(await starters[binding.kind.name](self.ctx, binding))
            except Exception as exc:
                raise WorldStartError(
                    f"cannot start {binding.kind.name} for host {binding.host.id} on "
                    f"{binding.address} {binding.listen}: {exc}"
                ) from exc
        try:
            self.running.extend(await start_canaries(self.world, self.journal))
        except OSError as exc:
            raise WorldStartError(f"cannot start the canaries: {exc}") from exc

    def mark(self) -> int:
        for item in self.running:
            reset = getattr(item, "reset", None)
            if callable(reset):
                reset()
        self.note_drops()   # what came before the mark belongs to no case after it
        return self.journal.mark()

    async def settle(self) -> None:
        deadline = time.monotonic() + SETTLE_LIMIT
        last, quiet = self.journal.mark(), 0
        poller_events = select.POLLIN | select.POLLPRI
        while time.monotonic() < deadline:
            for _ in range(3):
                await asyncio.sleep(0)
            poller = select.poll()
            for fd in live_fds():
                poller.register(fd, poller_events)
            pending = [fd for fd, ev in poller.poll(0) if not ev & select.POLLNVAL]
            now = self.journal.mark()
            if not pending and now == last:
                quiet += 1
                if quiet >= 2:
                    return
            else:
                quiet = 0
                if pending:
                    await asyncio.sleep(0.001)
            last = now

    async def close(self) -> None:
        for item in reversed(self.running):
            try:
                await item.close()
            except Exception as exc:
                print(f"fakenet: closing {item!r}: {exc!r}", file=sys.stderr)
        self.running.clear()

    async def handle(self, request: control.Request) -> control.Reply:
        match request:
            case control.Mark():
                await self.settle()   # what came before the mark lands before it
                return control.Marked(self.mark())
            case control.Events(since=since):
                await self.settle()
                self.note_drops()
                return control.EventList(tuple(self.journal.since(since)))
            case control.Stop():
                await self.close()
                return control.Stopped()
        return control.Failure(f"unhandled request {request!r}")


def _write(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


async def _serve(world: World, workdir: Path, control_fd: int,
                 starters: dict[str, ServiceStarter]) -> int:
    runtime = WorldRuntime(world, workdir)
    try:
        await runtime.start(starters)
    except WorldStartError as exc:
        await runtime.close()
        _write(control_fd, control.encode_reply(control.Failure(str(exc), "world")))
        return 2
    loop = asyncio.get_running_loop()
    stop_signal = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop_signal.set)
    reader = asyncio.StreamReader(limit=1 << 20)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    _write(control_fd, control.encode_reply(
        control.Ready(control.VERSION, str(runtime.tls.bundle), os.getpid())))
    stopper = asyncio.ensure_future(stop_signal.wait())
    try:
        while True:
            line_task = asyncio.ensure_future(reader.readline())
            await asyncio.wait({line_task, stopper}, return_when=asyncio.FIRST_COMPLETED)
            if not line_task.done():
                line_task.cancel()
                return 0
            line = line_task.result()
            if not line:
                return ORPHANED  # the harness went away: the world goes with it
            try:
                request = control.decode_request(line)
            except control.ControlError as exc:
                _write(control_fd, control.encode_reply(control.Failure(str(exc))))
                continue
            reply = await runtime.handle(request)
            _write(control_fd, control.encode_reply(reply))
            if isinstance(request, control.Stop):
                return 0
    finally:
        stopper.cancel()
        await runtime.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fakenet.runtime",
                                     description="the world process (started by WorldHandle)")
    parser.add_argument("--world", type=Path, default=None)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--remove-workdir", action="store_true",
                        help="remove the workdir if the control pipe closes without a stop")
    args = parser.parse_args(argv)
    # The control channel keeps the real stdout; anything else printed goes to stderr.
    control_fd = os.dup(1)
    os.dup2(2, 1)

    def fail(message: str, fault: str, code: int) -> int:
        _write(control_fd, control.encode_reply(control.Failure(message, fault)))
        return code

    try:
        world = load_world(args.world)
    except WorldDataError as exc:
        return fail(str(exc), "world", 2)
    from fakenet.services import STARTERS

    missing = missing_starters(world, STARTERS)
    if missing:
        return fail(f"{world.source}: no service starter for kinds {missing} "
                    f"(known: {sorted(STARTERS)})", "world", 2)
    try:
        namespace.configure(world, args.workdir)  # refuses unless lo is the only interface
    except namespace.NamespaceUnavailable as exc:
        return fail(str(exc), "namespace", 3)
    code = asyncio.run(_serve(world, args.workdir, control_fd, STARTERS))
    if code == ORPHANED and args.remove_workdir:
        # Nobody is left to remove it (e.g. the run was SIGKILLed), and it holds
        # the test CA's private key.
        shutil.rmtree(args.workdir, ignore_errors=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
