"""Reference sandbox speed: bulk TCP throughput and connect latency through the
sandbox against native sockets in the same run, and policy decisions per second.

    python benchmarks/sandbox.py [--mib 64] [--connects 300]

Runs inside a fake-internet world (fakenet.WorldHandle): a sink on the public
test address 1.1.1.1:5001 (local to the world) receives the bytes. Targets:
throughput >= 50% of native, connect latency <= 3x native, >= 200,000 policy
decisions per second with the full range tables.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SINK = ("1.1.1.1", 5001)
CHUNK = 256 * 1024


def policy_rate(seconds: float = 1.0) -> float:
    from sandbox.addresses import Address
    from sandbox.policy import Policy
    from sandbox.ranges import load_google

    policy = Policy(load_google().range_set())
    rng = random.Random(1)
    dests = [(Address(4, rng.getrandbits(32)), rng.choice((53, 80, 443, 587, 25)), "tcp")
             for _ in range(800)]
    dests += [(Address(6, (0x2000 << 112) | rng.getrandbits(116)), 443, "udp")
              for _ in range(200)]
    decide = policy.decide
    n = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        for addr, port, proto in dests:
            decide(addr, port, proto)
        n += len(dests)
    return n / (time.perf_counter() - start)


# ---------------------------------------------------------------- inside the world
def sink_main() -> None:
    import socket
    import threading

    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(SINK)
    srv.listen(512)
    print("ready", flush=True)

    def handle(conn: socket.socket) -> None:
        buf = bytearray(1 << 20)
        total = 0
        with conn:
            while True:
                n = conn.recv_into(buf)
                if not n:
                    break
                total += n
            with contextlib.suppress(OSError):
                conn.sendall(f"{total}\n".encode())

    while True:
        conn, _ = srv.accept()
        threading.Thread(target=handle, args=(conn,), daemon=True).start()


def bulk(mod, nbytes: int) -> float:
    payload = memoryview(bytes(CHUNK))
    s = mod.create_connection(SINK, timeout=60)
    start = time.perf_counter()
    sent = 0
    while sent < nbytes:
        s.sendall(payload)
        sent += CHUNK
    s.shutdown(mod.SHUT_WR)
    reply = s.recv(100)
    elapsed = time.perf_counter() - start
    s.close()
    assert int(reply) == sent, reply
    return sent / elapsed


def connect_latency(mod, n: int) -> float:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        s = mod.create_connection(SINK, timeout=10)
        times.append(time.perf_counter() - start)
        s.close()
    return statistics.median(times)


def network_namespace() -> str:
    return os.readlink("/proc/self/ns/net")


def inner_main(mib: int, connects: int, tmp: str, outside: str | None) -> None:
    import socket as native

    # Every connect below goes to 1.1.1.1, which is local only inside the world.
    if outside is None or network_namespace() == outside:
        raise SystemExit("error: --inner runs only inside the world that this script starts "
                         "(run it without --inner)")
    sink = subprocess.Popen([sys.executable, __file__, "--sink"], stdout=subprocess.PIPE)
    assert sink.stdout is not None
    if sink.stdout.readline().strip() != b"ready":
        sink.kill()
        raise SystemExit(f"error: the sink could not listen on {SINK[0]}:{SINK[1]}")
    path = os.path.join(tmp, "svc.sock")
    service = subprocess.Popen([sys.executable, "-m", "sandbox.service", "--socket", path],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT)
    assert service.stdout is not None
    if not service.stdout.readline():
        sink.kill()
        raise SystemExit("error: the sandbox service did not start")
    os.environ["SANDBOX_SERVICE"] = path
    os.environ["CONFORMANCE_APP_ID"] = "bench"
    import sandbox.app.socket as sandboxed

    try:
        nbytes = mib << 20
        bulk(native, 8 << 20)
        bulk(sandboxed, 8 << 20)
        nat = max(bulk(native, nbytes) for _ in range(3))
        sbx = max(bulk(sandboxed, nbytes) for _ in range(3))
        connect_latency(native, 20)
        connect_latency(sandboxed, 20)
        lat_n = connect_latency(native, connects)
        lat_s = connect_latency(sandboxed, connects)
        print(json.dumps({"native_Bps": nat, "sandbox_Bps": sbx,
                          "native_connect_s": lat_n, "sandbox_connect_s": lat_s}))
    finally:
        service.terminate()
        sink.terminate()
        service.wait()
        sink.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mib", type=int, default=64)
    parser.add_argument("--connects", type=int, default=300)
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--outside-netns", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--sink", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sink:
        sink_main()
        return 0
    if args.inner:
        with tempfile.TemporaryDirectory(prefix="sbx-bench-") as tmp:
            inner_main(args.mib, args.connects, tmp, args.outside_netns)
        return 0
    from fakenet import NamespaceUnavailable, WorldHandle

    rate = policy_rate()
    try:
        with WorldHandle.start() as world:
            argv = world.enter([sys.executable, __file__, "--inner", "--mib", str(args.mib),
                                "--connects", str(args.connects),
                                "--outside-netns", network_namespace()])
            out = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, timeout=600)
    except NamespaceUnavailable as exc:
        print(f"error: no namespace for the world: {exc}", file=sys.stderr)
        return 2
    if out.returncode != 0:
        print(out.stdout + out.stderr, file=sys.stderr)
        return 1
    r = json.loads(out.stdout.strip().splitlines()[-1])
    thr = r["sandbox_Bps"] / r["native_Bps"]
    lat = r["sandbox_connect_s"] / r["native_connect_s"]
    print(f"bulk TCP {args.mib} MiB: native {r['native_Bps'] / 2**20:.0f} MiB/s, "
          f"sandbox {r['sandbox_Bps'] / 2**20:.0f} MiB/s")
    print(f"connect latency (median of {args.connects}): native "
          f"{r['native_connect_s'] * 1e6:.0f} us, sandbox {r['sandbox_connect_s'] * 1e6:.0f} us")
    print(f"policy decisions: {rate:,.0f}/s with the full range tables")
    print(f"throughput ratio sandbox/native: {thr:.2f} (target >= 0.50) "
          f"{'OK' if thr >= 0.5 else 'MISSED'}")
    print(f"connect latency ratio sandbox/native: {lat:.2f} (target <= 3.00) "
          f"{'OK' if lat <= 3 else 'MISSED'}")
    print(f"policy rate ratio to target: {rate / 200_000:.2f} (target >= 1.00) "
          f"{'OK' if rate >= 200_000 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
