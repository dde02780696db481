"""Fixtures for the fakenet core tests: one world per test session (per xdist worker).

Tests talk to the world only from inside it: `inside(code)` runs a Python
snippet through `world.enter` and returns the JSON it prints last, so the
test process itself never opens an IP socket.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from fakenet import WorldHandle
from tests.fakenet.worlds import write_core_world

Inside = Callable[..., Any]


@pytest.fixture(scope="session")
def core_world_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_core_world(tmp_path_factory.mktemp("worldfile"))


@pytest.fixture(scope="session")
def world(core_world_file: Path) -> Iterator[WorldHandle]:
    with WorldHandle.start(core_world_file) as handle:
        yield handle


def run_inside(world: WorldHandle, code: str, *, timeout: float = 30.0) -> Any:
    """Run `code` in a fresh Python inside the world; return the JSON of its last line."""
    env = {**os.environ, **world.env()}
    done = subprocess.run(world.enter([sys.executable, "-c", textwrap.dedent(code)]),
                          capture_output=True, text=True, timeout=timeout, env=env, check=False)
    if done.returncode != 0:
        raise AssertionError(f"client inside the world failed ({done.returncode}):\n"
                             f"{done.stdout}\n{done.stderr}")
    lines = done.stdout.strip().splitlines()
    if not lines:
        raise AssertionError(f"client printed nothing; stderr:\n{done.stderr}")
    return json.loads(lines[-1])


@pytest.fixture
def inside(world: WorldHandle) -> Inside:
    def run(code: str, **kwargs: Any) -> Any:
        return run_inside(world, code, **kwargs)

    return run
