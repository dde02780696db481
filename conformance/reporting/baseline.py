"""Baselines: the outcomes a candidate is known to have, so CI fails only on regressions.

Like web-platform-tests' expectation files: `reports/baselines/<candidate>.json`
records one outcome per case (plus an optional human note, e.g. a bug link,
kept across updates while the outcome stays the same). A run compared with
its baseline fails only when a case got worse, a case is ERROR, or a new
case fails. The format and the rules are documented in docs/results.md.
"""

from __future__ import annotations

import json
import time
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.leaks import base_case_id, is_leak_id
from conformance.model import CaseResult, Outcome, RunInfo
from conformance.reporting.comparison import Collected, Comparison, Entry, compare, module_of
from conformance.reporting.errors import BaselineCorrupt, BaselineMismatch, BaselineMissing
from conformance.reporting.files import atomic_write_text, read_json
from conformance.reporting.results_json import CLAUSE_ID

BASELINE_VERSION = 1
DEFAULT_DIR = Path("reports") / "baselines"


def default_path(candidate: str, root: Path = DEFAULT_DIR) -> Path:
    return root / f"{candidate}.json"


@dataclass(frozen=True)
class Baseline:
    suite_version: str
    candidate: str
    candidate_version: str
    profile: str
    created: str  # ISO 8601 UTC
    expectations: Mapping[str, Entry] = field(hash=False)
    path: Path | None = None

    def to_json(self) -> dict[str, Any]:
        cases: dict[str, dict[str, str]] = {}
        for case_id in sorted(self.expectations):
            entry = self.expectations[case_id]
            cases[case_id] = {"outcome": entry.outcome.value, "clause": entry.clause}
            if entry.note:
                cases[case_id]["note"] = entry.note
        return {
            "baseline_version": BASELINE_VERSION,
            "suite_version": self.suite_version,
            "candidate": self.candidate,
            "candidate_version": self.candidate_version,
            "profile": self.profile,
            "created": self.created,
            "cases": cases,
        }


# ---------------------------------------------------------------- reading


def load_baseline(path: Path | str) -> Baseline:
    """Read a baseline file; BaselineMissing or BaselineCorrupt say what is wrong."""
    source = Path(path)
    data = read_json(
        source,
        what="baseline file",
        error=BaselineCorrupt,
        missing=BaselineMissing,
        if_missing="; create it with --update-baseline",
        if_corrupt="the baseline is truncated or not a baseline; "
        "regenerate it with --update-baseline",
    )
    return parse_baseline(data, source)


def parse_baseline(data: Any, source: Path | None = None) -> Baseline:
    where = str(source) if source is not None else "baseline"
    if not isinstance(data, dict):
        raise BaselineCorrupt(f"{where}: expected a JSON object, got {type(data).__name__}")
    if "baseline_version" not in data:
        hint = (
            " (this looks like a results file: pass it to `diff`, or make a baseline "
            "with --update-baseline)"
            if "schema_version" in data
            else ""
        )
        raise BaselineCorrupt(f"{where}: no baseline_version: not a baseline file{hint}")
    if data["baseline_version"] != BASELINE_VERSION:
        raise BaselineCorrupt(
            f"{where}: baseline_version {data['baseline_version']!r} is not supported; "
            f"this suite reads {BASELINE_VERSION}"
        )
    for key in ("suite_version", "candidate", "candidate_version", "profile", "created"):
        if not isinstance(data.get(key), str):
            raise BaselineCorrupt(f"{where}: '{key}' is missing or not a string")
    cases = data.get("cases")
    if not isinstance(cases, dict):
        raise BaselineCorrupt(f"{where}: 'cases' is missing or not an object of case IDs")
    expectations: dict[str, Entry] = {}
    for case_id, raw in cases.items():
        expectations[case_id] = _entry(case_id, raw, where)
    return Baseline(
        suite_version=data["suite_version"],
        candidate=data["candidate"],
        candidate_version=data["candidate_version"],
        profile=data["profile"],
        created=data["created"],
        expectations=expectations,
        path=source,
    )


