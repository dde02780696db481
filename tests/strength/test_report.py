"""The strength report: counts per module, survivors with diff and verdict, timing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.strength.report import (
    Invocation,
    ModuleMutants,
    classify,
    tally,
    write_reports,
)
from benchmarks.strength.session import MutantResult, Session
from benchmarks.strength.verdicts import Verdict, VerdictFileError, load_verdicts


def result(key: str, status: str, module: str = "sandbox/policy.py", first: str = "",
           killers: tuple[str, ...] = ()) -> MutantResult:
    return MutantResult(key, module, status, killers, "", 10.0, "h",
                        f"--- a\n+++ b\n-x {key}\n+y {key}", 1, first)


MODULES = [ModuleMutants("sandbox/policy.py", "policy", ("k1", "k2", "k3", "k4", "k5", "k6")),
           ModuleMutants("sandbox/app/socket.py", "app", ("s1", "s2"))]
RESULTS = {
    "k1": result("k1", "killed", killers=("test_dst.py::t",)),
    "k2": result("k2", "survived"),
    "k3": result("k3", "survived"),
    "k4": result("k4", "killed", first="survived", killers=("test_dst.py::new",)),
    "k5": result("k5", "killed-non-strict", killers=("test_opt.py::soft",)),
    "s1": result("s1", "timeout", module="sandbox/app/socket.py"),
    "s2": result("s2", "killed", module="sandbox/app/socket.py", first="killed-non-strict"),
}
VERDICTS = {"k2": Verdict("k2", "equivalent", "the branch is unreachable"),
            "k3": Verdict("k3", "open", "DST-6"),
            "k5": Verdict("k5", "should-level", "only the errno (SHOULD) changes")}


def test_classify() -> None:
    kinds = {k: classify(r, VERDICTS.get(k)) for k, r in RESULTS.items()}
    assert kinds == {"k1": "killed", "k2": "equivalent", "k3": "open", "k4": "killed-since",
                     "k5": "non-strict", "s1": "killed", "s2": "killed-since"}


def test_survivor_without_verdict_is_open() -> None:
    assert classify(result("x", "survived"), None) == "open"


def test_a_non_strict_kill_counts_only_once_reviewed_as_should_level() -> None:
    soft = result("x", "killed-non-strict", killers=("test_api.py::errno",))
    assert classify(soft, None) == "open"
    assert classify(soft, Verdict("x", "equivalent", "no")) == "open"
    assert classify(soft, Verdict("x", "should-level", "the errno only")) == "non-strict"


def test_tally_counts_and_rate() -> None:
    policy, app = tally(MODULES, RESULTS, VERDICTS)
    assert (policy.generated, policy.run, policy.killed, policy.killed_since,
            policy.non_strict, policy.survived, policy.equivalent, policy.open) == \
        (6, 5, 2, 1, 1, 2, 1, 1)
    assert policy.rate == pytest.approx(3 / 4)
    assert (app.generated, app.run, app.killed, app.killed_since, app.rate) == (2, 2, 2, 1, 1.0)


def test_write_reports(tmp_path: Path) -> None:
    timing = [Invocation(("sandbox/policy.py",), 5, 300.0, 2, 3.0, 12.0)]
    write_reports(tmp_path, MODULES, RESULTS, VERDICTS, timing)
    summary = (tmp_path / "summary.md").read_text()
    assert "| `sandbox/policy.py` | policy | 6 | 5 | 2 | 1 | 1 | 2 | 1 | 0 | 1 | 75.0% |" \
        in summary
    assert "open survivors in the policy-bearing modules: 1 (target 0)" in summary
    assert "`policy.py`: 5 mutants in 5.0 min, 60.0 s per mutant" in summary
    assert "mean 10.0 s" in summary
    survivors = (tmp_path / "survivors.md").read_text()
    for text in ("## Open (1)", "### `k3`", "open, clause DST-6", "-x k3",
                 "## Equivalent (no behaviour can change) (1)",
                 "equivalent: the branch is unreachable",
                 "## Killed since (2)", "killed since by `test_dst.py::new`",
                 "NON-STRICT only, by `test_opt.py::soft`"):
        assert text in survivors
    assert "### `k1`" not in survivors
    data = json.loads((tmp_path / "mutants.json").read_text())
    assert {m["key"]: m["kind"] for m in data["mutants"]}["k3"] == "open"
    assert "diff" not in next(m for m in data["mutants"] if m["key"] == "k1")


def test_session_resumes_and_remembers_first_status(tmp_path: Path) -> None:
    path = tmp_path / "session.jsonl"
    session = Session.open(path)
    session.record(result("k2", "survived"))
    again = Session.open(path)
    assert again.current("k2", "h") is not None and again.current("k2", "other") is None
    later = again.record(result("k2", "killed", killers=("c",)))
    assert later.first_status == "survived"
    assert Session.open(path).results["k2"].first_status == "survived"


def test_verdict_file(tmp_path: Path) -> None:
    good = tmp_path / "v.toml"
    good.write_text('[[survivor]]\nkey = "k"\nverdict = "open"\nclause = "DST-6"\n')
    assert load_verdicts(good)["k"].describe() == "open, clause DST-6"
    bad = tmp_path / "bad.toml"
    bad.write_text('[[survivor]]\nkey = "k"\nverdict = "equivalent"\n')
    with pytest.raises(VerdictFileError):
        load_verdicts(bad)
    twice = tmp_path / "twice.toml"
    twice.write_text(good.read_text() * 2)
    with pytest.raises(VerdictFileError, match="a second verdict"):
        load_verdicts(twice)


def test_bundled_verdict_file_loads() -> None:
    load_verdicts()


def test_unspecified_is_its_own_kind_and_not_killed() -> None:
    verdicts = {**VERDICTS, "k3": Verdict("k3", "unspecified", "only the errno changes")}
    assert classify(RESULTS["k3"], verdicts["k3"]) == "unspecified"
    policy, _ = tally(MODULES, RESULTS, verdicts)
    assert (policy.unspecified, policy.open, policy.equivalent) == (1, 0, 1)
    assert policy.rate == pytest.approx(3 / 4)     # still counted against the rate
    assert policy.specified_rate == pytest.approx(3 / 3)   # left out of this one


def test_killed_with_a_killed_since_verdict_counts_as_killed_since() -> None:
    claimed = Verdict("k1", "killed-since", "test_dst.py::t")
    assert classify(RESULTS["k1"], claimed) == "killed-since"
