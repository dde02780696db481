"""Finding adapters by name or import path; bad input gets a clear error."""

from __future__ import annotations

import pytest

from conformance import registry
from conformance.adapters.native import NativeAdapter, NativePy27Adapter


def test_bundled_names():
    assert registry.resolve("native") is NativeAdapter
    assert registry.resolve("native-py27") is NativePy27Adapter
    assert {"native", "native-py27", "reference"} <= set(registry.available())


def test_adapter_path_wins():
    factory = registry.resolve("nope", "tests.harness.helpers:LocalNativeAdapter")
    assert factory().info().name == "native-local"


def test_unknown_name_lists_what_exists():
    with pytest.raises(registry.AdapterNotFound) as caught:
        registry.resolve("no-such-candidate")
    message = str(caught.value)
    assert "unknown candidate 'no-such-candidate'" in message
    assert "native" in message and "conformance.adapters" in message


@pytest.mark.parametrize(("path", "says"), [
    ("no_such_module_xyz:Adapter", "cannot import module 'no_such_module_xyz'"),
    ("conformance.adapters.native:Nope", "has no attribute 'Nope'"),
    ("conformance.adapters.native", "expected 'module:Class'"),
    ("conformance.adapters.python27:PYTHON27_ENV", "not a subclass of"),
])
def test_broken_adapter_paths(path, says):
    with pytest.raises(registry.AdapterNotFound, match=r"Registered candidates|not a subclass") \
            as caught:
        registry.resolve(None, path)
    assert says in str(caught.value)


def test_native_py27_runs_python_27():
    adapter = NativePy27Adapter()
    assert adapter.info().version.startswith("2.7")
    assert adapter.instance("app-a").argv[0] == adapter.python
