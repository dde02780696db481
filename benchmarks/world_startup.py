"""World start-up and teardown: time to a world with every endpoint listening, and leftovers.

Target (issue 2): up in < 1 s on a 2-core machine; stop leaves no process,
namespace or mount behind. Prints figures and ratios; exits non-zero only
if something was left behind or a world failed to start.

    python benchmarks/world_startup.py [--world FILE] [--runs N]

Without --world it serves fakenet/world.toml when every kind has a starter,
else the core tests' cut world (tests/fakenet/worlds.py), and says which.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fakenet import NamespaceUnavailable, WorldError, WorldHandle  # noqa: E402
from fakenet.handle import processes_in_namespace  # noqa: E402
from fakenet.runtime import missing_starters  # noqa: E402
from fakenet.services import STARTERS  # noqa: E402
from fakenet.world import load_world  # noqa: E402

TARGET = 1.0


def pick_world(given: Path | None) -> Path | None:
    if given is not None:
        return given
    missing = missing_starters(load_world(), STARTERS)
    if not missing:
        print("world: fakenet/world.toml (every kind has a starter)")
        return None
    from tests.fakenet.worlds import write_core_world

    path = write_core_world(Path(tempfile.mkdtemp(prefix="fakenet-bench-")))
    print(f"world: core cut of world.toml ({path}); no starter yet for {missing}")
    return path


def probe_listening(world: WorldHandle) -> int:
    """Count listening TCP sockets inside (ss would need iproute2's ss; /proc is enough)."""
    code = ("import sys\n"
            "n = 0\n"
            "for f in ('/proc/net/tcp', '/proc/net/tcp6'):\n"
            "    rows = open(f).read().splitlines()[1:]\n"
            "    n += sum(1 for line in rows if line.split()[3] == '0A')\n"
            "print(n)\n")
    out = subprocess.run(world.enter([sys.executable, "-c", code]), capture_output=True,
                         text=True, check=True)
    return int(out.stdout.strip())


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--world", type=Path, default=None)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    world_file = pick_world(args.world)
    ups, downs, leftovers = [], [], []
    for run in range(args.runs):
        started = time.perf_counter()
        try:
            world = WorldHandle.start(world_file)
        except (NamespaceUnavailable, WorldError) as exc:
            print(f"run {run}: world failed to start: {exc}")
            return 1
        up = time.perf_counter() - started
        pid, workdir = world.pid, world.workdir
        inode = os.stat(f"/proc/{pid}/ns/net").st_ino
        listening = probe_listening(world) if run == 0 else None
        bindings = sum(1 for _ in world.data.bindings())
        started = time.perf_counter()
        world.stop()
        down = time.perf_counter() - started
        left = processes_in_namespace(inode)
        with open("/proc/self/mountinfo") as mounts:
            mounted = str(workdir) in mounts.read()
        if left or mounted or workdir.exists() or os.path.exists(f"/proc/{pid}"):
            leftovers.append((run, left, mounted, workdir.exists()))
        ups.append(up)
        downs.append(down)
        extra = f", {listening} TCP sockets listening, {bindings} bindings" if listening else ""
        print(f"run {run}: up {up * 1000:.0f} ms, stop {down * 1000:.0f} ms{extra}")
    median = statistics.median(ups)
    print(f"up: median {median * 1000:.0f} ms, max {max(ups) * 1000:.0f} ms "
          f"(target {TARGET * 1000:.0f} ms, ratio {median / TARGET:.2f})")
    print(f"stop: median {statistics.median(downs) * 1000:.0f} ms")
    if leftovers:
        print(f"LEFT BEHIND: {leftovers}")
        return 1
    print("teardown: no process in the world's namespace, no mount, no workdir left behind")
    return 0


if __name__ == "__main__":
    sys.exit(main())
