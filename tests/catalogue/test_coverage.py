"""Every clause (and level) of cases/clauses.toml has at least one case, and
every case names exactly one clause at a level that clause has."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from cases.clauses import load_clauses

REPO = Path(__file__).resolve().parents[2]

# Collect the catalogue in a child pytest (no candidate, no world) and print
# (node id, [clause marker args]) for every item.
COLLECT = r"""
import json, sys, pytest
class Grab:
    def __init__(self): self.items = []
    def pytest_collection_finish(self, session):
        for item in session.items:
            marks = [list(m.args) for m in item.iter_markers("clause")]
            self.items.append((item.nodeid, marks))
grab = Grab()
code = pytest.main(["--collect-only", "-q", "-p", "no:cacheprovider", "-p", "no:conformance",
                    "cases"], plugins=[grab])
print("@@" + json.dumps({"code": int(code), "items": grab.items}))
"""


@pytest.fixture(scope="module")
def collected() -> list[tuple[str, list[list[str]]]]:
    done = subprocess.run([sys.executable, "-c", COLLECT], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("@@")), None)
    assert line is not None, f"collection crashed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    data = json.loads(line[2:])
    assert data["code"] == 0, f"collection failed:\n{done.stdout[-3000:]}"
    return [(nodeid, marks) for nodeid, marks in data["items"]]


def test_every_case_names_one_clause_and_a_level_it_has(collected):
    clauses = load_clauses()
    wrong = []
    for nodeid, marks in collected:
        if len(marks) != 1 or len(marks[0]) != 2:
            wrong.append(f"{nodeid}: clause markers {marks}")
            continue
        clause_id, level = marks[0]
        try:
            clauses[clause_id].ref(level)
        except (KeyError, ValueError) as exc:
            wrong.append(f"{nodeid}: {exc}")
    assert not wrong, "\n".join(wrong[:20])


def test_every_clause_level_has_a_case(collected):
    counts = Counter(tuple(marks[0]) for _, marks in collected if len(marks) == 1)
    missing = [f"{c.id} {lv.value}" for c in load_clauses().values() for lv in c.levels
               if counts[(c.id, lv.value)] == 0]
    assert not missing, f"clause levels without a case: {missing}"


def test_catalogue_is_several_hundred_cases(collected):
    assert len(collected) >= 300


#: Modules that cross the families by design: the own-client cases drive a
#: candidate's own HTTP client, not its socket module; the entry-point table is
#: entry points x blocked operations (cases/entry_points.toml).
CROSS_FAMILY_MODULES = frozenset({"test_own_client.py", "test_entry_points.py"})


def test_cases_live_in_their_family_module(collected):
    """One module per clause family (the API-5 errno rows stand for every family)."""
    wrong = []
    for nodeid, marks in collected:
        family = marks[0][0].split("-")[0].lower()
        module = nodeid.split("::")[0].rsplit("/", 1)[-1]
        if module != f"test_{family}.py" and module not in CROSS_FAMILY_MODULES:
            wrong.append(f"{nodeid} ({marks[0][0]})")
    assert not wrong, wrong[:10]
