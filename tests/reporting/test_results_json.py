"""The results file: schema, round trip, atomic and interrupted writes, corrupt inputs."""

from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass
from pathlib import Path

import pytest

from conformance.model import Outcome
from conformance.reporting.errors import ResultsFileError
from conformance.reporting.results_json import (
    SCHEMA_FILE,
    SCHEMA_VERSION,
    build_document,
    jsonable,
    load_results,
    parse_document,
    write_results,
)

from .conftest import make_case, make_run, matrix, mixed_results

jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is in the 'test' extras")


def schema_validator():
    schema = json.loads(SCHEMA_FILE.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_written_file_validates_against_the_schema(tmp_path, run_info, results):
    path = write_results(tmp_path / "results.json", run_info, results)
    data = json.loads(path.read_text())
    schema_validator().validate(data)
    assert data["schema_version"] == SCHEMA_VERSION == 1
    assert data["run"]["candidate"] == "reference"
    assert data["summary"]["total"] == len(results)
    assert data["summary"]["outcomes"] == {
        "PASS": 4,
        "INFORMATIONAL": 1,
        "NON-STRICT": 1,
        "UNSUPPORTED": 1,
        "FAIL": 1,
        "ERROR": 1,
    }
    assert data["summary"]["families"]["DST"]["FAIL"] == 1
    assert data["summary"]["failed"] is True
    ids = [case["id"] for case in data["cases"]]
    assert ids == sorted(ids)
    case = next(c for c in data["cases"] if c["outcome"] == "FAIL")
    assert set(case) == {
        "id",
        "clause",
        "level",
        "requirement",
        "outcome",
        "expected",
        "observed",
        "evidence",
        "duration",
        "reason",
    }
    assert case["evidence"][0]["matrix"]["observed"] == "allowed"


def test_round_trip_preserves_every_field(tmp_path, run_info, results):
    loaded = load_results(write_results(tmp_path / "r.json", run_info, results))
    assert loaded.run == run_info
    assert list(loaded.cases) == sorted(results, key=lambda r: r.case_id)
    for case in loaded.cases:
        original = next(r for r in results if r.case_id == case.case_id)
        assert [dict(e) for e in case.evidence] == [dict(e) for e in original.evidence]


def test_interrupted_run_is_written_and_says_so(tmp_path):
    run = make_run(interrupted=True)
    path = write_results(tmp_path / "r.json", run, [make_case("a")])
    data = json.loads(path.read_text())
    assert data["run"]["interrupted"] is True
    schema_validator().validate(data)
    assert load_results(path).run.interrupted


def test_empty_run_is_valid(tmp_path, run_info):
    path = write_results(tmp_path / "r.json", run_info, [])
    schema_validator().validate(json.loads(path.read_text()))
    assert load_results(path).cases == ()


def test_write_is_atomic_and_leaves_no_temporary_files(tmp_path, run_info, results):
    target = tmp_path / "deep" / "dir" / "results.json"
    write_results(target, run_info, results[:1])
    write_results(target, run_info, results)
    assert [p.name for p in target.parent.iterdir()] == ["results.json"]
    assert load_results(target).cases.__len__() == len(results)


def test_failed_write_keeps_the_old_file(tmp_path, run_info, results, monkeypatch):
    target = tmp_path / "results.json"
    write_results(target, run_info, results)
    before = target.read_text()

    def broken_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.fsync", broken_fsync)
    with pytest.raises(OSError):
        write_results(target, run_info, results[:1])
    assert target.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_evidence_that_is_not_json_is_converted(tmp_path, run_info):
    @dataclass(frozen=True)
    class Call:
        op: str
        data: bytes

    case = make_case(
        "odd",
        evidence=(
            {
                "bytes": b"\x00\xff",
                "nan": math.nan,
                "inf": -math.inf,
                "call": Call("send", b"x"),
                "set": {3, 1},
                "tuple": (1, 2),
                "outcome": Outcome.PASS,
                "surrogate": "\udcff",
            },
        ),
    )
    path = write_results(tmp_path / "r.json", run_info, [case])
    data = json.loads(path.read_text())  # strict JSON: no NaN literal
    evidence = data["cases"][0]["evidence"][0]
    assert evidence["bytes"] == {"$bytes": "AP8="}
    assert evidence["nan"] == {"$float": "nan"}
    assert evidence["inf"] == {"$float": "-inf"}
    assert evidence["call"] == {"op": "send", "data": {"$bytes": "eA=="}}
    assert evidence["tuple"] == [1, 2]
    assert evidence["outcome"] == "PASS"
    assert evidence["surrogate"] == "\udcff"  # written as the JSON escape \udcff
    schema_validator().validate(data)


def test_jsonable_leaves_plain_data_alone():
    data = {"a": [1, 2.5, "x", None, True], "b": {"c": {}}}
    assert jsonable(data) == data


def test_duplicate_case_ids_are_refused_when_writing(tmp_path, run_info):
    with pytest.raises(ValueError, match="two results"):
        write_results(tmp_path / "r.json", run_info, [make_case("a"), make_case("a")])
    assert not (tmp_path / "r.json").exists()


def test_malformed_matrix_entry_is_kept_but_not_as_matrix(tmp_path, run_info):
    case = make_case(
        "m",
        evidence=(
            {"matrix": {"destination": "x", "port": 7}},
            matrix("y (192.0.2.1)", 7, "tcp", "blocked", "blocked"),
        ),
    )
    data = json.loads(write_results(tmp_path / "r.json", run_info, [case]).read_text())
    evidence = data["cases"][0]["evidence"]
    assert evidence[0] == {"invalid_matrix": {"destination": "x", "port": 7}}
    assert evidence[1]["matrix"]["destination"] == "y (192.0.2.1)"
    schema_validator().validate(data)


# ---------------------------------------------------------------- corrupt inputs


@pytest.fixture
def good_document(run_info) -> dict:
    return build_document(run_info, mixed_results())


def corrupt(document: dict, how: str) -> dict:
    doc = copy.deepcopy(document)
    if how == "schema 2":
        doc["schema_version"] = 2
    elif how == "schema 0":
        doc["schema_version"] = 0
    elif how == "schema text":
        doc["schema_version"] = "1"
    elif how == "no schema":
        del doc["schema_version"]
    elif how == "no run":
        del doc["run"]
    elif how == "run field missing":
        del doc["run"]["candidate"]
    elif how == "started is text":
        doc["run"]["started"] = "yesterday"
    elif how == "strict is a number":
        doc["run"]["strict"] = 1
    elif how == "argv not strings":
        doc["run"]["argv"] = ["run", 3]
    elif how == "cases not a list":
        doc["cases"] = {}
    elif how == "unknown outcome":
        doc["cases"][0]["outcome"] = "MAYBE"
    elif how == "unknown level":
        doc["cases"][0]["level"] = "COULD"
    elif how == "bad clause id":
        doc["cases"][0]["clause"] = "dst one"
    elif how == "case field missing":
        del doc["cases"][0]["observed"]
    elif how == "evidence not objects":
        doc["cases"][0]["evidence"] = ["text"]
    elif how == "matrix without shape":
        doc["cases"][0]["evidence"] = [{"matrix": {"destination": "x"}}]
    elif how == "negative duration":
        doc["cases"][0]["duration"] = -1
    elif how == "empty id":
        doc["cases"][0]["id"] = ""
    else:
        raise AssertionError(how)
    return doc


SCHEMA_EXPRESSIBLE = [
    "schema 2",
    "schema 0",
    "schema text",
    "no schema",
    "no run",
    "run field missing",
    "started is text",
    "strict is a number",
    "argv not strings",
    "cases not a list",
    "unknown outcome",
    "unknown level",
    "bad clause id",
    "case field missing",
    "evidence not objects",
    "matrix without shape",
    "negative duration",
    "empty id",
]


@pytest.mark.parametrize("how", SCHEMA_EXPRESSIBLE)
def test_loader_and_schema_both_reject(good_document, how):
    bad = corrupt(good_document, how)
    with pytest.raises(ResultsFileError):
        parse_document(bad)
    assert not schema_validator().is_valid(bad), f"the JSON Schema accepts: {how}"


def test_good_document_passes_both(good_document):
    parse_document(good_document)
    schema_validator().validate(good_document)


def test_summary_that_disagrees_with_cases_is_rejected(good_document):
    good_document["summary"]["outcomes"]["FAIL"] = 0
    with pytest.raises(ResultsFileError, match="summary does not match"):
        parse_document(good_document)


def test_duplicate_ids_are_rejected(good_document):
    good_document["cases"].append(copy.deepcopy(good_document["cases"][0]))
    good_document["summary"] = build_document(make_run(), [])["summary"]
    with pytest.raises(ResultsFileError, match="appears twice"):
        parse_document(good_document)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such results file"),
        ("", "not valid JSON"),
        ("[]", "expected a JSON object"),
        ("\xff\xfe", "not valid JSON"),
    ],
)
def test_unreadable_files(tmp_path, content, message):
    path = tmp_path / "results.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ResultsFileError, match=message) as info:
        load_results(path)
    assert str(path) in str(info.value)


def test_truncated_file_is_reported_with_its_position(tmp_path, run_info, results):
    path = write_results(tmp_path / "results.json", run_info, results)
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    with pytest.raises(ResultsFileError, match=r"not valid JSON .* line \d+ column \d+.*truncated"):
        load_results(path)


def test_newer_schema_version_says_so(tmp_path, good_document):
    good_document["schema_version"] = 7
    path = tmp_path / "r.json"
    path.write_text(json.dumps(good_document))
    with pytest.raises(ResultsFileError, match=r"newer suite.*reads schema_version 1"):
        load_results(path)


def test_schema_file_is_packaged_next_to_the_module():
    assert SCHEMA_FILE.is_file()
    assert SCHEMA_FILE.parent.name == "schema"
    assert Path(SCHEMA_FILE).suffix == ".json"
