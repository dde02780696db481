"""How a case ends: what the exception of each phase means, and its one CaseResult.

The rules (the plugin applies them; `conformance.model.judge` ranks by level):
- an AssertionError, or a RemoteError that escaped the case -> a violation,
  FAIL / NON-STRICT / INFORMATIONAL by the case's level;
- `Unsupported` (or pytest.skip) -> UNSUPPORTED;
- anything else (CandidateError, EvidenceUnavailable, ProtocolError, a
  clause the catalogue lacks, a broken case) -> ERROR.
A setup that did not complete is never a verdict (UNSUPPORTED or ERROR).
Only a case whose call phase ended without an exception, and with no failed
check (a case that caught its own check's AssertionError still violated),
is judged as conforming, and only if its teardown completed too (else ERROR).
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.adapter import Unsupported
from conformance.fixtures import CaseState
from conformance.instance import CandidateError
from conformance.model import CaseResult, ClauseRef, Outcome, judge
from conformance.protocol import ProtocolError
from conformance.remote import RemoteError
from conformance.verdict import EvidenceUnavailable

VIOLATION, UNSUPPORTED, ERROR = "violation", "unsupported", "error"
MAX_EVENTS = 50   # journal events kept as evidence per case

Phase = tuple[str, str]   # (kind, message) of the exception that ended a phase


class ClauseProblem(Exception):
    """The case names a clause or level the catalogue does not have."""


def classify(excinfo: pytest.ExceptionInfo[BaseException]) -> Phase:
    """(kind, message) for an exception that ended a phase."""
    exc = excinfo.value
    if isinstance(exc, Unsupported):
        return UNSUPPORTED, str(exc) or type(exc).__name__
    if excinfo.errisinstance(pytest.skip.Exception):
        return UNSUPPORTED, f"skipped: {getattr(exc, 'msg', str(exc))}"
    if isinstance(exc, AssertionError):
        return VIOLATION, _first_lines(str(exc)) or "assertion failed"
    if isinstance(exc, RemoteError):
        return VIOLATION, f"the candidate raised {exc.describe()}"
    if isinstance(exc, CandidateError | EvidenceUnavailable | ClauseProblem | ProtocolError):
        return ERROR, str(exc)
    return ERROR, f"{type(exc).__name__}: {_first_lines(str(exc))}"


def _first_lines(text: str, limit: int = 2000) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def outcome_of(ref: ClauseRef, phases: dict[str, Phase]) -> tuple[Outcome, str]:
    """The case's outcome and the reason for it, from how its phases ended."""
    setup, call, teardown = (phases.get(w) for w in ("setup", "call", "teardown"))
    if setup is not None:
        kind, reason = setup
        return (Outcome.UNSUPPORTED if kind == UNSUPPORTED else Outcome.ERROR), reason
    if call is None:
        outcome, reason = judge(ref.level, True), ""
    else:
        kind, reason = call
        if kind == VIOLATION:
            outcome = judge(ref.level, False)
        else:
            outcome = Outcome.UNSUPPORTED if kind == UNSUPPORTED else Outcome.ERROR
    if teardown is not None and call is None:   # it conformed, then broke: no verdict
        return Outcome.ERROR, f"teardown failed: {teardown[1]}"
    return outcome, reason


def build_result(case_id: str, ref: ClauseRef, phases: dict[str, Phase], state: CaseState,
                 events: list[dict[str, Any]],
                 transcripts: list[dict[str, Any]]) -> CaseResult:
    """The CaseResult of one case: its outcome, expected/observed from its
    checks, and as evidence the checks, the case's own entries, the journal
    events (at most MAX_EVENTS) and each instance's calls (with its stderr
    tail on ERROR)."""
    checks = state.checks
    failed = [c for c in checks if not c.ok]
    if failed and not {"setup", "call"} & phases.keys():
        first = failed[0]
        phases = {**phases, "call": (VIOLATION, f"{first.name}: expected {first.expected}; "
                                                f"observed {first.observed}")}
    outcome, reason = outcome_of(ref, phases)
    call = phases.get("call")
    if checks:
        expected = "; ".join(c.expected for c in checks)
        observed = "; ".join(c.observed for c in checks)
    else:
        expected = ref.requirement
        observed = reason if reason else "conformed (all assertions held)"
    if call is not None and call[0] == VIOLATION and not failed:
        observed = (observed + "; " if checks else "") + call[1]

    evidence: list[dict[str, Any]] = [c.to_json() for c in checks]
    evidence.extend(state.evidence)
    evidence.extend({"journal": e} for e in events[:MAX_EVENTS])
    if len(events) > MAX_EVENTS:
        evidence.append({"journal_truncated": len(events) - MAX_EVENTS})
    for index, inst in enumerate(state.instances):
        entry: dict[str, Any] = (dict(transcripts[index]) if index < len(transcripts) else
                                 {"instance": inst.app_id, "calls": []})
        if outcome is Outcome.ERROR:
            entry["stderr_tail"] = inst.stderr_tail()
        evidence.append(entry)
    return CaseResult(case_id=case_id, clause=ref, outcome=outcome, expected=expected,
                      observed=observed, evidence=tuple(evidence), duration=0.0,
                      reason=reason if outcome is not Outcome.PASS else "")
