"""JUnit XML parsed back: one testcase per case, outcomes mapped, properties present."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from conformance.model import Outcome
from conformance.reporting.junit import classname_and_name, write_junit

from .conftest import make_case


def parse(tmp_path, run_info, results, strict=False):
    path = write_junit(tmp_path / "junit.xml", run_info, results, strict)
    root = ET.parse(path).getroot()
    suite = root.find("testsuite")
    assert suite is not None
    cases = {f"{tc.get('classname')}::{tc.get('name')}": tc for tc in suite.iter("testcase")}
    return root, suite, cases


def props(element) -> dict[str, str]:
    return {p.get("name"): p.get("value") for p in element.find("properties").iter("property")}


def test_one_testcase_per_case_with_counts(tmp_path, run_info, results):
    root, suite, cases = parse(tmp_path, run_info, results)
    assert root.tag == "testsuites"
    assert len(cases) == len(results)
    assert suite.get("tests") == str(len(results))
    assert (suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("1", "1", "1")
    assert root.get("failures") == "1"
    assert props(suite)["candidate"] == "reference"
    assert props(suite)["suite_version"] == "0.1.0"


def test_outcomes_map_to_junit_elements(tmp_path, run_info, results):
    _, _, cases = parse(tmp_path, run_info, results)
    for result in results:
        classname, name = classname_and_name(result.case_id)
        tc = cases[f"{classname}::{name}"]
        p = props(tc)
        assert p["clause"] == result.clause.id
        assert p["level"] == result.clause.level.value
        assert p["outcome"] == result.outcome.value
        children = {child.tag for child in tc} - {"properties"}
        if result.outcome is Outcome.FAIL:
            assert children == {"failure"}
            assert tc.find("failure").get("message") == result.reason
            assert "canary got 5 bytes" in tc.find("failure").text
        elif result.outcome is Outcome.ERROR:
            assert children == {"error"}
            assert "status -11" in tc.find("error").get("message")
        elif result.outcome is Outcome.UNSUPPORTED:
            assert children == {"skipped"}
            assert "nntplib" in tc.find("skipped").get("message")
        else:  # PASS, NON-STRICT, INFORMATIONAL pass, outcome kept as a property
            assert children == {"system-out"}


def test_classname_follows_pytest():
    assert classname_and_name("cases/test_dst.py::test_x[10.0.0.1-7]") == (
        "cases.test_dst",
        "test_x[10.0.0.1-7]",
    )
    assert classname_and_name("cases/sub/test_a.py::TestK::test_y") == (
        "cases.sub.test_a",
        "TestK::test_y",
    )


def test_strict_makes_non_strict_a_failure(tmp_path, run_info):
    results = [make_case("s", Outcome.NON_STRICT, "API-5")]
    _, suite, cases = parse(tmp_path, run_info, results, strict=True)
    assert suite.get("failures") == "1"
    assert cases["cases.test_x::s"].find("failure").get("type") == "NON-STRICT"


def test_control_characters_and_markup_survive(tmp_path, run_info, results):
    _, _, cases = parse(tmp_path, run_info, results)
    tc = cases["cases.test_api::test_escaping"]
    assert props(tc)["expected"] == "<script>alert('x')</script> & | pipes |"
    assert props(tc)["observed"] == "<b>bold</b> `tick` \\x00\\x07 nul"
    assert "\\u001b[31m" in tc.find("system-out").text  # JSON-escaped evidence
