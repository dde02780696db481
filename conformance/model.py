"""The outcome model: levels, outcomes, clause references and case results.

Frozen values shared by the plugin, the CLI and every report writer. The
mapping from "did the candidate conform?" to an Outcome lives here and only
here (`judge`).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


class Level(enum.Enum):
    """RFC 2119 requirement levels of CLAUSES.md."""

    MUST = "MUST"
    SHOULD = "SHOULD"
    MAY = "MAY"


class Outcome(enum.Enum):
    PASS = "PASS"
    FAIL = "FAIL"                    # a MUST violated
    NON_STRICT = "NON-STRICT"        # a SHOULD violated
    INFORMATIONAL = "INFORMATIONAL"  # a MAY, recorded
    UNSUPPORTED = "UNSUPPORTED"      # the candidate lacks a capability the case needs
    ERROR = "ERROR"                  # the candidate or the harness broke; no verdict

    @property
    def fails_run(self) -> bool:
        """Whether this outcome alone makes the run fail (without --strict)."""
        return self in (Outcome.FAIL, Outcome.ERROR)


# Worse outcomes rank higher; baselines compare ranks to find regressions.
SEVERITY: Mapping[Outcome, int] = {
    Outcome.PASS: 0,
    Outcome.INFORMATIONAL: 0,
    Outcome.UNSUPPORTED: 1,
    Outcome.NON_STRICT: 2,
    Outcome.FAIL: 3,
    Outcome.ERROR: 3,
}


def judge(level: Level, conforms: bool) -> Outcome:
    """The outcome of a case that ran to a verdict."""
    if level is Level.MAY:
        return Outcome.INFORMATIONAL
    if conforms:
        return Outcome.PASS
    return Outcome.FAIL if level is Level.MUST else Outcome.NON_STRICT


@dataclass(frozen=True)
class ClauseRef:
    """One clause of CLAUSES.md at one level, with our one-line reading of it."""

    id: str           # e.g. "DST-1"
    level: Level
    requirement: str

    @property
    def family(self) -> str:
        return self.id.split("-", 1)[0]


@dataclass(frozen=True)
class CaseResult:
    case_id: str                       # stable: the pytest node id below cases/
    clause: ClauseRef
    outcome: Outcome
    expected: str                      # what the clause requires, for this case
    observed: str                      # what the candidate did
    evidence: Sequence[Mapping[str, Any]] = field(default_factory=tuple, hash=False)
    duration: float = 0.0
    reason: str = ""                   # why UNSUPPORTED/ERROR/NON-STRICT, in words

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.case_id,
            "clause": self.clause.id,
            "level": self.clause.level.value,
            "requirement": self.clause.requirement,
            "outcome": self.outcome.value,
            "expected": self.expected,
            "observed": self.observed,
            "evidence": [dict(e) for e in self.evidence],
            "duration": round(self.duration, 6),
            "reason": self.reason,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CaseResult:
        return cls(
            case_id=str(data["id"]),
            clause=ClauseRef(
                str(data["clause"]), Level(data["level"]), str(data.get("requirement", ""))
            ),
            outcome=Outcome(data["outcome"]),
            expected=str(data.get("expected", "")),
            observed=str(data.get("observed", "")),
            evidence=tuple(data.get("evidence", ())),
            duration=float(data.get("duration", 0.0)),
            reason=str(data.get("reason", "")),
        )


@dataclass(frozen=True)
class RunInfo:
    """What a results file says about the run as a whole."""

    suite_version: str
    candidate: str
    candidate_version: str
    profile: str
    python: str          # the harness's Python
    platform: str
    started: float       # epoch seconds
    finished: float
    strict: bool = False
    interrupted: bool = False
    argv: Sequence[str] = field(default_factory=tuple, hash=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "suite_version": self.suite_version, "candidate": self.candidate,
            "candidate_version": self.candidate_version, "profile": self.profile,
            "python": self.python, "platform": self.platform, "started": self.started,
            "finished": self.finished, "strict": self.strict,
            "interrupted": self.interrupted, "argv": list(self.argv),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunInfo:
        return cls(
            suite_version=str(data["suite_version"]), candidate=str(data["candidate"]),
            candidate_version=str(data["candidate_version"]), profile=str(data["profile"]),
            python=str(data["python"]), platform=str(data["platform"]),
            started=float(data["started"]), finished=float(data["finished"]),
            strict=bool(data.get("strict", False)),
            interrupted=bool(data.get("interrupted", False)),
            argv=tuple(data.get("argv", ())),
        )
