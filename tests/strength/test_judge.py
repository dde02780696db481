"""The mutation run's judge: killed only by what the unmutated reference lacks."""

from __future__ import annotations

from benchmarks.strength.judge import (
    KILLED,
    KILLED_NON_STRICT,
    RUN_FAILED,
    SURVIVED,
    TIMEOUT,
    judge,
)

BASE = {"a": "PASS", "b": "FAIL", "c": "INFORMATIONAL", "d": "NON-STRICT", "e": "ERROR"}


def test_same_outcomes_survive() -> None:
    assert judge(BASE, dict(BASE), exit_code=1).status == SURVIVED


def test_new_fail_or_error_kills_and_names_the_case() -> None:
    j = judge(BASE, {**BASE, "a": "FAIL"}, exit_code=1)
    assert (j.status, j.killers, j.killed) == (KILLED, ("a",), True)
    assert judge(BASE, {**BASE, "c": "ERROR"}, exit_code=1).killers == ("c",)


def test_fail_or_error_the_reference_has_does_not_kill() -> None:
    assert judge(BASE, {"b": "FAIL", "e": "ERROR"}, exit_code=1).status == SURVIVED


def test_fail_turned_error_kills() -> None:
    assert judge(BASE, {**BASE, "b": "ERROR"}, exit_code=1).status == KILLED


def test_case_unknown_to_the_baseline_kills_when_it_fails() -> None:
    assert judge(BASE, {"new": "FAIL"}, exit_code=1).killers == ("new",)


def test_non_strict_alone_is_its_own_status_for_review() -> None:
    j = judge(BASE, {**BASE, "a": "NON-STRICT"}, exit_code=0)
    assert (j.status, j.killers, j.killed) == (KILLED_NON_STRICT, ("a",), False)
    assert judge(BASE, {"d": "NON-STRICT"}, exit_code=0).status == SURVIVED


def test_partial_run_under_exitfirst_is_judged_on_what_ran() -> None:
    assert judge(BASE, {"a": "PASS"}, exit_code=0).status == SURVIVED


def test_timeout_and_missing_results_kill() -> None:
    assert judge(BASE, {}, exit_code=0, timed_out=True).status == TIMEOUT
    assert judge(BASE, {}, exit_code=3).status == RUN_FAILED
    assert judge(BASE, {}, exit_code=0).status == SURVIVED