def _entry(case_id: str, raw: Any, where: str) -> Entry:
    here = f"{where}: case {case_id!r}"
    if "::" not in case_id or case_id != case_id.strip():
        raise BaselineCorrupt(
            f"{here}: not a case ID (a pytest node id like 'cases/test_x.py::test_y')"
        )
    if not isinstance(raw, dict):
        raise BaselineCorrupt(f"{here}: expected an object with 'outcome' and 'clause'")
    try:
        outcome = Outcome(raw.get("outcome"))
    except ValueError:
        names = ", ".join(o.value for o in Outcome)
        raise BaselineCorrupt(
            f"{here}: unknown outcome {raw.get('outcome')!r} (one of {names})"
        ) from None
    clause = raw.get("clause")
    if not isinstance(clause, str) or not CLAUSE_ID.match(clause):
        raise BaselineCorrupt(f"{here}: clause {clause!r} is not a clause ID like 'DST-1'")
    note = raw.get("note", "")
    if not isinstance(note, str):
        raise BaselineCorrupt(f"{here}: note must be a string")
    return Entry(outcome, clause, note)


# ---------------------------------------------------------------- applying


def check_applies(
    baseline: Baseline,
    run: RunInfo,
    results: Iterable[CaseResult],
    known_ids: Collection[str] | None = None,
) -> None:
    """Raise BaselineMismatch when `baseline` was not written for this suite and candidate."""
    where = str(baseline.path) if baseline.path else "baseline"
    fix = "; regenerate it with --update-baseline or pass the right --baseline"
    for what, theirs, ours in (
        ("suite version", baseline.suite_version, run.suite_version),
        ("candidate", baseline.candidate, run.candidate),
        ("profile", baseline.profile, run.profile),
    ):
        if theirs != ours:
            raise BaselineMismatch(
                f"{where}: written for {what} {theirs!r}, but this run is {what} {ours!r}{fix}"
            )
    results = list(results)
    collected = Collected.of(known_ids if known_ids is not None else (r.case_id for r in results))
    # Only the baseline's cases in files this run collected can be checked.
    in_scope = [i for i in baseline.expectations if module_of(i) in collected.modules]
    if in_scope and not any(i in collected.ids for i in in_scope):
        sample = ", ".join(sorted(in_scope)[:3])
        raise BaselineMismatch(
            f"{where}: none of its {len(in_scope)} case IDs in the files this run collected "
            f"is known to this suite (e.g. {sample}): it is not a baseline of this catalogue{fix}"
        )
    for result in results:
        entry = baseline.expectations.get(result.case_id)
        if entry is not None and entry.clause != result.clause.id:
            raise BaselineMismatch(
                f"{where}: case {result.case_id!r} checks clause {entry.clause} in the baseline "
                f"but {result.clause.id} in this suite: the case IDs mean other cases{fix}"
            )


def entries(results: Iterable[CaseResult]) -> dict[str, Entry]:
    return {r.case_id: Entry(r.outcome, r.clause.id) for r in results}


def compare_with(
    baseline: Baseline,
    results: Iterable[CaseResult],
    *,
    strict: bool,
    known_ids: Collection[str] | None = None,
    partial: bool = False,
) -> Comparison:
    return compare(
        baseline.expectations,
        entries(results),
        strict=strict,
        error_always_regresses=True,
        known_ids=known_ids,
        partial=partial,
    )


# ---------------------------------------------------------------- updating


def build_baseline(
    run: RunInfo,
    results: Iterable[CaseResult],
    previous: Baseline | None = None,
    known_ids: Collection[str] | None = None,
) -> Baseline:
    """The baseline for this run.

    With `known_ids` (every case collected, before deselection), a partial
    run updates only the cases it ran and keeps the previous entries of the
    others that may still exist (collected, or in a file not collected this
    run); without it, the baseline is exactly this run. A previous note is
    kept while its case's outcome stays the same.
    """
    new = entries(results)
    expectations: dict[str, Entry] = {}
    if previous is not None and known_ids is not None:
        collected = Collected.of(known_ids)
        ran = set(new)   # a leak of a case that ran this time and leaked no more is gone
        expectations.update(
            {k: v for k, v in previous.expectations.items() if collected.may_still_exist(k)
             and not (is_leak_id(k) and base_case_id(k) in ran)}
        )
    for case_id, entry in new.items():
        old = previous.expectations.get(case_id) if previous is not None else None
        note = old.note if old is not None and old.outcome is entry.outcome else ""
        expectations[case_id] = Entry(entry.outcome, entry.clause, note)
    return Baseline(
        suite_version=run.suite_version,
        candidate=run.candidate,
        candidate_version=run.candidate_version,
        profile=run.profile,
        created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(run.finished or time.time())),
        expectations=expectations,
    )


def write_baseline(path: Path, baseline: Baseline) -> Path:
    atomic_write_text(
        Path(path), json.dumps(baseline.to_json(), indent=1, ensure_ascii=False) + "\n"
    )
    return Path(path)
