"""The scratch copy (the work tree never written, files restored, copy removed)
and the mutants cosmic-ray's operators make."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.strength.scratch import COPIED, ScratchError, ScratchTree


def fake_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    for name in COPIED:
        if name.endswith((".py", ".toml")):
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            (repo / name).write_text("# file\n")
        else:
            (repo / name).mkdir(parents=True)
    (repo / "sandbox" / "policy.py").write_text("X = 1\n")
    return repo


def test_mutant_written_to_the_copy_then_restored(tmp_path: Path) -> None:
    repo = fake_repo(tmp_path)
    with ScratchTree.made(repo) as tree:
        root = tree.root
        assert tree.read("sandbox/policy.py") == "X = 1\n"
        with tree.mutated("sandbox/policy.py", "X = 2\n"):
            assert (root / "sandbox/policy.py").read_text() == "X = 2\n"
            assert (repo / "sandbox/policy.py").read_text() == "X = 1\n"
        assert (root / "sandbox/policy.py").read_text() == "X = 1\n"
        assert tree.env()["PYTHONPATH"] == str(root)
    assert not root.parent.exists()


def test_copy_removed_on_interrupt(tmp_path: Path) -> None:
    repo = fake_repo(tmp_path)
    with pytest.raises(KeyboardInterrupt), ScratchTree.made(repo) as tree:
        root = tree.root
        with tree.mutated("sandbox/policy.py", "X = 2\n"):
            raise KeyboardInterrupt
    assert not root.parent.exists()


def test_changed_copy_is_refused(tmp_path: Path) -> None:
    repo = fake_repo(tmp_path)
    with ScratchTree.made(repo) as tree:
        tree.read("sandbox/policy.py")
        (tree.root / "sandbox/policy.py").write_text("X = 3\n")
        with pytest.raises(ScratchError), tree.mutated("sandbox/policy.py", "X = 2\n"):
            pass


def test_mutants_keys_and_diff() -> None:
    pytest.importorskip("cosmic_ray", reason="cosmic-ray is the optional extra 'mutation'")
    from benchmarks.strength.mutants import diff, generate, mutated_source

    source = "def f(port):\n    return port == 25\n"
    ops = ("core/ReplaceComparisonOperator_Eq_NotEq", "core/NumberReplacer")
    mutants = list(generate("m.py", source, ops, per_site=1))
    assert [m.key for m in mutants] == ["m.py:2:16:ReplaceComparisonOperator_Eq_NotEq#0",
                                       "m.py:2:19:NumberReplacer#0"]
    assert len(list(generate("m.py", source, ops, per_site=2))) == 3
    text = mutated_source(source, mutants[1])
    assert "port == 26" in text
    assert "+    return port == 26" in diff(source, text, "m.py")


def test_no_mutants_in_postponed_annotations() -> None:
    pytest.importorskip("cosmic_ray", reason="cosmic-ray is the optional extra 'mutation'")
    from benchmarks.strength.mutants import generate

    ops = ("core/ReplaceBinaryOperator_BitOr_BitAnd",)
    body = "def f(x: int | None) -> int | str:\n    return x | 1\n"
    postponed = "from __future__ import annotations\n" + body
    assert [m.line for m in generate("m.py", postponed, ops)] == [3]
    assert [m.line for m in generate("m.py", body, ops)] == [1, 1, 2]


def test_run_order_takes_modules_in_turn_and_budget_parsing() -> None:
    pytest.importorskip("cosmic_ray", reason="cosmic-ray is the optional extra 'mutation'")
    import argparse

    from benchmarks.mutation import parse_duration, run_order
    from benchmarks.strength.mutants import Mutant
    from benchmarks.strength.scope import ModuleScope

    a, b = ModuleScope("a.py", "policy"), ModuleScope("b.py", "app")
    plan = {"a.py": [Mutant("a.py", "op", i, i, 0, 0) for i in range(3)],
            "b.py": [Mutant("b.py", "op", 0, 1, 0, 0)]}
    order = [(m.path, x.occurrence) for m, x in run_order((a, b), plan)]
    assert [p for p, _ in order[:2]] == ["a.py", "b.py"]
    assert sorted(order) == [("a.py", 0), ("a.py", 1), ("a.py", 2), ("b.py", 0)]
    assert order == [(m.path, x.occurrence) for m, x in run_order((a, b), plan)]
    assert (parse_duration("30m"), parse_duration("90s"), parse_duration("1.5h")) == \
        (1800, 90, 5400)
    with pytest.raises(argparse.ArgumentTypeError):
        parse_duration("soon")


def test_the_scope_is_all_of_sandbox() -> None:
    """The kill rate is reported over all of sandbox/: every module with code is in
    scope.toml (the package __init__ files hold no code a mutant could change)."""
    from benchmarks.strength.scope import load_scope

    root = Path(__file__).resolve().parents[2]
    modules = {p.relative_to(root).as_posix() for p in (root / "sandbox").rglob("*.py")
               if p.name != "__init__.py"}
    assert modules == {m.path for m in load_scope().modules}


def test_import_takes_missing_results_and_kills_over_survivals(tmp_path: Path) -> None:
    pytest.importorskip("cosmic_ray", reason="cosmic-ray is the optional extra 'mutation'")
    from benchmarks.mutation import import_results
    from benchmarks.strength.mutants import source_hash
    from benchmarks.strength.session import MutantResult, Session

    source = "X = 1\n"
    h = source_hash(source)

    def result(key: str, status: str, digest: str = h) -> MutantResult:
        return MutantResult(key, "sandbox/x.py", status, (), "", 1.0, digest, "")

    mine, theirs = Session(tmp_path / "a.jsonl"), Session(tmp_path / "b.jsonl")
    for r in (result("survives-here", "survived"), result("killed-here", "killed")):
        mine.record(r)
    for r in (result("survives-here", "killed"), result("killed-here", "survived"),
              result("only-there", "survived"), result("stale", "killed", "other")):
        theirs.record(r)
    assert import_results(mine, theirs, {"sandbox/x.py": source}) == 2
    again = Session.open(tmp_path / "a.jsonl")
    assert again.results["survives-here"].status == "killed"
    assert again.results["survives-here"].first_status == "survived"   # killed since
    assert again.results["killed-here"].status == "killed"
    assert again.results["only-there"].status == "survived"
    assert "stale" not in again.results


def test_a_run_cut_short_without_a_kill_is_no_verdict() -> None:
    pytest.importorskip("cosmic_ray", reason="cosmic-ray is the optional extra 'mutation'")
    from benchmarks.mutation import cut_short

    base = {"a": "PASS", "b": "PASS", "c": "PASS"}
    assert cut_short(base, {"a": "PASS"})                      # ended early, nothing failed
    assert not cut_short(base, {"a": "FAIL"})                  # stopped at its kill
    assert not cut_short(base, dict(base))                     # every case ran
    assert not cut_short(base, {})                             # no results: judged elsewhere
