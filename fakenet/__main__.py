"""Command line: `python -m fakenet up | shell [-c CMD] | check | clean`.

`up` runs the world in the foreground and prints its host table; `shell`
runs a shell (or one command) inside a fresh world, for debugging a sandbox
by hand; `check` is the self-test: every binding answers, DNS resolves
through getaddrinfo inside, an outside address is unreachable and lo is the
only interface. It exits non-zero, naming each fault, if anything is wrong.
`clean` removes scratch directories left by runs that were killed
(fakenet/workdirs.py); `clean --all` also those of runs still going.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from fakenet import workdirs
from fakenet.handle import WorldError, WorldHandle
from fakenet.namespace import NamespaceUnavailable
from fakenet.world import World

CHECK_CLIENT = Path(__file__).with_name("selfcheck.py")


def host_table(world: World) -> str:
    """One line per host: id, role, addresses, services, names (the long column last)."""
    rows = [("id", "role", "addresses", "services", "names")]
    for host in world.hosts:
        rows.append((host.id, host.role, " ".join(host.addresses) or "-",
                     " ".join(host.services) or "-", " ".join(host.names) or "-"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join(
        "  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[-1]])
        for row in rows
    )


def _interrupt(signum: int, frame: object) -> None:
    # Raising, not setting a threading.Event: Event.set inside a signal
    # handler can deadlock on the lock the interrupted wait() holds. Once:
    # a second signal must not interrupt the world's orderly stop.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt


def _up(world: WorldHandle) -> int:
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        print(host_table(world.data))
        print(f"\nworld pid {world.pid}; CA bundle {world.ca_bundle}")
        print(f"enter it: {' '.join(world.enter(['/bin/sh']))}")
        print(f"    with SSL_CERT_FILE={world.ca_bundle}\nCtrl-C stops the world.", flush=True)
        while True:
            time.sleep(0.5)
            if not world.running:
                print("the world process exited", file=sys.stderr)
                return 1
    except KeyboardInterrupt:
        pass
    return 0


def _shell(world: WorldHandle, command: str | None) -> int:
    shell = os.environ.get("SHELL", "/bin/sh")
    argv = [shell] if command is None else [shell, "-c", command]
    env = {**os.environ, **world.env(), "FAKENET_WORLD_PID": str(world.pid)}
    return subprocess.run(world.enter(argv), env=env, check=False).returncode


def _check(world: WorldHandle) -> int:
    spec = {
        "bindings": [[b.kind.name, b.kind.tls, b.address, b.listen.proto, b.listen.port,
                      list(b.host.names)] for b in world.data.bindings()],
        "names": [[h.names[0], list(h.ipv4), list(h.ipv6)] for h in world.data.hosts if h.names],
    }
    done = subprocess.run(world.enter([sys.executable, str(CHECK_CLIENT)]),
                          input=json.dumps(spec), text=True, capture_output=True,
                          env={**os.environ, **world.env()}, check=False, timeout=120)
    sys.stdout.write(done.stdout)
    sys.stderr.write(done.stderr)
    if not world.running:
        print("FAULT: the world process died during the check", file=sys.stderr)
        return 1
    world.mark()  # it must still answer its control pipe (WorldError, exit 2, if not)
    return done.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fakenet", description=__doc__.split("\n")[0])
    parser.add_argument("--world", type=Path, default=None, help="world file (default world.toml)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="run the world in the foreground and print its hosts")
    shell = sub.add_parser("shell", help="a shell or command inside a fresh world")
    shell.add_argument("-c", dest="cmd", default=None, help="run this command instead of a shell")
    sub.add_parser("check", help="self-test; exits non-zero on any fault")
    clean = sub.add_parser("clean", help="remove scratch directories of killed runs")
    clean.add_argument("--all", action="store_true", help="also those of live runs")
    args = parser.parse_args(argv)
    if args.command == "clean":
        for path in workdirs.sweep(everything=args.all):
            print(f"removed {path}")
        return 0
    try:
        with WorldHandle.start(args.world) as world:
            if args.command == "up":
                return _up(world)
            if args.command == "shell":
                return _shell(world, args.cmd)
            return _check(world)
    except (NamespaceUnavailable, WorldError) as exc:
        print(f"fakenet: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
