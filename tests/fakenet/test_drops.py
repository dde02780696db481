"""The world knows what it lost: large UDP receive buffers, and kernel drops journalled."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from fakenet.drops import DROPS, UDP_RCVBUF, DropCounter, parse_pairs, parse_tables
from tests.fakenet.worlds import run_inside

SNMP = """Ip: Forwarding DefaultTTL
Ip: 1 64
Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors
Udp: 173 0 5 174 4 0
"""


def test_tables_and_pairs_parse() -> None:
    parsed = parse_tables(SNMP)
    assert parsed["Udp:RcvbufErrors"] == 4 and parsed["Udp:InErrors"] == 5
    assert parse_pairs("Udp6InErrors   3\nUdp6RcvbufErrors\t2\n") == {
        "Udp6InErrors": 3, "Udp6RcvbufErrors": 2}


def test_counter_reports_growth_only() -> None:
    readings = iter([{"Udp:RcvbufErrors": 4}, {"Udp:RcvbufErrors": 4},
                     {"Udp:RcvbufErrors": 10, "TcpExt:ListenDrops": 0}])
    counter = DropCounter(lambda: next(readings))
    assert counter.growth() == {}
    assert counter.growth() == {"Udp:RcvbufErrors": 6}


BURST = '''
import json, socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sent = 0
for i in range(20000):
    try:
        s.sendto(b"x" * 200, ("10.0.0.1", 7))
        sent += 1
    except OSError:
        pass
print(json.dumps({"sent": sent}))
'''


@pytest.mark.world
def test_a_burst_is_journalled_or_its_drops_are(world) -> None:
    mark = world.mark()
    sent = run_inside(world, BURST, timeout=60)["sent"]
    events = world.events(mark)
    arrived = sum(1 for e in events if e.kind == "datagram" and e.dst == ("10.0.0.1", 7))
    dropped = sum(sum(e.detail.values()) for e in events if e.kind == DROPS)
    assert arrived == sent or dropped >= sent - arrived, (sent, arrived, dropped)


@pytest.mark.world
@pytest.mark.skipif(shutil.which("ss") is None, reason="needs ss (iproute2), as the world does")
def test_world_udp_sockets_have_large_receive_buffers(world) -> None:
    out = subprocess.run(world.enter(["ss", "-ulnmH"]), capture_output=True, text=True,
                         timeout=30, check=True).stdout
    buffers = [int(n) for n in re.findall(r"\brb(\d+)", out)]
    # SO_RCVBUFFORCE needs CAP_NET_ADMIN where the kernel allows it in a user
    # namespace; otherwise SO_RCVBUF's cap, net.core.rmem_max (doubled by the kernel)
    rmem_max = int(Path("/proc/sys/net/core/rmem_max").read_text())
    assert buffers and min(buffers) >= 2 * min(UDP_RCVBUF, rmem_max), sorted(set(buffers))
