"""The exit-code contract of finish_run, and that reports survive every kind of bad news."""

from __future__ import annotations

import io
import json
import os
import xml.etree.ElementTree as ET

import pytest

from conformance.model import Outcome
from conformance.reporting import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_UNUSABLE,
    REPORT_FILES,
    BaselineMismatch,
    check_baseline,
    finish_run,
)
from conformance.reporting.baseline import load_baseline
from conformance.reporting.results_json import load_results

from .conftest import make_case, make_run

P, F, E = Outcome.PASS, Outcome.FAIL, Outcome.ERROR
NS, U, INFO = Outcome.NON_STRICT, Outcome.UNSUPPORTED, Outcome.INFORMATIONAL


def cases(*outcomes: Outcome):
    clause = {NS: "API-5", INFO: "API-7"}
    return [make_case(f"c{i}", o, clause.get(o, "DST-1")) for i, o in enumerate(outcomes)]


def run(results, report_dir=None, baseline=None, update=False, strict=False, **kw):
    out = io.StringIO()
    code = finish_run(
        kw.pop("run", make_run(strict=strict)),
        results,
        report_dir,
        baseline,
        update,
        strict,
        out=out,
        **kw,
    )
    return code, out.getvalue()


# ---------------------------------------------------------------- without a baseline


@pytest.mark.parametrize(
    ("outcomes", "strict", "expected"),
    [
        ((P, P), False, EXIT_OK),
        ((P, INFO, U), False, EXIT_OK),
        ((P, NS), False, EXIT_OK),
        ((P, NS), True, EXIT_FAILED),
        ((P, F), False, EXIT_FAILED),
        ((P, E), False, EXIT_FAILED),
        ((U, INFO), True, EXIT_OK),
        ((), False, EXIT_OK),
    ],
)
def test_exit_code_without_baseline(outcomes, strict, expected):
    assert run(cases(*outcomes), strict=strict)[0] == expected


def test_all_reports_are_written(tmp_path, results):
    code, out = run(results, tmp_path / "reports")
    assert code == EXIT_FAILED
    for name in REPORT_FILES.values():
        assert (tmp_path / "reports" / name).stat().st_size > 0, name
    assert len(load_results(tmp_path / "reports" / "results.json").cases) == len(results)
    ET.parse(tmp_path / "reports" / "junit.xml")
    assert "reports:" in out


def test_interrupted_run_writes_results_and_is_not_a_success(tmp_path):
    code, out = run(cases(P), tmp_path, run=make_run(interrupted=True))
    assert code == EXIT_UNUSABLE
    assert json.loads((tmp_path / "results.json").read_text())["run"]["interrupted"] is True
    assert "interrupted" in out


