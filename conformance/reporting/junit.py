"""JUnit XML for CI systems: one testcase per case, clause and level as properties.

FAIL -> <failure>, ERROR -> <error>, UNSUPPORTED -> <skipped> with the reason;
NON-STRICT and INFORMATIONAL pass (CI dashboards would otherwise count them
as broken) but carry `outcome` as a property so they can be found.
Under --strict a NON-STRICT case is written as a failure, matching the exit code.
"""

from __future__ import annotations

import datetime
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path

from conformance.model import CaseResult, Outcome, RunInfo
from conformance.reporting.files import atomic_write_text
from conformance.reporting.results_json import jsonable, sorted_results
from conformance.reporting.tally import Tally

SUITE_NAME = "gae-sockets-conformance"

# XML 1.0 cannot carry most control characters, not even escaped; evidence can.
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(value: str) -> str:
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", value)


def classname_and_name(case_id: str) -> tuple[str, str]:
    """'cases/test_dst.py::test_x[a]' -> ('cases.test_dst', 'test_x[a]'), as pytest writes them."""
    path, sep, name = case_id.partition("::")
    if not sep:
        return "cases", case_id
    module = path.removesuffix(".py").replace("/", ".")
    return module, name


def build_tree(run: RunInfo, results: Iterable[CaseResult], strict: bool = False) -> ET.Element:
    cases = sorted_results(results)
    tally = Tally.of(cases)
    strict_failures = tally[Outcome.NON_STRICT] if strict else 0
    suite = ET.Element(
        "testsuite",
        {
            "name": SUITE_NAME,
            "tests": str(tally.total),
            "failures": str(tally[Outcome.FAIL] + strict_failures),
            "errors": str(tally[Outcome.ERROR]),
            "skipped": str(tally[Outcome.UNSUPPORTED]),
            "time": f"{max(run.finished - run.started, 0.0):.3f}",
            "timestamp": _iso(run.started),
            "hostname": _text(run.candidate),
        },
    )
    props = ET.SubElement(suite, "properties")
    for key, value in run.to_json().items():
        shown = " ".join(value) if isinstance(value, list) else str(value)
        ET.SubElement(props, "property", {"name": key, "value": _text(shown)})
    for case in cases:
        suite.append(_testcase(case, strict))
    root = ET.Element(
        "testsuites",
        {
            "name": SUITE_NAME,
            "tests": suite.get("tests", "0"),
            "failures": suite.get("failures", "0"),
            "errors": suite.get("errors", "0"),
            "skipped": suite.get("skipped", "0"),
            "time": suite.get("time", "0"),
        },
    )
    root.append(suite)
    ET.indent(root)
    return root


def _testcase(case: CaseResult, strict: bool) -> ET.Element:
    classname, name = classname_and_name(case.case_id)
    element = ET.Element(
        "testcase",
        {
            "classname": _text(classname),
            "name": _text(name),
            "time": f"{case.duration:.3f}",
        },
    )
    props = ET.SubElement(element, "properties")
    for key, value in (
        ("clause", case.clause.id),
        ("level", case.clause.level.value),
        ("outcome", case.outcome.value),
        ("requirement", case.clause.requirement),
        ("expected", case.expected),
        ("observed", case.observed),
    ):
        ET.SubElement(props, "property", {"name": key, "value": _text(value)})
    message = _text(case.reason or f"expected: {case.expected}; observed: {case.observed}")
    detail = _text(_detail(case))
    if case.outcome is Outcome.FAIL or (strict and case.outcome is Outcome.NON_STRICT):
        failure = ET.SubElement(
            element, "failure", {"message": message, "type": case.outcome.value}
        )
        failure.text = detail
    elif case.outcome is Outcome.ERROR:
        error = ET.SubElement(element, "error", {"message": message, "type": "ERROR"})
        error.text = detail
    elif case.outcome is Outcome.UNSUPPORTED:
        ET.SubElement(element, "skipped", {"message": _text(case.reason or "unsupported")})
    else:
        out = ET.SubElement(element, "system-out")
        out.text = detail
    return element


def _detail(case: CaseResult) -> str:
    lines = [
        f"{case.clause.id} {case.clause.level.value}: {case.clause.requirement}",
        f"outcome:  {case.outcome.value}",
        f"expected: {case.expected}",
        f"observed: {case.observed}",
    ]
    if case.reason:
        lines.append(f"reason:   {case.reason}")
    if case.evidence:
        lines.append("evidence:")
        lines.extend(
            "  " + json.dumps(jsonable(dict(e)), ensure_ascii=False, sort_keys=True)
            for e in case.evidence
        )
    return "\n".join(lines)


def _iso(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S")


def dumps(run: RunInfo, results: Iterable[CaseResult], strict: bool = False) -> str:
    body = ET.tostring(build_tree(run, results, strict), encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


def write_junit(
    path: Path, run: RunInfo, results: Iterable[CaseResult], strict: bool = False
) -> Path:
    atomic_write_text(Path(path), dumps(run, results, strict))
    return Path(path)
