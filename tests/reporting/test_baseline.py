"""Baselines: crafted pairs (regression, improvement, unchanged, new, removed), format errors."""

from __future__ import annotations

import json

import pytest

from conformance.model import Outcome
from conformance.reporting.baseline import (
    Baseline,
    build_baseline,
    check_applies,
    compare_with,
    load_baseline,
    parse_baseline,
    write_baseline,
)
from conformance.reporting.comparison import Entry, Kind, classify
from conformance.reporting.errors import (
    BaselineCorrupt,
    BaselineError,
    BaselineMismatch,
    BaselineMissing,
    ReportingError,
)

from .conftest import make_case, make_run

P, F, E = Outcome.PASS, Outcome.FAIL, Outcome.ERROR
NS, U, INFO = Outcome.NON_STRICT, Outcome.UNSUPPORTED, Outcome.INFORMATIONAL


def baseline_of(*pairs: tuple[str, Outcome], **fields) -> Baseline:
    run = make_run(**fields)
    return build_baseline(run, [make_case(case_id, outcome) for case_id, outcome in pairs])


def kinds(baseline: Baseline, results, **kw) -> dict[str, Kind]:
    comparison = compare_with(baseline, results, strict=kw.pop("strict", False), **kw)
    return {change.case_id.split("::")[1]: change.kind for change in comparison.changes}


# ---------------------------------------------------------------- crafted pairs


def test_regression():
    comparison = compare_with(baseline_of(("a", P)), [make_case("a", F)], strict=False)
    assert [c.case_id for c in comparison.regressions] == ["cases/test_x.py::a"]
    assert comparison.regressed


def test_improvement_is_listed_and_does_not_fail():
    comparison = compare_with(baseline_of(("a", F)), [make_case("a", P)], strict=False)
    assert [c.kind for c in comparison.changes] == [Kind.IMPROVEMENT]
    assert comparison.improvements and not comparison.regressed


def test_unchanged_known_failure_does_not_fail():
    comparison = compare_with(
        baseline_of(("a", F), ("b", P)), [make_case("a", F), make_case("b", P)], strict=False
    )
    assert {c.kind for c in comparison.changes} == {Kind.UNCHANGED}
    assert not comparison.regressed


def test_new_case_fails_only_when_its_outcome_fails_the_run():
    base = baseline_of(("a", P))
    results = [
        make_case("a", P),
        make_case("new_pass", P),
        make_case("new_fail", F),
        make_case("new_unsup", U),
        make_case("new_ns", NS, "API-5"),
    ]
    comparison = compare_with(base, results, strict=False)
    assert {c.case_id.split("::")[1] for c in comparison.of(Kind.NEW)} == {
        "new_pass",
        "new_fail",
        "new_unsup",
        "new_ns",
    }
    assert [c.case_id.split("::")[1] for c in comparison.regressions] == ["new_fail"]
    strict = compare_with(base, results, strict=True)
    assert sorted(c.case_id.split("::")[1] for c in strict.regressions) == ["new_fail", "new_ns"]


def test_removed_case_is_reported_not_fatal():
    comparison = compare_with(baseline_of(("a", P), ("gone", F)), [make_case("a", P)], strict=False)
    assert [c.case_id for c in comparison.of(Kind.REMOVED)] == ["cases/test_x.py::gone"]
    assert not comparison.regressed


def test_deselected_case_is_not_run_rather_than_removed():
    known = {"cases/test_x.py::a", "cases/test_x.py::skipped_by_k"}
    found = kinds(
        baseline_of(("a", P), ("skipped_by_k", P), ("gone", P)),
        [make_case("a", P)],
        known_ids=known,
    )
    assert found == {"a": Kind.UNCHANGED, "skipped_by_k": Kind.NOT_RUN, "gone": Kind.REMOVED}


def test_interrupted_run_without_known_ids_calls_missing_cases_not_run():
    found = kinds(baseline_of(("a", P), ("b", P)), [make_case("a", P)], partial=True)
    assert found == {"a": Kind.UNCHANGED, "b": Kind.NOT_RUN}


