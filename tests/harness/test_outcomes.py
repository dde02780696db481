"""The outcome rules, without pytest around them: every way a case's phases can
end, at every level; no ERROR or UNSUPPORTED ever comes out as a pass."""

from __future__ import annotations

import itertools

import pytest

from conformance.fixtures import CaseState
from conformance.model import ClauseRef, Level, Outcome, judge
from conformance.outcomes import ERROR, UNSUPPORTED, VIOLATION, build_result, outcome_of
from conformance.verdict import Check

ENDINGS = (None, (VIOLATION, "v"), (UNSUPPORTED, "u"), (ERROR, "e"))


@pytest.mark.parametrize("level", list(Level))
@pytest.mark.parametrize(("setup", "call", "teardown"),
                         list(itertools.product(ENDINGS, repeat=3)))
def test_every_phase_ending(level, setup, call, teardown):
    phases = {w: p for w, p in (("setup", setup), ("call", call), ("teardown", teardown)) if p}
    outcome, reason = outcome_of(ClauseRef("API-1", level, "r"), phases)
    if setup is not None:   # the case never ran: no verdict
        expected = Outcome.UNSUPPORTED if setup[0] == UNSUPPORTED else Outcome.ERROR
    elif call is None:      # it conformed; a broken teardown withdraws that
        expected = judge(level, True) if teardown is None else Outcome.ERROR
    elif call[0] == VIOLATION:
        expected = judge(level, False)
    else:
        expected = Outcome.UNSUPPORTED if call[0] == UNSUPPORTED else Outcome.ERROR
    assert outcome is expected
    if outcome is not judge(level, True):
        assert reason


def test_a_check_that_failed_shows_as_observed_and_evidence():
    state = CaseState(checks=[Check("blocked", False, "nothing reaches x", "1 event")])
    result = build_result("t.py::c", ClauseRef("DST-1", Level.MUST, "r"),
                          {"call": (VIOLATION, "blocked: ...")}, state, [], [])
    assert result.outcome is Outcome.FAIL
    assert (result.expected, result.observed) == ("nothing reaches x", "1 event")
    assert result.evidence[0] == {"check": "blocked", "ok": False,
                                  "expected": "nothing reaches x", "observed": "1 event"}


def test_a_failed_check_the_case_swallowed_is_still_a_violation():
    """`try: verdict.blocked(...) except AssertionError: pass` must not pass."""
    state = CaseState(checks=[Check("blocked", False, "nothing reaches x", "1 event")])
    for level, outcome in ((Level.MUST, Outcome.FAIL), (Level.SHOULD, Outcome.NON_STRICT)):
        result = build_result("t.py::c", ClauseRef("DST-1", level, "r"), {}, state, [], [])
        assert result.outcome is outcome
        assert result.reason == "blocked: expected nothing reaches x; observed 1 event"
