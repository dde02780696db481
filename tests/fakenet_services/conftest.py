"""Helpers for driving sans-IO protocol objects with no socket."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import pytest

from fakenet.sansio import Close, Note, Send
from fakenet.world import Binding, World, load_world
from tests.fakenet.worlds import run_inside


@dataclass
class Transcript:
    """What a protocol object did: bytes sent, notes journalled, whether it closed."""

    sent: bytes = b""
    notes: list[Note] = field(default_factory=list)
    closed: bool = False
    other: list[object] = field(default_factory=list)

    def add(self, actions: Iterable[object]) -> Transcript:
        for action in actions:
            if self.closed and not isinstance(action, Note):
                raise AssertionError(f"{action!r} after Close")
            if isinstance(action, Send):
                assert isinstance(action.data, bytes)
                self.sent += action.data
            elif isinstance(action, Note):
                self.notes.append(action)
            elif isinstance(action, Close):
                self.closed = True
            else:
                self.other.append(action)
        return self

    def lines(self) -> list[bytes]:
        return self.sent.split(b"\r\n")

    def kinds(self) -> list[str]:
        return [n.kind for n in self.notes]


def drive(protocol, *chunks: bytes, eof: bool = False) -> Transcript:
    """Greeting, then each chunk, then optionally EOF."""
    out = Transcript().add(protocol.connection_made())
    for chunk in chunks:
        out.add(protocol.data_received(chunk))
    if eof:
        out.add(protocol.eof_received())
    return out


def feed(protocol, transcript: Transcript, data: bytes) -> bytes:
    """Feed more bytes; return only what this step sent."""
    before = len(transcript.sent)
    transcript.add(protocol.data_received(data))
    return transcript.sent[before:]


@pytest.fixture(scope="session")
def world_data() -> World:
    """The default world as data (named apart from the conformance plugin's `world` handle)."""
    return load_world()


def binding_for(world: World, host_id: str, kind: str, family: str = "ipv4") -> Binding:
    host = world.host(host_id)
    address = host.address(family)
    for found in world.bindings():
        if found.host.id == host_id and found.kind.name == kind and found.address == address:
            return found
    raise LookupError(f"{host_id} does not serve {kind}")


# ---- the live world (end-to-end tests) ---------------------------------------

@pytest.fixture(scope="session")
def live_world():
    """The default world (fakenet/world.toml), one per session or xdist worker."""
    from fakenet import WorldHandle

    with WorldHandle.start() as handle:
        yield handle


@pytest.fixture
def inside(live_world):
    """Run client code inside the world; afterwards no protocol may have crashed."""
    mark = live_world.mark()

    def run(code: str, **kwargs):
        return run_inside(live_world, code, **{"timeout": 60.0, **kwargs})

    run.world = live_world  # type: ignore[attr-defined]
    run.mark = mark  # type: ignore[attr-defined]
    run.events = lambda: live_world.events(mark)  # type: ignore[attr-defined]
    yield run
    crashed = [e for e in live_world.events(mark) if e.kind == "protocol-error"]
    assert not crashed, f"a protocol raised: {[e.detail for e in crashed]}"
