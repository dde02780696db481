"""The results file: the run's one machine-readable record, and its loader.

The format is a contract (documented in docs/results.md, described by
schema/results.schema.json): `schema_version` changes whenever a reader of
the old format could misread the new one. The loader validates with the
standard library only, so the harness needs no JSON Schema package at run
time; tests check the JSON Schema and this loader agree.
"""

from __future__ import annotations

import base64
import dataclasses
import itertools
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.model import CaseResult, Level, Outcome, RunInfo
from conformance.reporting.errors import ResultsFileError
from conformance.reporting.files import atomic_write_text, read_json
from conformance.reporting.matrix import MATRIX_KEY, matrix_entry
from conformance.reporting.tally import Tally, family_tallies, run_failed

SCHEMA_VERSION = 1
SCHEMA_FILE = Path(__file__).with_name("schema") / "results.schema.json"

NOT_RESULTS = "the file is truncated or not a results file"

CLAUSE_ID = re.compile(r"^[A-Z][A-Z0-9]*-[1-9][0-9]*$")

_RUN_FIELDS: Mapping[str, type | tuple[type, ...]] = {
    "suite_version": str,
    "candidate": str,
    "candidate_version": str,
    "profile": str,
    "python": str,
    "platform": str,
    "started": (int, float),
    "finished": (int, float),
    "strict": bool,
    "interrupted": bool,
    "argv": list,
}
_CASE_FIELDS: Mapping[str, type | tuple[type, ...]] = {
    "id": str,
    "clause": str,
    "level": str,
    "requirement": str,
    "outcome": str,
    "expected": str,
    "observed": str,
    "evidence": list,
    "duration": (int, float),
    "reason": str,
}


@dataclass(frozen=True)
class ResultsFile:
    """A loaded, validated results file."""

    path: Path | None
    run: RunInfo
    cases: tuple[CaseResult, ...]

    def by_id(self) -> dict[str, CaseResult]:
        return {case.case_id: case for case in self.cases}


# ---------------------------------------------------------------- writing


def sorted_results(results: Iterable[CaseResult]) -> list[CaseResult]:
    """Cases in case-ID order, so two runs' files diff line by line (xdist reorders)."""
    ordered = sorted(results, key=lambda r: r.case_id)
    for before, after in itertools.pairwise(ordered):
        if before.case_id == after.case_id:
            raise ValueError(
                f"case {before.case_id!r} has two results; the harness reported it twice"
            )
    return ordered


def build_document(run: RunInfo, results: Iterable[CaseResult]) -> dict[str, Any]:
    """The results document as plain JSON data."""
    cases = sorted_results(results)
    document = {
        "schema_version": SCHEMA_VERSION,
        "run": jsonable(run.to_json()),
        "summary": _summary(cases, run.strict),
        "cases": [_case_json(case) for case in cases],
    }
    # Never write a file this suite could not read back: a harness bug shows
    # here, with the case named, instead of in next week's `diff`.
    try:
        parse_document(document)
    except ResultsFileError as exc:
        raise ValueError(f"refusing to write an invalid results file: {exc}") from None
    return document


def _case_json(case: CaseResult) -> dict[str, Any]:
    data = jsonable(case.to_json())
    # A malformed truth-table entry costs its table cell, not the results file.
    data["evidence"] = [
        {("invalid_matrix" if k == MATRIX_KEY else k): v for k, v in entry.items()}
        if MATRIX_KEY in entry and matrix_entry(entry) is None
        else entry
        for entry in data["evidence"]
    ]
    return data


def dumps(run: RunInfo, results: Iterable[CaseResult]) -> str:
    """The document as text: one case per line, so two runs' files diff case by case.

    (Also several times faster than an indented dump, which Python encodes
    without its C accelerator.)
    """
    document = build_document(run, results)

    def one(value: Any, indent: int | None = None) -> str:
        return json.dumps(value, ensure_ascii=False, allow_nan=False, indent=indent)

    head = ",\n".join(
        f'"{key}": {one(document[key])}' for key in ("schema_version", "run", "summary")
    )
    cases = ",\n".join(one(case) for case in document["cases"])
    return "{" + head + ',\n"cases": [\n' + cases + ("\n" if cases else "") + "]}\n"


def write_results(path: Path, run: RunInfo, results: Iterable[CaseResult]) -> Path:
    """Write the results file atomically; also right for interrupted runs (run.interrupted)."""
    atomic_write_text(Path(path), dumps(run, results))
    return Path(path)


def _summary(cases: Sequence[CaseResult], strict: bool) -> dict[str, Any]:
    return {
        "total": len(cases),
        "outcomes": Tally.of(cases).to_json(),
        "families": {fam: t.to_json() for fam, t in family_tallies(cases).items()},
        "failed": run_failed(cases, strict),
    }


