"""What the mutation run mutates: the modules, their tiers and clause families, the operators."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

SCOPE_FILE = Path(__file__).with_name("scope.toml")


@dataclass(frozen=True)
class ModuleScope:
    path: str                    # relative to the repository root
    tier: str                    # "policy" (target: 0 open survivors), "app", "service", "glue"
    fresh: bool = False          # the harness imports it: restart the resident per mutant


@dataclass(frozen=True)
class Scope:
    modules: tuple[ModuleScope, ...]
    operators: tuple[str, ...]
    per_site: int = 1

    def select(self, names: list[str]) -> tuple[ModuleScope, ...]:
        """The modules whose path contains one of `names` (all when none is given)."""
        if not names:
            return self.modules
        chosen = tuple(m for m in self.modules if any(n in m.path for n in names))
        if not chosen:
            known = ", ".join(m.path for m in self.modules)
            raise ValueError(f"no module in scope matches {names}; known: {known}")
        return chosen


def load_scope(path: Path = SCOPE_FILE) -> Scope:
    data = tomllib.loads(path.read_text())
    modules = tuple(ModuleScope(m["path"], m["tier"], bool(m.get("fresh", False)))
                    for m in data["module"])
    ops = data["operators"]
    return Scope(modules, tuple(ops["names"]), int(ops.get("per_site", 1)))
