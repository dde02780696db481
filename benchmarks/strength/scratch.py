"""The copy of the source tree under /tmp that the mutants are written into.

The work tree is never written: the copy is made once, each mutant is written
into it, then the original text is put back and its hash checked. The copy is
removed on exit, on Ctrl-C and on SIGTERM.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

# benchmarks: the resident catalogue plugin (resident.py) is loaded from the copy too
COPIED = ("sandbox", "conformance", "cases", "fakenet", "benchmarks", "conftest.py",
          "pyproject.toml")
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")


class ScratchError(RuntimeError):
    """The copy is not what the run needs (wrong imports, a file not restored)."""


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class ScratchTree:
    """A copy of the project's packages; `root` is what the catalogue runs from."""

    def __init__(self, repo: Path, root: Path) -> None:
        self.repo = repo
        self.root = root
        self._hashes: dict[str, str] = {}

    @classmethod
    @contextmanager
    def made(cls, repo: Path) -> Iterator[ScratchTree]:
        """Copy `repo` into a fresh /tmp folder; remove it whatever happens."""
        base = Path(tempfile.mkdtemp(prefix="gsc-mutation-"))
        previous = signal.signal(signal.SIGTERM, _raise_interrupt)
        try:
            tree = cls(repo, base / "tree")
            tree.root.mkdir()
            for name in COPIED:
                src = repo / name
                if src.is_dir():
                    shutil.copytree(src, tree.root / name, ignore=IGNORED)
                else:
                    shutil.copy2(src, tree.root / name)
            yield tree
        finally:
            shutil.rmtree(base, ignore_errors=True)
            signal.signal(signal.SIGTERM, previous)

    def env(self) -> dict[str, str]:
        """The environment of a catalogue run: the copy first on sys.path, no bytecode
        written (a mutant of the same size in the same second must not reuse a stale .pyc)."""
        env = dict(os.environ)
        env["PYTHONPATH"] = str(self.root)
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        return env

    def check_imports(self) -> None:
        """The harness, and through the adapter's ROOT the service and instances,
        import the copy, not the work tree (an editable install points there)."""
        probe = ("import sandbox.adapter as a, sandbox.policy as p, conformance, cases, "
                 "benchmarks.strength.resident as r; "
                 "print(a.ROOT); print(p.__file__); print(conformance.__file__); "
                 "print(cases.__file__); print(r.__file__)")
        out = subprocess.run([sys.executable, "-c", probe], cwd=self.root, env=self.env(),
                             capture_output=True, text=True, check=True).stdout.split()
        outside = [p for p in out if not Path(p).resolve().is_relative_to(self.root.resolve())]
        if outside:
            raise ScratchError(f"the catalogue would import from outside the copy: {outside}")

    def read(self, module: str) -> str:
        path = self.root / module
        self._hashes.setdefault(module, _sha256(path))
        return path.read_text()

    @contextmanager
    def mutated(self, module: str, text: str) -> Iterator[None]:
        """`text` in place of `module` for the duration; then the original, hash-checked."""
        path = self.root / module
        original = path.read_bytes()
        expected = self._hashes.setdefault(module, hashlib.sha256(original).hexdigest())
        if hashlib.sha256(original).hexdigest() != expected:
            raise ScratchError(f"{module} in the copy changed before a mutant was written")
        try:
            path.write_text(text)
            _purge_bytecode(path)
            yield
        finally:
            path.write_bytes(original)
            _purge_bytecode(path)
            if _sha256(path) != expected:
                raise ScratchError(f"{module} was not restored in the copy")


def _purge_bytecode(path: Path) -> None:
    cache = path.parent / "__pycache__"
    for pyc in cache.glob(f"{path.stem}.*.pyc") if cache.is_dir() else ():
        pyc.unlink(missing_ok=True)


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")