def jsonable(value: Any) -> Any:
    """Evidence as strict JSON: bytes tagged as base64, dataclasses as dicts, NaN as text.

    Evidence comes from journals and call records; a stray bytes value or
    NaN must not cost the whole run its results file.
    """
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"$float": repr(value)}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$bytes": base64.b64encode(bytes(value)).decode("ascii")}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value))
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return [jsonable(v) for v in sorted(value, key=repr)]
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "value") and hasattr(value, "name"):  # enums
        return jsonable(value.value)
    return repr(value)


# ---------------------------------------------------------------- reading


def load_results(path: Path | str) -> ResultsFile:
    """Read and validate a results file; ResultsFileError says what is wrong."""
    source = Path(path)
    data = read_json(source, what="results file", error=ResultsFileError,
                     if_corrupt=NOT_RESULTS)
    return parse_document(data, source)


def parse_document(data: Any, source: Path | None = None) -> ResultsFile:
    """Validate results data already parsed from JSON."""
    where = str(source) if source is not None else "results"
    if not isinstance(data, dict):
        raise ResultsFileError(f"{where}: expected a JSON object, got {type(data).__name__}")
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        if "schema_version" not in data:
            hint = "no schema_version: not a results file of this suite"
        elif type(version) is int and version > SCHEMA_VERSION:
            hint = f"schema_version {version} was written by a newer suite"
        else:
            hint = f"schema_version {version!r} is not supported"
        hint += f"; this suite reads schema_version {SCHEMA_VERSION}"
        raise ResultsFileError(f"{where}: {hint}")
    for key, kind in (("run", dict), ("summary", dict), ("cases", list)):
        if not isinstance(data.get(key), kind):
            raise ResultsFileError(f"{where}: '{key}' is missing or not a JSON {kind.__name__}")
    _check_fields(data["run"], _RUN_FIELDS, f"{where}: run")
    if not all(isinstance(arg, str) for arg in data["run"]["argv"]):
        raise ResultsFileError(f"{where}: run: every argv entry must be a string")
    run = RunInfo.from_json(data["run"])
    cases = []
    seen: set[str] = set()
    for index, raw in enumerate(data["cases"]):
        case = _parse_case(raw, f"{where}: cases[{index}]")
        if case.case_id in seen:
            raise ResultsFileError(f"{where}: case {case.case_id!r} appears twice")
        seen.add(case.case_id)
        cases.append(case)
    expected_summary = _summary(cases, run.strict)
    stored = {k: data["summary"].get(k) for k in expected_summary}
    if stored != expected_summary:
        raise ResultsFileError(
            f"{where}: the summary does not match the cases (edited by hand?): "
            f"stored {json.dumps(stored)}, counted {json.dumps(expected_summary)}"
        )
    return ResultsFile(source, run, tuple(cases))


def _parse_case(raw: Any, where: str) -> CaseResult:
    if not isinstance(raw, dict):
        raise ResultsFileError(f"{where}: expected an object")
    _check_fields(raw, _CASE_FIELDS, where)
    where = f"{where} ({raw['id']!r})"
    if not raw["id"].strip():
        raise ResultsFileError(f"{where}: empty case id")
    if not CLAUSE_ID.match(raw["clause"]):
        raise ResultsFileError(f"{where}: clause {raw['clause']!r} is not a clause ID like 'DST-1'")
    if raw["level"] not in {level.value for level in Level}:
        raise ResultsFileError(f"{where}: unknown level {raw['level']!r}")
    if raw["outcome"] not in {outcome.value for outcome in Outcome}:
        raise ResultsFileError(f"{where}: unknown outcome {raw['outcome']!r}")
    for item in raw["evidence"]:
        if not isinstance(item, dict):
            raise ResultsFileError(f"{where}: every evidence entry must be an object")
        if MATRIX_KEY in item and matrix_entry(item) is None:
            raise ResultsFileError(
                f"{where}: evidence 'matrix' entry lacks the agreed shape "
                "{destination, port, proto, expected, observed}"
            )
    if raw["duration"] < 0:
        raise ResultsFileError(f"{where}: negative duration")
    return CaseResult.from_json(raw)


def _check_fields(obj: Mapping[str, Any], fields: Mapping[str, Any], where: str) -> None:
    for name, kind in fields.items():
        if name not in obj:
            raise ResultsFileError(f"{where}: missing field '{name}'")
        value = obj[name]
        bad_bool = isinstance(value, bool) and kind is not bool
        if bad_bool or not isinstance(value, kind):
            raise ResultsFileError(f"{where}: field '{name}' has the wrong type ({value!r})")
