"""Counting outcomes: per run and per clause family, the same way in every report.

The run's verdict without a baseline is decided here (`run_failed`), so the
results file, the Markdown summary and the exit code cannot disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from conformance.model import CaseResult, Outcome

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
