"""Where the catalogue is, and the stable ID of each of its cases.

The harness never imports the catalogue by a package name: a catalogue
registers a package under the entry-point group `conformance.catalogues`
(this project's is `gae-sockets = "gae_sockets_catalogue"`, the `cases/`
folder). The package's folder holds the case modules; its `load_clauses()`
returns the clause table; an optional `print_entry_points()` prints its
entry-point table and an optional `never_reached()` returns what it holds
blocked at MUST (the leak check's table).

A case's ID is its file's path inside that folder plus pytest's name and
parameters (`test_dst.py::test_destination[...]`): the same whatever the
working directory, the install (editable, wheel, sdist) or the other
arguments, so that a baseline made on one machine holds on another.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

GROUP = "conformance.catalogues"
DEFAULT = "gae-sockets"


class CatalogueNotFound(LookupError):
    """No catalogue is registered, or the registered one cannot be loaded."""


@dataclass(frozen=True)
class Catalogue:
    """A registered catalogue: its case folder and its clause table."""

    name: str
    directory: Path
    load_clauses: Callable[[], Mapping[str, Any]]
    #: prints the catalogue's entry-point table (`list --entry-points`), if it has one
    print_entry_points: Callable[[], int] | None = None
    #: the catalogue's table of what is blocked at MUST (conformance.leaks), if it has one
    never_reached: Callable[[], Any] | None = None


def find(name: str = DEFAULT) -> Catalogue:
    """The catalogue registered as `name`; CatalogueNotFound says what exists."""
    found = {ep.name: ep for ep in importlib.metadata.entry_points(group=GROUP)}
    if name not in found:
        listing = ", ".join(sorted(found)) or "none"
        raise CatalogueNotFound(
            f"no catalogue {name!r} in the entry-point group {GROUP!r} (registered: "
            f"{listing}); install the suite (pip install gae-sockets-conformance, or "
            f"pip install -e . in its checkout)")
    try:
        module = found[name].load()
    except Exception as exc:
        raise CatalogueNotFound(f"catalogue {name!r} ({found[name].value}) cannot be "
                                f"imported: {exc}") from exc
    return _from_module(name, module)


_registered: dict[str, Catalogue | CatalogueNotFound] = {}


def registered(name: str = DEFAULT) -> Catalogue:
    """`find(name)`, looked up once per process (the answer or the error)."""
    if name not in _registered:
        try:
            _registered[name] = find(name)
        except CatalogueNotFound as exc:
            _registered[name] = exc
    found = _registered[name]
    if isinstance(found, CatalogueNotFound):
        raise found
    return found


def registered_directory() -> Path | None:
    """The registered catalogue's folder, None when there is none."""
    try:
        return registered().directory
    except CatalogueNotFound:
        return None


def _from_module(name: str, module: ModuleType) -> Catalogue:
    loader = getattr(module, "load_clauses", None)
    if not isinstance(module, ModuleType) or module.__file__ is None or loader is None:
        raise CatalogueNotFound(f"catalogue {name!r} must name a package with a "
                                f"load_clauses() function, got {module!r}")
    return Catalogue(name, Path(module.__file__).resolve().parent, loader,
                     getattr(module, "print_entry_points", None),
                     getattr(module, "never_reached", None))


def case_id(item: pytest.Item, directory: Path | None) -> str:
    """The case's path inside the catalogue folder plus its pytest name and
    parameters. A test outside the catalogue (the harness's own tests) keeps
    pytest's node id."""
    nodeid = item.nodeid
    if directory is None:
        return nodeid
    try:
        inside = Path(item.path).resolve().relative_to(directory)
    except ValueError:
        return nodeid
    _, sep, name = nodeid.partition("::")
    return f"{inside.as_posix()}{sep}{name}"
