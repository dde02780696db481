"""Comparing outcomes case by case: what got worse, what got better, what came and went.

Used two ways: a run against its baseline (the exit code depends on it) and
one results file against another (`diff`, informational). "Worse" is
`conformance.model.SEVERITY`; an ERROR that was not an ERROR before is
worse too, although FAIL and ERROR rank the same, because an ERROR means the
case gave no verdict at all.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from conformance.leaks import base_case_id, is_leak_id
from conformance.model import SEVERITY, Outcome
from conformance.reporting.tally import is_failing


class Kind(enum.Enum):
    REGRESSION = "regression"  # worse than before, or newly ERROR
    IMPROVEMENT = "improvement"  # better than before
    CHANGED = "changed"  # different outcome, same severity (PASS <-> INFORMATIONAL, ERROR -> FAIL)
    UNCHANGED = "unchanged"
    NEW = "new"  # not in the old set
    REMOVED = "removed"  # in the old set, gone from the suite
    NOT_RUN = "not run"  # in the old set and the suite, not run this time


@dataclass(frozen=True)
class Change:
    case_id: str
    clause: str
    before: Outcome | None
    after: Outcome | None
    kind: Kind
    failing: bool = False  # for NEW: the new case's outcome fails the run
    note: str = ""  # the baseline's note for this case, if any

    def describe(self) -> str:
        before = self.before.value if self.before else "-"
        after = self.after.value if self.after else "-"
        text = f"{self.case_id} [{self.clause}] {before} -> {after}"
        return f"{text}  ({self.note})" if self.note else text


@dataclass(frozen=True)
class Comparison:
    """Every case sorted into one kind; new failing cases also count as regressions."""

    changes: tuple[Change, ...]

    def of(self, kind: Kind) -> tuple[Change, ...]:
        return tuple(change for change in self.changes if change.kind is kind)

    @property
    def regressions(self) -> tuple[Change, ...]:
        """Cases that make a baseline run fail: worse, newly ERROR, or new and failing."""
        return tuple(
            c
            for c in self.changes
            if c.kind is Kind.REGRESSION or (c.kind is Kind.NEW and c.failing)
        )

    @property
    def improvements(self) -> tuple[Change, ...]:
        return self.of(Kind.IMPROVEMENT)

    @property
    def regressed(self) -> bool:
        return bool(self.regressions)

    def counts(self) -> dict[str, int]:
        return {kind.value: len(self.of(kind)) for kind in Kind}


@dataclass(frozen=True)
class Entry:
    """One side of a comparison for one case."""

    outcome: Outcome
    clause: str
    note: str = ""


def module_of(case_id: str) -> str:
    """The file part of a case ID: 'test_dst.py::test_x[a]' -> 'test_dst.py'."""
    return case_id.split("::", 1)[0]


@dataclass(frozen=True)
class Collected:
    """The case IDs the suite collected this run, and the files they came from.

    pytest collects whole files, so a file that was collected but lacks a
    case means the case is gone; a file that was not collected at all
    (`pytest cases/test_dst.py`) says nothing about its cases.
    """

    ids: frozenset[str]
    modules: frozenset[str]

    @classmethod
    def of(cls, case_ids: Iterable[str]) -> Collected:
        ids = frozenset(case_ids)
        return cls(ids, frozenset(module_of(i) for i in ids))

    def may_still_exist(self, case_id: str) -> bool:
        """A leak result (`CASE#leak-CLAUSE`) may exist while its case does."""
        case_id = base_case_id(case_id)
        return case_id in self.ids or module_of(case_id) not in self.modules


def classify(before: Outcome, after: Outcome, *, error_always_regresses: bool) -> Kind:
    """The kind of change from `before` to `after` for a case present on both sides.

    With `error_always_regresses` (baselines), ERROR -> ERROR is a regression:
    a baseline cannot make a case that gives no verdict acceptable.
    """
    if after is Outcome.ERROR and (before is not Outcome.ERROR or error_always_regresses):
        return Kind.REGRESSION
    if before is after:
        return Kind.UNCHANGED
    if SEVERITY[after] > SEVERITY[before]:
        return Kind.REGRESSION
    if SEVERITY[after] < SEVERITY[before]:
        return Kind.IMPROVEMENT
    return Kind.CHANGED


def compare(
    old: Mapping[str, Entry],
    new: Mapping[str, Entry],
    *,
    strict: bool = False,
    error_always_regresses: bool = False,
    known_ids: Collection[str] | None = None,
    partial: bool = False,
) -> Comparison:
    """Sort every case of `old` and `new` into a kind.

    An old leak result (`CASE#leak-CLAUSE`) missing from `new` while its case is
    there is that leak gone: before -> PASS. An old case missing from `new` is
    NOT_RUN when it may still exist
    (`Collected.may_still_exist` on `known_ids`), or, without `known_ids`,
    when `partial` says the new side is incomplete; otherwise it is REMOVED.
    """
    collected = Collected.of(known_ids) if known_ids is not None else None
    changes: list[Change] = []
    for case_id in sorted(set(old) | set(new)):
        before, after = old.get(case_id), new.get(case_id)
        if before is not None and after is not None:
            kind = classify(
                before.outcome, after.outcome, error_always_regresses=error_always_regresses
            )
            changes.append(
                Change(case_id, after.clause, before.outcome, after.outcome, kind, note=before.note)
            )
        elif after is not None:
            changes.append(
                Change(
                    case_id,
                    after.clause,
                    None,
                    after.outcome,
                    Kind.NEW,
                    failing=is_failing(after.outcome, strict),
                )
            )
        elif before is not None and is_leak_id(case_id) and base_case_id(case_id) in new:
            # the case ran and leaked no more: the leak's absence is its PASS
            kind = classify(before.outcome, Outcome.PASS,
                            error_always_regresses=error_always_regresses)
            changes.append(Change(case_id, before.clause, before.outcome, Outcome.PASS, kind,
                                  note=before.note))
        elif before is not None:
            still_known = collected.may_still_exist(case_id) if collected else partial
            kind = Kind.NOT_RUN if still_known else Kind.REMOVED
            changes.append(
                Change(case_id, before.clause, before.outcome, None, kind, note=before.note)
            )
    return Comparison(tuple(changes))


# What each section is called in text, Markdown and HTML, in reading order.
SECTIONS: tuple[tuple[str, Kind | None], ...] = (
    ("Regressions", None),  # Comparison.regressions (includes new failing cases)
    ("Improvements", Kind.IMPROVEMENT),
    ("Changed (same severity)", Kind.CHANGED),
    ("New cases", Kind.NEW),
    ("Removed cases", Kind.REMOVED),
    ("Not run this time", Kind.NOT_RUN),
)


def section(comparison: Comparison, kind: Kind | None) -> tuple[Change, ...]:
    return comparison.regressions if kind is None else comparison.of(kind)


def section_lines(
    comparison: Comparison, name: str, kind: Kind | None, limit: int | None
) -> list[str]:
    """One section as plain text: its name and count, then at most `limit` cases
    (all when None); no lines when the section is empty."""
    changes = section(comparison, kind)
    if not changes:
        return []
    shown = changes if limit is None else changes[:limit]
    lines = [f"{name} ({len(changes)}):", *(f"  {change.describe()}" for change in shown)]
    if len(shown) < len(changes):
        lines.append(f"  ... and {len(changes) - len(shown)} more")
    return lines


def format_text(comparison: Comparison, *, title: str, limit: int = 50) -> str:
    """Plain text for a terminal: one line per changed case, at most `limit` per section."""
    counts = comparison.counts()
    lines = [
        f"{title}: {len(comparison.regressions)} regression(s), "
        f"{counts['improvement']} improvement(s), {counts['changed']} changed, "
        f"{counts['new']} new, {counts['removed']} removed, {counts['not run']} not run, "
        f"{counts['unchanged']} unchanged"
    ]
    for name, kind in SECTIONS:
        lines += section_lines(comparison, name, kind, limit)
    return "\n".join(lines) + "\n"