@pytest.mark.parametrize(
    ("before", "after", "kind"),
    [
        (P, F, Kind.REGRESSION),
        (P, NS, Kind.REGRESSION),
        (P, U, Kind.REGRESSION),
        (U, F, Kind.REGRESSION),
        (NS, F, Kind.REGRESSION),
        (F, E, Kind.REGRESSION),
        (P, E, Kind.REGRESSION),
        (E, E, Kind.REGRESSION),  # ERROR is never an accepted outcome
        (F, P, Kind.IMPROVEMENT),
        (E, P, Kind.IMPROVEMENT),
        (U, P, Kind.IMPROVEMENT),
        (NS, P, Kind.IMPROVEMENT),
        (P, INFO, Kind.CHANGED),
        (INFO, P, Kind.CHANGED),
        (E, F, Kind.CHANGED),
        (P, P, Kind.UNCHANGED),
        (F, F, Kind.UNCHANGED),
        (U, U, Kind.UNCHANGED),
    ],
)
def test_classification_against_a_baseline(before, after, kind):
    assert classify(before, after, error_always_regresses=True) is kind


def test_error_to_error_is_unchanged_between_two_runs():
    assert classify(E, E, error_always_regresses=False) is Kind.UNCHANGED


# ---------------------------------------------------------------- the file


def test_written_baseline_round_trips_sorted_and_readable(tmp_path):
    base = baseline_of(("b", F), ("a", P))
    path = write_baseline(tmp_path / "reports" / "baselines" / "reference.json", base)
    data = json.loads(path.read_text())
    assert data["baseline_version"] == 1
    assert (data["suite_version"], data["candidate"], data["profile"]) == (
        "0.1.0",
        "reference",
        "python27",
    )
    assert list(data["cases"]) == ["cases/test_x.py::a", "cases/test_x.py::b"]
    assert data["cases"]["cases/test_x.py::b"] == {"outcome": "FAIL", "clause": "DST-1"}
    loaded = load_baseline(path)
    assert loaded.expectations == base.expectations
    assert loaded.path == path


def test_update_keeps_notes_while_the_outcome_stays(tmp_path):
    previous = parse_baseline(
        {
            "baseline_version": 1,
            "suite_version": "0.1.0",
            "candidate": "reference",
            "candidate_version": "1.0",
            "profile": "python27",
            "created": "2026-01-01T00:00:00Z",
            "cases": {
                "cases/test_x.py::a": {"outcome": "FAIL", "clause": "DST-1", "note": "bug #12"},
                "cases/test_x.py::b": {"outcome": "FAIL", "clause": "DST-1", "note": "bug #13"},
            },
        }
    )
    updated = build_baseline(make_run(), [make_case("a", F), make_case("b", P)], previous)
    assert updated.expectations["cases/test_x.py::a"] == Entry(F, "DST-1", "bug #12")
    assert updated.expectations["cases/test_x.py::b"] == Entry(P, "DST-1", "")


def test_partial_update_merges_with_known_ids():
    previous = baseline_of(("a", F), ("b", F), ("gone", F))
    known = {"cases/test_x.py::a", "cases/test_x.py::b"}
    updated = build_baseline(make_run(), [make_case("a", P)], previous, known)
    assert updated.expectations == {
        "cases/test_x.py::a": Entry(P, "DST-1"),
        "cases/test_x.py::b": Entry(F, "DST-1"),
    }


# ---------------------------------------------------------------- bad baselines


def test_missing_baseline(tmp_path):
    with pytest.raises(BaselineMissing, match=r"no such baseline file.*--update-baseline"):
        load_baseline(tmp_path / "nope.json")


def test_truncated_baseline(tmp_path):
    path = write_baseline(tmp_path / "b.json", baseline_of(("a", P), ("b", F)))
    path.write_text(path.read_text()[:-20])
    with pytest.raises(BaselineCorrupt, match=r"not valid JSON .*truncated"):
        load_baseline(path)


def test_results_file_given_as_baseline(tmp_path, run_info):
    from conformance.reporting.results_json import write_results

    path = write_results(tmp_path / "results.json", run_info, [make_case("a")])
    with pytest.raises(BaselineCorrupt, match="looks like a results file"):
        load_baseline(path)


