"""Fixtures for the fakenet core tests: one world per test session (per xdist worker).

Tests talk to the world only from inside it: `inside(code)` runs a Python
snippet through `world.enter` and returns the JSON it prints last, so the
test process itself never opens an IP socket.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from fakenet import WorldHandle
from tests.fakenet.worlds import run_inside, write_core_world

Inside = Callable[..., Any]


@pytest.fixture(scope="session")
def core_world_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_core_world(tmp_path_factory.mktemp("worldfile"))


@pytest.fixture(scope="session")
def world(core_world_file: Path) -> Iterator[WorldHandle]:
    with WorldHandle.start(core_world_file) as handle:
        yield handle


@pytest.fixture
def inside(world: WorldHandle) -> Inside:
    def run(code: str, **kwargs: Any) -> Any:
        return run_inside(world, code, **kwargs)

    return run
