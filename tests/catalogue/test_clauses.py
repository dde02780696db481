"""cases/clauses.toml against the spec's CLAUSES.md, and the loader's errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cases.clauses import ClauseDataError, load_clauses
from conformance.model import Level

REPO = Path(__file__).resolve().parents[2]
SPEC = REPO.parent / "shared" / "spec" / "CLAUSES.md"

_BULLET = re.compile(r"^- \*\*([A-Z][A-Z0-9]*-\d+)\*\*")
# "for each MUST clause" (DEV-1) names a kind of clause, not a level of this one.
_KEYWORD = re.compile(r"(?<![\w-])(MUST|SHOULD|MAY)(?![\w-])(?! clause)")


def spec_levels(text: str) -> dict[str, set[Level]]:
    """Clause ID -> the RFC 2119 keywords its bullet uses (continuation lines included)."""
    found: dict[str, set[Level]] = {}
    current: str | None = None
    for line in text.splitlines():
        match = _BULLET.match(line)
        if match:
            current = match.group(1)
            found[current] = set()
        elif not line.startswith("  "):
            current = None
        if current is not None:
            found[current].update(Level(k) for k in _KEYWORD.findall(line))
    return found


@pytest.fixture(scope="module")
def spec() -> dict[str, set[Level]]:
    if not SPEC.exists():
        pytest.skip(f"the spec is not beside this checkout ({SPEC} does not exist)")
    return spec_levels(SPEC.read_text(encoding="utf-8"))


def test_same_ids_as_spec(spec):
    ours = load_clauses()
    assert sorted(ours) == sorted(spec), (
        f"only in spec: {sorted(set(spec) - set(ours))}; only in clauses.toml: "
        f"{sorted(set(ours) - set(spec))}"
    )


def test_same_levels_as_spec(spec):
    ours = load_clauses()
    wrong: dict[str, object] = {}
    for clause_id, levels in spec.items():
        clause = ours[clause_id]
        if levels:
            if set(clause.levels) != levels:
                wrong[clause_id] = (sorted(lv.value for lv in levels),
                                    [lv.value for lv in clause.levels])
        elif not clause.note:
            wrong[clause_id] = ("spec names no keyword: clauses.toml must say why in `note`",)
    assert not wrong, wrong


def test_spec_parser_reads_multi_level_clauses(spec):
    # guards the parser itself: these clauses have a MUST and a SHOULD part
    for clause_id in ("DST-2", "LSN-1", "OPT-3", "P25-1", "RES-1", "DST-6", "BND-1", "PRT-2"):
        assert {Level.MUST, Level.SHOULD} <= spec[clause_id], clause_id
    assert spec["IDLE-3"] == {Level.MUST, Level.MAY}
    assert spec["EXC-6"] == {Level.MAY}


def test_every_requirement_is_one_line_in_our_words():
    for clause in load_clauses().values():
        for level in clause.levels:
            text = clause.requirements[level]
            assert text and "\n" not in text
            assert clause.ref(level).requirement == text


def test_ref_rejects_missing_level():
    clauses = load_clauses()
    with pytest.raises(ValueError, match="API-1 has no MAY level"):
        clauses["API-1"].ref(Level.MAY)
    with pytest.raises(ValueError, match="unknown level"):
        clauses["API-1"].ref("OUGHT")
    assert clauses["DST-2"].ref("should").level is Level.SHOULD


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[API-1\nMUST='x'", "cannot read clause file"),
        ("[api1]\nMUST = 'x'", "entry [api1]: clause ID"),
        ("[API-1]\nMUSTT = 'x'", "entry [API-1]: unknown keys ['MUSTT']"),
        ("[API-1]\nnote = 'x'", "entry [API-1]: names no level"),
        ("[API-1]\nMUST = ''", "entry [API-1]: MUST must be a non-empty"),
        ("[API-1]\nMUST = 3", "entry [API-1]: MUST must be a non-empty"),
        ("[API-1]\nMUST = \"\"\"a\nb\"\"\"", "must be one line"),
        ("API-1 = 'x'", "entry [API-1]: expected a table"),
        ("", "no clauses defined"),
    ],
)
def test_malformed_clause_file(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ClauseDataError) as info:
        load_clauses(path)
    assert str(path) in str(info.value)
    assert message in str(info.value)


def test_missing_clause_file(tmp_path):
    with pytest.raises(ClauseDataError, match="cannot read clause file"):
        load_clauses(tmp_path / "absent.toml")
