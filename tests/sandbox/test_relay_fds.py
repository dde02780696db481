"""A relay never splices through a descriptor number its socket no longer owns.

The kernel hands a freed number to the next socket opened in the process. A relay
that cached the number of a channel the sweeper had just closed spliced the next
connection's bytes: under CPU load the app's fresh control connection lost its
reply and `recv()` after an idle reclamation hung forever.
"""

from __future__ import annotations

import os
import socket
import threading
from typing import Any

import pytest

from sandbox.service import core
from sandbox.service.table import Clock, DescriptorTable


@pytest.mark.skipif(not hasattr(os, "splice"), reason="the splice relay needs os.splice")
def test_relay_leaves_a_reused_number_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    table = DescriptorTable(Clock())
    app_end, chan = socket.socketpair()
    real, peer = socket.socketpair()
    victim, victim_peer = socket.socketpair()   # the next connection opened
    sink, sink_peer = socket.socketpair()
    entry = table.add("app-a", "tcp", socket.AF_UNIX, real)
    entry.add_channel(chan)

    paused, go = threading.Event(), threading.Event()
    calls = 0
    splice = os.splice

    def stalled_splice(*args: Any) -> int:
        # The third call reads the channel again: a loaded machine stops the relay here.
        nonlocal calls
        calls += 1
        if calls == 3:
            paused.set()
            go.wait(10)
        return splice(*args)

    monkeypatch.setattr(os, "splice", stalled_splice)
    result: list[object] = []

    def relay() -> None:
        try:
            result.append(core._splice_relay(chan, real, entry, table))
        except OSError as exc:
            result.append(exc)

    thread = threading.Thread(target=relay, daemon=True)
    thread.start()
    owned: list[int] = []
    try:
        app_end.sendall(b"x")
        peer.settimeout(5)
        assert peer.recv(1) == b"x"
        assert paused.wait(5)
        # Another thread closes both sockets and the numbers are taken again at once
        # (dup2 makes the reuse certain instead of likely).
        for sock in (chan, real):
            sock.shutdown(socket.SHUT_RDWR)
        for sock, taker in ((chan, victim), (real, sink)):
            number = sock.detach()
            os.dup2(taker.fileno(), number)
            owned.append(number)
        victim_peer.sendall(b"reply")
        go.set()
        thread.join(5)
        assert result == [True], "the relay kept running on numbers it no longer owns"
        victim.settimeout(3)
        assert victim.recv(16) == b"reply"
        sink_peer.setblocking(False)
        with pytest.raises(BlockingIOError):
            sink_peer.recv(16)  # nothing went out through the reused number either
    finally:
        go.set()
        for number in owned:
            os.close(number)
        for sock in (app_end, chan, real, peer, victim, victim_peer, sink, sink_peer):
            sock.close()
        thread.join(5)
