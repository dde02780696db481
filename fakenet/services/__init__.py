"""Service starters by kind name, gathered from every module of this package.

A module here that defines a module-level `STARTERS: dict[str, ServiceStarter]`
contributes its kinds; adding a service means adding a module, not editing
this file. Two modules claiming one kind is an error.
"""

from __future__ import annotations

import importlib
import pkgutil

from fakenet.service import ServiceStarter


def _collect() -> dict[str, ServiceStarter]:
    found: dict[str, ServiceStarter] = {}
    owner: dict[str, str] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for kind, starter in getattr(module, "STARTERS", {}).items():
            if kind in found:
                raise ImportError(
                    f"service kind {kind!r} has starters in both {owner[kind]} "
                    f"and {module.__name__}"
                )
            found[kind], owner[kind] = starter, module.__name__
    return found


STARTERS: dict[str, ServiceStarter] = _collect()
