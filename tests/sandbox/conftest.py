"""An in-process socket service for the app-side tests.

Outside a namespace the only address these tests may reach is loopback, so
the service gets a policy that allows 127.0.0.1 and otherwise defers to the
real one (whose verdicts the tests also check: nothing but loopback is ever
dialled here).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sandbox.addresses import Address
from sandbox.app import control
from sandbox.policy import ALLOWED, Policy, Verdict
from sandbox.ranges import load_google
from sandbox.service.__main__ import serve
from sandbox.service.core import Service
from sandbox.service.resolve import ResolveError
from sandbox.service.table import Clock
from tests.harness.helpers import EchoServer

LOOPBACK = Address.parse("127.0.0.1")


class LoopbackPolicy(Policy):
    """The real policy, plus 127.0.0.1 (the only address a test outside a namespace may use)."""

    def decide(self, address: Address, port: int, proto: str, hostname: str | None = None,
               hostname_addresses: frozenset[Address] = frozenset()) -> Verdict:
        if address == LOOPBACK and 0 < port < 65536:
            return ALLOWED
        return super().decide(address, port, proto, hostname, hostname_addresses)


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def fake_resolver(name: str, family: int) -> list[Address]:
    table = {"echo.test": ["127.0.0.1"], "private.test": ["10.0.0.1"],
             "smtp.gmail.com": ["142.250.102.108"]}
    if name not in table:
        raise ResolveError(socket.EAI_NONAME, "Name or service not known")
    return [Address.parse(a) for a in table[name]
            if family in (socket.AF_UNSPEC, socket.AF_INET)]


@dataclass
class Harness:
    service: Service
    path: str
    time: FakeTime


@pytest.fixture
def sandbox_service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    fake = FakeTime()
    service = Service(LoopbackPolicy(load_google().range_set()), Clock(fake),
                      resolver=fake_resolver)
    path = str(tmp_path / "svc.sock")
    listener = serve(service, path)
    monkeypatch.setenv(control.SERVICE_ENV, path)
    monkeypatch.setenv(control.APP_ENV, "app-a")
    monkeypatch.setattr(control, "CONTROL", control.Control())
    import sandbox.app.httpfetch as hf
    import sandbox.app.socket as sb
    import sandbox.app.tls as tls
    for mod in (sb, tls, hf):
        monkeypatch.setattr(mod, "_CONTROL" if mod is sb else "CONTROL", control.CONTROL)
    yield Harness(service, path, fake)
    listener.close()
    service.table.close_all()


@pytest.fixture
def echo_server() -> Iterator[tuple[str, int]]:
    """A loopback TCP echo server (the harness tests' own)."""
    server = EchoServer()
    yield server.sock.getsockname()
    server.close()
