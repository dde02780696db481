"""Killed or not: a mutant's catalogue run against the unmutated reference's run.

A mutant is killed when its run has a FAIL or an ERROR that the unmutated
reference does not have for the same case. A NON-STRICT the reference lacks
only kills a mutant of SHOULD-level code, which a reader has to confirm: it is
its own status, listed for review. A run that hung past its time limit, or that
ended without writing results, is killed too (a user would see it), under its
own status so it can be looked at.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

KILLED = "killed"
KILLED_NON_STRICT = "killed-non-strict"
TIMEOUT = "timeout"
RUN_FAILED = "run-failed"
SURVIVED = "survived"
KILLING = frozenset({KILLED, TIMEOUT, RUN_FAILED})
BAD = frozenset({"FAIL", "ERROR"})


@dataclass(frozen=True)
class Judgement:
    status: str
    killers: tuple[str, ...] = ()   # the cases whose outcome the reference lacks
    detail: str = ""

    @property
    def killed(self) -> bool:
        return self.status in KILLING


def judge(baseline: Mapping[str, str], mutant: Mapping[str, str], *, exit_code: int,
          timed_out: bool = False) -> Judgement:
    """baseline and mutant map case id -> outcome name (as in results.json)."""
    if timed_out:
        return Judgement(TIMEOUT, detail="the catalogue run passed its time limit")
    new_bad = tuple(sorted(case for case, outcome in mutant.items()
                           if outcome in BAD and baseline.get(case) != outcome))
    if new_bad:
        return Judgement(KILLED, new_bad, ", ".join(f"{c}: {mutant[c]}" for c in new_bad[:3]))
    if not mutant and exit_code != 0:
        return Judgement(RUN_FAILED, detail=f"no results, exit code {exit_code}")
    new_soft = tuple(sorted(case for case, outcome in mutant.items()
                            if outcome == "NON-STRICT" and baseline.get(case) != outcome))
    if new_soft:
        return Judgement(KILLED_NON_STRICT, new_soft, "NON-STRICT only: review (SHOULD-level?)")
    return Judgement(SURVIVED)
