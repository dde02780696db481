"""The project's clause list: cases/clauses.toml loaded into frozen values.

Every case names one clause ID and one level; the harness turns that pair
into a `ClauseRef` through `Clause.ref`, so a case can only name a level the
clause really has. The file is data a reviewer reads against CLAUSES.md; a
malformed entry is an error naming the file and the entry.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from conformance.model import ClauseRef, Level

DEFAULT_CLAUSES = Path(__file__).with_name("clauses.toml")

_ID = re.compile(r"^[A-Z][A-Z0-9]*-[1-9][0-9]*$")
_LEVEL_KEYS = {level.value: level for level in Level}
_OTHER_KEYS = {"note"}


class ClauseDataError(ValueError):
    """The clause file is malformed; the message names the file and the entry."""


@dataclass(frozen=True)
class Clause:
    """One clause of CLAUSES.md, with each of its levels and our reading of it."""

    id: str
    levels: tuple[Level, ...]
    requirements: Mapping[Level, str]
    note: str = ""

    def ref(self, level: Level | str) -> ClauseRef:
        """The reference a case at `level` carries; ValueError for a level the clause lacks."""
        wanted = _as_level(level, self.id)
        if wanted not in self.requirements:
            have = ", ".join(lv.value for lv in self.levels)
            raise ValueError(
                f"clause {self.id} has no {wanted.value} level (it has: {have}); "
                f"see {DEFAULT_CLAUSES.name}"
            )
        return ClauseRef(self.id, wanted, self.requirements[wanted])


def _as_level(level: Level | str, clause_id: str) -> Level:
    if isinstance(level, Level):
        return level
    try:
        return Level(str(level).upper())
    except ValueError:
        raise ValueError(
            f"clause {clause_id}: unknown level {level!r}, expected MUST, SHOULD or MAY"
        ) from None


def load_clauses(path: Path | str | None = None) -> dict[str, Clause]:
    """Parse and check a clause file; ClauseDataError says what is wrong and where."""
    source = Path(path) if path is not None else DEFAULT_CLAUSES
    try:
        raw = tomllib.loads(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ClauseDataError(f"{source}: cannot read clause file: {exc}") from exc
    clauses: dict[str, Clause] = {}
    for clause_id, entry in raw.items():
        clauses[clause_id] = _clause(source, clause_id, entry)
    if not clauses:
        raise ClauseDataError(f"{source}: no clauses defined")
    return clauses


def _clause(source: Path, clause_id: str, entry: object) -> Clause:
    where = f"{source}: entry [{clause_id}]"
    if not _ID.match(clause_id):
        raise ClauseDataError(f"{where}: clause ID must look like 'DST-1'")
    if not isinstance(entry, dict):
        raise ClauseDataError(f"{where}: expected a table of levels, got {entry!r}")
    unknown = sorted(set(entry) - set(_LEVEL_KEYS) - _OTHER_KEYS)
    if unknown:
        raise ClauseDataError(
            f"{where}: unknown keys {unknown}; expected MUST, SHOULD, MAY or note"
        )
    requirements: dict[Level, str] = {}
    for key, level in _LEVEL_KEYS.items():
        if key not in entry:
            continue
        text = entry[key]
        if not isinstance(text, str) or not text.strip():
            raise ClauseDataError(f"{where}: {key} must be a non-empty one-line string")
        if "\n" in text.strip():
            raise ClauseDataError(f"{where}: {key} must be one line")
        requirements[level] = text.strip()
    if not requirements:
        raise ClauseDataError(f"{where}: names no level (MUST, SHOULD or MAY)")
    note = entry.get("note", "")
    if not isinstance(note, str):
        raise ClauseDataError(f"{where}: note must be a string")
    levels = tuple(level for level in Level if level in requirements)
    return Clause(clause_id, levels, MappingProxyType(requirements), note)
