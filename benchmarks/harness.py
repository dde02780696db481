"""Harness overhead, printed as figures (not a test).

    /work/venv/bin/python benchmarks/harness.py [--rounds N] [--scaling]

Targets (issue 4): a trivial case (one connect + echo through the agent,
plus the plugin's per-case bookkeeping) <= 5 ms median; an instance starts
in <= 150 ms; a catalogue run scales with -n 2 (--scaling prints the ratio).
Runs inside a fake internet (a core world: dns/echo/sink/canaries).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from conformance.adapters.native import NativeAdapter, NativePy27Adapter
from conformance.fixtures import CaseState, RunState, default_world
from tests.fakenet.worlds import write_core_world

ECHO = ("1.1.1.1", 7)


def ms(values: list[float]) -> str:
    values = sorted(values)
    p90 = values[int(len(values) * 0.9) - 1] if len(values) >= 10 else values[-1]
    return (f"median {statistics.median(values) * 1000:7.2f} ms   p90 {p90 * 1000:7.2f} ms   "
            f"n={len(values)}")


def bench_instances(run: RunState, adapter_name: str, rounds: int) -> None:
    starts = []
    for _ in range(rounds):
        began = time.perf_counter()
        inst = run.start_instance("app-a")
        starts.append(time.perf_counter() - began)
        inst.close()
    print(f"instance start      [{adapter_name:<11}] {ms(starts)}   (target <= 150 ms)")


def bench_trivial_case(run: RunState, adapter_name: str, rounds: int) -> None:
    inst = run.checkout("app-a")
    socket = inst.module("socket")
    raw, case = [], []
    for _ in range(rounds):
        began = time.perf_counter()
        s = socket.call("create_connection", ECHO, 5)
        s.call("sendall", b"ping")
        assert s.call("recv", 4) == b"ping"
        s.call("close")
        raw.append(time.perf_counter() - began)
    for _ in range(rounds):
        began = time.perf_counter()
        state = CaseState(mark=run.begin_case())   # as the plugin: settle, then mark
        assert state.mark is not None
        socket = inst.module("socket")
        s = socket.call("create_connection", ECHO, 5)
        s.call("sendall", b"ping")
        assert s.call("recv", 4) == b"ping"
        s.call("close")
        run.case_events(state)                     # as the plugin: evidence after the case
        inst.reset()                               # pooled instance, reset for the next case
        case.append(time.perf_counter() - began)
    run.checkin(inst)
    print(f"connect+echo        [{adapter_name:<11}] {ms(raw)}   (agent round trips only)")
    print(f"trivial case        [{adapter_name:<11}] {ms(case)}   (target <= 5 ms; + mark, "
          f"journal, reset)")


def bench_scaling(world_file: Path) -> None:
    def timed(extra: list[str]) -> float:
        began = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "conformance", "run", "--candidate", "native",
                        "--world", str(world_file), "--clause", "DST", "--clause", "EXC", "-q",
                        *extra], capture_output=True, check=False,
                       cwd=Path(__file__).resolve().parent.parent)
        took = time.perf_counter() - began
        if "passed" not in proc.stdout.decode() and "failed" not in proc.stdout.decode():
            raise SystemExit(f"catalogue run failed:\n{proc.stdout.decode()[-2000:]}"
                             f"{proc.stderr.decode()[-2000:]}")
        return took
    serial = timed([])
    parallel = timed(["-n", "2"])
    print(f"catalogue DST+EXC   serial {serial:6.2f} s   -n 2 {parallel:6.2f} s   "
          f"speed-up x{serial / parallel:4.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--scaling", action="store_true", help="also time a catalogue subset "
                        "serially and with -n 2")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        world_file = write_core_world(Path(tmp))
        for name, factory in (("native", NativeAdapter), ("native-py27", NativePy27Adapter)):
            run = RunState(adapter_factory=factory, profile=None,
                           world_factory=lambda: default_world(world_file))
            try:
                bench_instances(run, name, max(10, args.rounds // 3))
                bench_trivial_case(run, name, args.rounds)
            finally:
                run.close()
        if args.scaling:
            bench_scaling(world_file)


if __name__ == "__main__":
    main()
