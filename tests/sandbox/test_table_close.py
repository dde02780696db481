"""Close means closed: a descriptor signals done only after the work is done.

An app's close() returns when the service signals the entry done; if that came
before the FIN, a peer (the world's journal) could not see the close yet, and a
case under CPU load would judge a close that had not happened.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest

from sandbox.service import table as table_module
from sandbox.service.table import Clock, DescriptorTable


@pytest.fixture
def slow_close(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each real close takes 0.2 s, as on a loaded machine."""
    real = table_module._hard_close

    def slow(sock: socket.socket) -> None:
        time.sleep(0.2)
        real(sock)

    monkeypatch.setattr(table_module, "_hard_close", slow)


@pytest.mark.parametrize("event", ["done", "wr_done"])
def test_done_comes_after_the_fin_and_the_removal(slow_close: None, event: str) -> None:
    table = DescriptorTable(Clock())
    ours, peer = socket.socketpair()
    peer.settimeout(0)
    entry = table.add("app-a", "tcp", socket.AF_UNIX, ours)
    seen: dict[str, object] = {}

    def waiter() -> None:
        getattr(entry, event).wait(5)
        try:
            seen["peer"] = peer.recv(1)
        except BlockingIOError:
            seen["peer"] = "nothing yet"
        seen["listed"] = table.lookup("app-a", entry.desc) is not None

    thread = threading.Thread(target=waiter)
    thread.start()
    table.close(entry)
    thread.join(5)
    peer.close()
    assert seen == {"peer": b"", "listed": False}


def test_how_it_ended_is_known_while_the_sockets_close(slow_close: None) -> None:
    """An app that saw EOF asks how the connection ended (status) while the service is
    still closing it: it gets the answer, not EBADF (the catalogue saw that under load)."""
    table = DescriptorTable(Clock())
    ours, peer = socket.socketpair()
    entry = table.add("app-a", "tcp", socket.AF_UNIX, ours)
    closing = threading.Thread(target=table.close, args=(entry,))
    closing.start()
    time.sleep(0.05)   # inside the slow close
    answer = table.finished_error("app-a", entry.desc)
    closing.join(5)
    peer.close()
    assert answer == 0
