"""`diff OLD NEW`: newly failing, newly passing, changed, new and removed; exit status."""

from __future__ import annotations

import io
import json

import pytest

from conformance.model import Outcome
from conformance.reporting import diff
from conformance.reporting.baseline import build_baseline, write_baseline
from conformance.reporting.results_json import write_results

from .conftest import make_case, make_run

P, F, E, INFO = Outcome.PASS, Outcome.FAIL, Outcome.ERROR, Outcome.INFORMATIONAL


def results_file(path, *pairs, **run_fields):
    clause = {INFO: "API-7"}
    return write_results(
        path,
        make_run(**run_fields),
        [make_case(name, o, clause.get(o, "DST-1")) for name, o in pairs],
    )


def call(*argv: object) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = diff.main([str(a) for a in argv], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def pair(tmp_path):
    old = results_file(
        tmp_path / "old.json",
        ("worse", P),
        ("better", F),
        ("same", F),
        ("info", P),
        ("err", E),
        ("gone", P),
    )
    new = results_file(
        tmp_path / "new.json",
        ("worse", F),
        ("better", P),
        ("same", F),
        ("info", INFO),
        ("err", E),
        ("fresh", F),
        candidate_version="1.2.4",
    )
    return old, new


def test_text_diff_lists_every_kind(pair):
    code, out, err = call(*pair)
    assert code == diff.EXIT_WORSE and err == ""
    sections = {block.split(" (")[0]: block for block in out.split("\n\n")[1:]}
    assert "cases/test_x.py::worse [DST-1] PASS -> FAIL" in sections["Newly failing"]
    assert "cases/test_x.py::fresh [DST-1] - -> FAIL" in sections["Newly failing"]
    assert "better [DST-1] FAIL -> PASS" in sections["Newly passing"]
    assert "info [API-7] PASS -> INFORMATIONAL" in sections["Changed"]
    assert "fresh" in sections["New cases"]
    assert "gone [DST-1] PASS -> -" in sections["Removed cases"]
    assert "2 newly failing, 1 newly passing, 1 changed, 1 new, 1 removed, 2 unchanged" in out


def test_json_diff(pair):
    code, out, _ = call(*pair, "--json")
    data = json.loads(out)
    assert code == 1 and data["newly_failing"] == 2
    kinds = {c["id"].split("::")[1]: c["kind"] for c in data["changes"]}
    assert kinds == {
        "worse": "regression",
        "better": "improvement",
        "info": "changed",
        "fresh": "new",
        "gone": "removed",
    }


def test_nothing_worse_exits_0(tmp_path):
    old = results_file(tmp_path / "a.json", ("x", F), ("y", P))
    new = results_file(tmp_path / "b.json", ("x", P), ("y", P))
    code, out, _ = call(old, new)
    assert code == diff.EXIT_SAME_OR_BETTER
    assert "Newly passing (1)" in out and "Newly failing" not in out


def test_other_candidate_is_noted_not_refused(tmp_path):
    old = results_file(tmp_path / "a.json", ("x", P), candidate="native")
    new = results_file(tmp_path / "b.json", ("x", P))
    code, out, _ = call(old, new)
    assert code == 0 and "comparing two candidates (native vs reference)" in out


def test_baseline_as_old(tmp_path):
    base = write_baseline(
        tmp_path / "base.json", build_baseline(make_run(), [make_case("x", E), make_case("y", F)])
    )
    new = results_file(tmp_path / "b.json", ("x", E), ("y", F))
    code, out, _ = call(base, new)
    assert code == 1  # as with --baseline: an ERROR is never accepted
    assert "OLD: " in out and "baseline reference" in out


def test_interrupted_new_run_calls_missing_cases_not_run(tmp_path):
    old = results_file(tmp_path / "a.json", ("x", P), ("y", P))
    new = results_file(tmp_path / "b.json", ("x", P), interrupted=True)
    code, out, _ = call(old, new)
    assert code == 0 and "Not run in NEW (1)" in out and "Removed" not in out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ('{"schema_version": 1, "run": {', "not valid JSON"),
        ('{"schema_version": 3, "run": {}, "summary": {}, "cases": []}', "schema_version 3"),
        ('{"hello": "world"}', "no schema_version"),
    ],
)
def test_bad_input_exits_2_with_a_message(tmp_path, content, message):
    good = results_file(tmp_path / "good.json", ("x", P))
    bad = tmp_path / "bad.json"
    if content is not None:
        bad.write_text(content)
    code, out, err = call(good, bad)
    assert code == diff.EXIT_BAD_INPUT and out == ""
    assert err.startswith("error: ") and message in err and str(bad) in err


def test_baseline_is_not_accepted_as_new(tmp_path):
    base = write_baseline(tmp_path / "base.json", build_baseline(make_run(), [make_case("x")]))
    code, _, err = call(base, base)
    assert code == 2 and "this is a baseline; NEW must be a results file" in err


def test_limit(tmp_path):
    old = results_file(tmp_path / "a.json", *[(f"c{i}", P) for i in range(5)])
    new = results_file(tmp_path / "b.json", *[(f"c{i}", F) for i in range(5)])
    _, out, _ = call(old, new, "--limit", "2")
    assert "... and 3 more" in out
