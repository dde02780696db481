"""Lost cases: every selected case that never reported becomes an ERROR result.

A case is lost when its xdist worker died under it, or when the run stopped
before it reported (Ctrl-C, SIGTERM, -x). Left out, it would vanish from
every report ("Passed: 642" of 643) and a baseline would call it "not run";
as an ERROR with what is known (how far it got, the crash message) every
report shows it and a baseline counts it as a regression. Any lost case
marks the run interrupted.

Where this runs: on the xdist controller (or the only process). Under xdist
the controller collects nothing, so the first worker that finishes
collection writes the selected cases and their clauses to a file the
controller named (`conformance_selected` in the worker input).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conformance.model import CaseResult, ClauseRef, Level, Outcome

SELECTED_KEY = "conformance_selected"


@dataclass(frozen=True)
class Selected:
    """A case the run was asked to run, as the reports name it."""

    case_id: str
    clause: ClauseRef


def describe_items(items: list[pytest.Item], ref_of: Callable[[pytest.Item], ClauseRef | None],
                   case_id_of: Callable[[pytest.Item], str]) -> dict[str, Selected]:
    """node id -> Selected, for every item that is a case."""
    found = {}
    for item in items:
        ref = ref_of(item)
        if ref is not None:
            found[item.nodeid] = Selected(case_id_of(item), ref)
    return found


def write_selected(path: Path, selected: dict[str, Selected]) -> None:
    """Written once (the first worker wins), atomically: the controller may read it any time."""
    if path.exists():
        return
    data = {node: [s.case_id, s.clause.id, s.clause.level.value, s.clause.requirement]
            for node, s in selected.items()}
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, path)


def read_selected(path: Path) -> dict[str, Selected]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {node: Selected(row[0], ClauseRef(row[1], Level(row[2]), row[3]))
                for node, row in data.items()}
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return {}


class LostCases:
    """Controller-side bookkeeping: which cases began, how far each got, which crashed."""

    def __init__(self, selected_file: Path | None = None) -> None:
        self.selected_file = selected_file
        self.selected: dict[str, Selected] = {}
        self.phase: dict[str, str] = {}       # node id -> the phase it is in (or was last)
        self.crashed: dict[str, str] = {}     # node id -> what xdist said
        self.finished: set[str] = set()

    # -- hooks (registered as a plugin by conformance.plugin) ---------------------
    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        if self.selected_file is not None:
            node.workerinput[SELECTED_KEY] = str(self.selected_file)

    def pytest_runtest_logstart(self, nodeid: str) -> None:
        self.phase.setdefault(nodeid, "setup")

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when in ("setup", "call", "teardown"):
            # the phase the case is in once this report is in
            after = "call" if report.when == "setup" and report.passed else "teardown"
            self.phase[report.nodeid] = after
            if report.when == "teardown":
                self.finished.add(report.nodeid)
        else:  # xdist's report for a worker that crashed while running the item
            self.crashed[report.nodeid] = str(report.longrepr or "its worker crashed")

    # -- the results ----------------------------------------------------------------
    def load(self) -> None:
        """Read the cases the workers selected (under xdist), if not known yet."""
        if not self.selected and self.selected_file is not None:
            self.selected = read_selected(self.selected_file)

    def results(self, reported: set[str]) -> list[CaseResult]:
        """An ERROR for every selected case whose result is not in `reported` (case ids)."""
        self.load()
        lost = []
        for node, case in self.selected.items():
            if case.case_id in reported:
                continue
            lost.append(self._error(node, case))
        return lost

    def _error(self, node: str, case: Selected) -> CaseResult:
        if node in self.crashed:
            reason = (f"lost: the worker running this case died during "
                      f"{self.phase.get(node, 'setup')}: {_tail(self.crashed[node])}")
        elif node in self.phase:
            reason = (f"lost: the run stopped during this case's {self.phase[node]} "
                      "(interrupted, or its worker went away); it never reported")
        else:
            reason = "lost: never ran; the run stopped before it (interrupted, -x or a crash)"
        evidence = {"lost": {"phase": self.phase.get(node, "not started"),
                             "crash": _tail(self.crashed.get(node, ""))}}
        return CaseResult(case_id=case.case_id, clause=case.clause, outcome=Outcome.ERROR,
                          expected=case.clause.requirement, observed=reason,
                          evidence=(evidence,), reason=reason)


def _tail(text: str, limit: int = 2000) -> str:
    return text[-limit:]