GOOD = {
    "baseline_version": 1,
    "suite_version": "0.1.0",
    "candidate": "reference",
    "candidate_version": "1.0",
    "profile": "python27",
    "created": "2026-01-01T00:00:00Z",
    "cases": {"cases/test_x.py::a": {"outcome": "PASS", "clause": "DST-1"}},
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"baseline_version": 2}, "baseline_version 2 is not supported"),
        ({"candidate": None}, "'candidate' is missing"),
        ({"cases": []}, "'cases' is missing or not an object"),
        (
            {"cases": {"cases/test_x.py::a": {"outcome": "GREEN", "clause": "DST-1"}}},
            "unknown outcome 'GREEN'",
        ),
        (
            {"cases": {"cases/test_x.py::a": {"outcome": "PASS", "clause": "dst"}}},
            "not a clause ID",
        ),
        ({"cases": {"just-a-name": {"outcome": "PASS", "clause": "DST-1"}}}, "not a case ID"),
        ({"cases": {"cases/test_x.py::a": "PASS"}}, "expected an object"),
    ],
)
def test_corrupt_baseline_fields(change, message):
    with pytest.raises(BaselineCorrupt, match=message):
        parse_baseline({**GOOD, **change})


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "suite_version",
            "0.0.9",
            "written for suite version '0.0.9', but this run is suite version '0.1.0'",
        ),
        ("candidate", "native", "written for candidate 'native'"),
        ("profile", "python311", "written for profile 'python311'"),
    ],
)
def test_mismatched_baseline(field, value, message):
    base = baseline_of(("a", P), **{field: value})
    with pytest.raises(BaselineMismatch, match=message):
        check_applies(base, make_run(), [make_case("a", P)])


def test_baseline_of_unknown_case_ids_is_a_mismatch():
    base = baseline_of(("other_suite_1", P), ("other_suite_2", F))
    with pytest.raises(
        BaselineMismatch, match="none of its 2 case IDs in the files this run collected"
    ):
        check_applies(base, make_run(), [make_case("a", P), make_case("b", P)])


def test_case_id_with_another_clause_is_a_mismatch():
    base = baseline_of(("a", P))
    with pytest.raises(BaselineMismatch, match="clause DST-1 in the baseline but EXC-1"):
        check_applies(base, make_run(), [make_case("a", P, "EXC-1")])


def test_every_baseline_error_is_a_reporting_error():
    for cls in (BaselineMissing, BaselineCorrupt, BaselineMismatch):
        assert issubclass(cls, BaselineError) and issubclass(cls, ReportingError)
        assert issubclass(cls, ValueError)


# ---------------------------------------------------------------- runs of some files only


def other_file(name: str, outcome: Outcome = P):
    return make_case(f"test_lib.py::{name}", outcome, "LIB-5")


def test_cases_of_files_not_collected_are_not_run_not_removed():
    base = build_baseline(make_run(), [make_case("a"), other_file("smtp", F)])
    known = {"cases/test_x.py::a"}  # `pytest cases/test_x.py`: test_lib.py not collected
    check_applies(base, make_run(), [make_case("a")], known)
    comparison = compare_with(base, [make_case("a")], strict=False, known_ids=known)
    assert [c.kind for c in comparison.changes] == [Kind.UNCHANGED, Kind.NOT_RUN]


def test_run_of_a_new_file_only_is_not_a_mismatch():
    base = build_baseline(make_run(), [make_case("a")])
    check_applies(base, make_run(), [other_file("new")], {"test_lib.py::new"})


def test_update_from_one_file_keeps_the_other_files():
    previous = build_baseline(
        make_run(), [make_case("a", F), make_case("gone"), other_file("smtp", F)]
    )
    known = {"cases/test_x.py::a"}
    updated = build_baseline(make_run(), [make_case("a", P)], previous, known)
    assert updated.expectations == {
        "cases/test_x.py::a": Entry(P, "DST-1"),
        "test_lib.py::smtp": Entry(F, "LIB-5"),
    }
