"""Which adapters exist, and how a name or `module:Class` becomes one.

Third-party adapters register under the entry-point group
`conformance.adapters` (name -> "module:Class"). The bundled ones are also
listed here, so that they work from a source tree that is not pip-installed;
an installed entry point of the same name wins.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from conformance.adapter import Adapter

GROUP = "conformance.adapters"

BUNDLED: Mapping[str, str] = {
    "native": "conformance.adapters.native:NativeAdapter",
    "native-py27": "conformance.adapters.native:NativePy27Adapter",
    "reference": "sandbox.adapter:ReferenceAdapter",
    "appengine-sdk": "conformance.adapters.appengine_sdk:AppEngineSDKAdapter",
    # third-party egress guards (conformance/adapters/egress_guards.py)
    "pytest-socket": "conformance.adapters.egress_guards:PytestSocketAdapter",
    "advocate": "conformance.adapters.egress_guards:AdvocateAdapter",
    "requests-hardened": "conformance.adapters.egress_guards:RequestsHardenedAdapter",
}


class AdapterNotFound(LookupError):
    """An unknown candidate name or a broken `module:Class` path; the message
    says what is available."""


@dataclass(frozen=True)
class AdapterEntry:
    name: str
    target: str          # "module:Class"
    origin: str          # "bundled" or "entry point (DIST)"


def available() -> dict[str, AdapterEntry]:
    """Every registered adapter by name."""
    entries = {name: AdapterEntry(name, target, "bundled") for name, target in BUNDLED.items()}
    for ep in importlib.metadata.entry_points(group=GROUP):
        dist = getattr(ep, "dist", None)
        origin = f"entry point ({dist.name})" if dist is not None else "entry point"
        entries[ep.name] = AdapterEntry(ep.name, ep.value, origin)
    return entries


def _listing() -> str:
    names = sorted(available())
    return ", ".join(names) if names else "(none)"


def load_callable(target: str) -> Callable[[], Any]:
    """`module:function` -> the function (a world stand-in for the harness's own tests);
    LookupError saying why not."""
    module_name, _, attr = target.partition(":")
    try:
        found: Callable[[], Any] = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError, ValueError) as exc:
        raise LookupError(f"--conformance-world {target!r}: {exc}") from None
    return found


def load_class(target: str) -> type[Adapter]:
    """`module:Class` -> the Adapter subclass, or AdapterNotFound saying why not."""
    module_name, sep, attr = target.partition(":")
    if not sep or not module_name or not attr:
        raise AdapterNotFound(
            f"--adapter {target!r}: expected 'module:Class', e.g. "
            f"'mypkg.adapter:MyAdapter'. Registered candidates: {_listing()}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise AdapterNotFound(
            f"adapter {target!r}: cannot import module {module_name!r} ({exc}). "
            f"Registered candidates: {_listing()}") from exc
    obj: object = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise AdapterNotFound(
                f"adapter {target!r}: module {module_name!r} has no attribute {attr!r}. "
                f"Registered candidates: {_listing()}") from None
    if not (isinstance(obj, type) and issubclass(obj, Adapter)):
        raise AdapterNotFound(
            f"adapter {target!r} is not a subclass of conformance.adapter.Adapter "
            f"(got {obj!r})")
    return obj


def default_candidate() -> str:
    """The reference sandbox when it is installed (or in this tree), else `native`."""
    try:
        load_class(available()["reference"].target)
    except AdapterNotFound:
        return "native"
    return "reference"


def resolve(name: str | None = None, adapter_path: str | None = None) -> Callable[[], Adapter]:
    """A factory for the adapter named by `--candidate NAME` or `--adapter module:Class`
    (which wins). Resolution happens now, so bad input fails before any test runs."""
    if adapter_path:
        return load_class(adapter_path)
    if not name:
        name = default_candidate()
    entries = available()
    if name not in entries:
        raise AdapterNotFound(
            f"unknown candidate {name!r}. Registered candidates: {_listing()}. "
            f"A third-party adapter registers under the entry-point group {GROUP!r} "
            f"or is named with --adapter module:Class.")
    try:
        return load_class(entries[name].target)
    except AdapterNotFound as exc:
        raise AdapterNotFound(
            f"candidate {name!r} ({entries[name].origin}) is registered but broken: {exc}"
        ) from exc
