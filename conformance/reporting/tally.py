"""Counting outcomes: per run and per clause family, the same way in every report.

The run's verdict without a baseline is decided here (`run_failed`), and so
is each report's headline (`headline`) and list of cases that need a human
(`needs_attention`), so the results file, the reports and the exit code
cannot disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from conformance.model import CaseResult, Outcome, RunInfo

if TYPE_CHECKING:  # comparison.py imports this module
    from conformance.reporting.comparison import Comparison

# Report column order: the good news first, then the kinds of bad news.
OUTCOME_ORDER: tuple[Outcome, ...] = (
    Outcome.PASS,
    Outcome.INFORMATIONAL,
    Outcome.NON_STRICT,
    Outcome.UNSUPPORTED,
    Outcome.FAIL,
    Outcome.ERROR,
)


@dataclass(frozen=True)
class Tally:
    """How many cases ended in each outcome."""

    counts: Mapping[Outcome, int]

    @classmethod
    def of(cls, results: Iterable[CaseResult]) -> Tally:
        counts = dict.fromkeys(OUTCOME_ORDER, 0)
        for result in results:
            counts[result.outcome] += 1
        return cls(counts)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def __getitem__(self, outcome: Outcome) -> int:
        return self.counts.get(outcome, 0)

    def to_json(self) -> dict[str, int]:
        return {outcome.value: self[outcome] for outcome in OUTCOME_ORDER}


def family_tallies(results: Iterable[CaseResult]) -> dict[str, Tally]:
    """Tally per clause family (`DST`, `EXC`, ...), families in sorted order."""
    grouped: dict[str, list[CaseResult]] = {}
    for result in results:
        grouped.setdefault(result.clause.family, []).append(result)
    return {family: Tally.of(grouped[family]) for family in sorted(grouped)}


def is_failing(outcome: Outcome, strict: bool) -> bool:
    """Whether this outcome fails a run that has no baseline."""
    return outcome.fails_run or (strict and outcome is Outcome.NON_STRICT)


def run_failed(results: Iterable[CaseResult], strict: bool) -> bool:
    """The no-baseline verdict: any FAIL or ERROR (and NON-STRICT under strict)."""
    return any(is_failing(result.outcome, strict) for result in results)


def needs_attention(results: Iterable[CaseResult], strict: bool) -> list[CaseResult]:
    """Every case that did not pass (PASS and INFORMATIONAL did), those that fail
    the run first."""
    return sorted(
        (r for r in results if r.outcome not in (Outcome.PASS, Outcome.INFORMATIONAL)),
        key=lambda r: (not is_failing(r.outcome, strict), r.outcome.value, r.case_id),
    )


@dataclass(frozen=True)
class Headline:
    """What a report says first; decided in the same order as the exit code."""

    tone: str  # "ok", "bad" or "warn"
    kind: str  # "interrupted", "regressions", "no-regressions", "failed" or "passed"
    count: int  # regressions, or cases that fail the run
    total: int  # cases in the run

    def text(self, wording: Mapping[str, str]) -> str:
        """The headline in a report's own words: `wording[kind]` with {count} and {total}."""
        return wording[self.kind].format(count=self.count, total=self.total)


def headline(
    run: RunInfo, cases: Sequence[CaseResult], strict: bool, comparison: Comparison | None
) -> Headline:
    """`comparison`: this run against its baseline, None when no baseline applied."""
    total = len(cases)
    if run.interrupted:
        return Headline("warn", "interrupted", 0, total)
    if comparison is not None:
        if comparison.regressed:
            return Headline("bad", "regressions", len(comparison.regressions), total)
        return Headline("ok", "no-regressions", 0, total)
    failing = sum(1 for c in cases if is_failing(c.outcome, strict))
    if failing:
        return Headline("bad", "failed", failing, total)
    return Headline("ok", "passed", 0, total)
