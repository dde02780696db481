"""The reference sandbox's layering, read from its source.

`sandbox/` is a candidate like any other: it shares no code or tables with
the catalogue or the fake internet (architecture.md, rule 2), and the
destination policy stays pure, so its verdicts can be tested with no network.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SANDBOX = Path(__file__).resolve().parents[2] / "sandbox"
PURE = ("policy.py", "addresses.py")
IO_MODULES = frozenset({"socket", "_socket", "os", "select", "selectors", "subprocess", "ssl",
                        "io", "pathlib", "shutil", "fcntl", "threading", "asyncio", "urllib",
                        "http", "sandbox.service", "sandbox.app", "sandbox.ranges"})


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def test_sandbox_imports_nothing_from_the_catalogue_or_the_world() -> None:
    for path in sorted(SANDBOX.rglob("*.py")):
        for name in imported(path):
            top = name.split(".")[0]
            assert top not in ("cases", "fakenet", "tests"), f"{path}: imports {name}"
            if top == "conformance":
                assert name == "conformance.adapter", f"{path}: imports {name}"


@pytest.mark.parametrize("name", PURE)
def test_policy_modules_do_no_io(name: str) -> None:
    path = SANDBOX / name
    for module in imported(path):
        assert not any(module == m or module.startswith(m + ".") for m in IO_MODULES), (
            f"{path}: imports {module}")
    calls = {n.func.id for n in ast.walk(ast.parse(path.read_text()))
             if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    assert not calls & {"open", "print", "input", "__import__", "exec", "eval"}, path
