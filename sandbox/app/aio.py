"""asyncio's own wake-up pipe inside a sandbox.

A selector event loop wakes itself through `socket.socketpair()`: a local
AF_UNIX pair the app never sees, no more network than `os.pipe()`. The
sandbox module refuses `socketpair` to the app (PRT-2: AF_UNIX), so without
this every event loop would fail to start, and asyncio's network paths
(create_connection, sock_connect, datagram endpoints, servers) would never
reach the sandbox's checks at all. When `asyncio.selector_events` is first
imported, its `socket` name becomes a view of the sandbox module whose only
difference is the real `socketpair`; every other name (socket, constants,
errors) is the sandbox's.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import types
from typing import Any

TARGET = "asyncio.selector_events"


class LoopSocket(types.ModuleType):
    """The sandbox module as the event loop's plumbing sees it."""

    def __init__(self, sandboxed: types.ModuleType, real: types.ModuleType) -> None:
        super().__init__(sandboxed.__name__, sandboxed.__doc__)
        self._sandboxed = sandboxed
        self.socketpair = real.socketpair

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sandboxed, name)


def _patch(module: types.ModuleType, view: LoopSocket) -> None:
    if getattr(module, "socket", None) is view._sandboxed:
        module.socket = view  # type: ignore[attr-defined]


class _Finder(importlib.abc.MetaPathFinder):
    """Finds nothing itself: it wraps the real loader of TARGET to patch after exec."""

    def __init__(self, view: LoopSocket) -> None:
        self.view = view

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != TARGET:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return spec
        loader, view = spec.loader, self.view
        original = loader.exec_module

        def exec_module(module: types.ModuleType) -> None:
            original(module)
            _patch(module, view)

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def install(sandboxed: types.ModuleType, real: types.ModuleType) -> None:
    view = LoopSocket(sandboxed, real)
    loaded = sys.modules.get(TARGET)
    if loaded is not None:
        _patch(loaded, view)
        return
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.insert(0, _Finder(view))
