from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.adapters.native import NativeAdapter
from conformance.fixtures import base_environment
from conformance.instance import Instance

from .helpers import EchoServer, LocalWorld


@pytest.fixture
def local_world() -> LocalWorld:
    return LocalWorld()


@pytest.fixture
def start(tmp_path: Path, local_world: LocalWorld) -> Iterator:
    """start(adapter=None, app_id="app-a", **kw) -> an Instance on the LocalWorld."""
    started: list[Instance] = []

    def _start(adapter=None, app_id: str = "app-a", **kw) -> Instance:
        adapter = adapter or NativeAdapter()
        inst = Instance.start(adapter.instance(app_id), app_id, local_world,
                              base_env=base_environment(), workdir=tmp_path, **kw)
        started.append(inst)
        return inst

    yield _start
    for inst in started:
        inst.kill()


@pytest.fixture(scope="module")
def echo_server() -> Iterator[EchoServer]:
    server = EchoServer()
    yield server
    server.close()