def test_unwritable_report_dir_is_reported_and_not_a_success(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    code, out = run(cases(P), blocker / "reports")
    assert code == EXIT_UNUSABLE
    assert "results report not written" in out


def test_one_broken_writer_does_not_cost_the_others(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("renderer bug")

    monkeypatch.setattr("conformance.reporting.html.write_html", broken)
    code, out = run(cases(P), tmp_path)
    assert code == EXIT_UNUSABLE
    assert "html report not written" in out and "renderer bug" in out
    assert {p.name for p in tmp_path.iterdir()} == {"results.json", "junit.xml", "summary.md"}


# ---------------------------------------------------------------- with a baseline


@pytest.fixture
def baseline_file(tmp_path):
    """A baseline where c0 passes, c1 fails (known), c2 is UNSUPPORTED."""
    path = tmp_path / "baselines" / "reference.json"
    code, out = run(cases(P, F, U), update=True, baseline=path)
    assert code == EXIT_OK, out
    assert "baseline written" in out
    return path


def test_known_failure_passes_with_baseline(baseline_file):
    code, out = run(cases(P, F, U), baseline=baseline_file)
    assert code == EXIT_OK
    assert "0 regression(s)" in out


def test_regression_fails_with_baseline(baseline_file):
    code, out = run(cases(F, F, U), baseline=baseline_file)
    assert code == EXIT_FAILED
    assert "Regressions (1):" in out and "cases/test_x.py::c0 [DST-1] PASS -> FAIL" in out


def test_improvement_is_listed_and_passes(baseline_file):
    code, out = run(cases(P, P, P), baseline=baseline_file)
    assert code == EXIT_OK
    assert "Improvements (2):" in out


def test_error_fails_even_with_baseline(baseline_file):
    assert run(cases(P, E, U), baseline=baseline_file)[0] == EXIT_FAILED


def test_new_failing_case_fails_and_removed_case_does_not(baseline_file):
    results = [*cases(P, F), make_case("brand_new", F)]  # c2 removed
    code, out = run(results, baseline=baseline_file)
    assert code == EXIT_FAILED
    assert "New cases (1):" in out and "Removed cases (1):" in out
    results = [*cases(P, F), make_case("brand_new", P)]
    assert run(results, baseline=baseline_file)[0] == EXIT_OK


def test_strict_new_non_strict_case_fails(baseline_file):
    results = [*cases(P, F, U), make_case("new_should", NS, "API-5")]
    assert run(results, baseline=baseline_file)[0] == EXIT_OK
    assert run(results, baseline=baseline_file, strict=True)[0] == EXIT_FAILED


def test_deselected_cases_are_not_removed(baseline_file):
    known = {f"cases/test_x.py::c{i}" for i in range(3)}
    code, out = run(cases(P), baseline=baseline_file, known_ids=known)
    assert code == EXIT_OK
    assert "2 not run" in out and "0 removed" in out


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda p: p.unlink(), "no such baseline file"),
        (lambda p: p.write_text(p.read_text()[:40]), "not valid JSON"),
        (
            lambda p: p.write_text(
                p.read_text().replace('"baseline_version": 1', '"baseline_version": 9')
            ),
            "baseline_version 9",
        ),
        (
            lambda p: p.write_text(p.read_text().replace('"reference"', '"native"')),
            "candidate 'native'",
        ),
        (lambda p: p.write_text(p.read_text().replace('"0.1.0"', '"0.0.1"')), "suite version"),
        (
            lambda p: p.write_text(p.read_text().replace("::c", "::renamed_")),
            "none of its 3 case IDs in the files this run collected is known",
        ),
    ],
)
def test_bad_baseline_exits_2_with_a_message_and_reports_are_still_written(
    baseline_file, tmp_path, damage, message
):
    damage(baseline_file)
    code, out = run(cases(P, F, U), tmp_path / "reports", baseline=baseline_file)
    assert code == EXIT_UNUSABLE
    assert out.count("error: ") == 1 and message in out and str(baseline_file) in out
    assert (tmp_path / "reports" / "results.json").exists()


def test_check_baseline_fails_fast(baseline_file):
    check_baseline(baseline_file, make_run())
    with pytest.raises(BaselineMismatch, match="candidate"):
        check_baseline(baseline_file, make_run(candidate="native"))


# ---------------------------------------------------------------- updating


def test_update_default_path_is_reports_baselines_candidate(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _ = run(cases(P, F), update=True)
    assert code == EXIT_OK  # the run's failures are now the expectations
    written = load_baseline(tmp_path / "reports" / "baselines" / "reference.json")
    assert {e.outcome for e in written.expectations.values()} == {P, F}


def test_update_with_an_error_case_still_fails(tmp_path):
    code, _ = run(cases(P, E), update=True, baseline=tmp_path / "b.json")
    assert code == EXIT_FAILED  # ERROR gives no verdict; no baseline can accept it
    assert (tmp_path / "b.json").exists()


def test_update_refuses_an_interrupted_run(tmp_path):
    path = tmp_path / "b.json"
    code, out = run(cases(P), update=True, baseline=path, run=make_run(interrupted=True))
    assert code == EXIT_UNUSABLE and not path.exists()
    assert "interrupted" in out


def test_update_replaces_a_corrupt_baseline(tmp_path):
    path = tmp_path / "b.json"
    path.write_text("{garbage")
    code, out = run(cases(P), update=True, baseline=path)
    assert code == EXIT_OK and "replacing" in out
    assert load_baseline(path).candidate == "reference"


def test_update_summarises_what_changed(baseline_file):
    code, out = run(cases(P, P, F), update=True, baseline=baseline_file)
    assert code == EXIT_OK
    assert "baseline updated" in out and "1 worse, 1 better" in out
    assert not [p for p in os.listdir(baseline_file.parent) if p.endswith(".tmp")]
