"""The Markdown job summary: verdict, tables, and text that cannot break a table."""

from __future__ import annotations

from conformance.model import Outcome
from conformance.reporting.comparison import Entry, compare
from conformance.reporting.markdown import cell, code, render

from .conftest import make_case, make_run


def test_summary_has_verdict_family_table_and_problem_cases(run_info, results):
    text = render(run_info, results)
    assert "❌ **Failed**: 2 of 9 case(s) fail the run" in text
    assert "| DST | 2 | 0 | 0 | 0 | 1 | 0 | 3 |" in text
    assert "| **All** | 4 | 1 | 1 | 1 | 1 | 1 | 9 |" in text
    assert "**Destination truth table: 1 wrong cell(s)**" in text
    assert "| private-b (192.168.1.1) | 7 | tcp | blocked | allowed |" in text
    problems = text.split("### Cases that did not pass (4)")[1]
    assert problems.index("| ERROR |") < problems.index("| FAIL |") < problems.index("| NON-STRICT")


def test_every_table_row_has_the_same_number_of_cells(run_info, results):
    for block in render(run_info, results).split("\n\n"):
        rows = [line for line in block.splitlines() if line.startswith("|")]
        if rows:
            widths = {len(_split_row(row)) for row in rows}
            assert len(widths) == 1, block


def _split_row(row: str) -> list[str]:
    cells, current, escaped = [], "", False
    for char in row.strip().strip("|"):
        if char == "|" and not escaped:
            cells.append(current)
            current = ""
        else:
            current += char
        escaped = char == "\\" and not escaped
    return [*cells, current]


def test_cells_are_one_line_and_escaped():
    assert cell("a | b\nc") == "a \\| b c"
    assert cell("<b>x</b>") == "\\<b\\>x\\</b\\>"
    assert cell("x" * 300).endswith("…") and len(cell("x" * 300)) == 200
    assert code("a`b") == "`` a`b ``"
    assert code("p|q") == "`p\\|q`"


def test_passing_run_and_strict_and_interrupted():
    passing = [make_case("a"), make_case("b", Outcome.NON_STRICT, "API-5")]
    assert "✅ **Passed**" in render(make_run(), passing)
    assert "❌ **Failed**: 1 of 2" in render(make_run(strict=True), passing, strict=True)
    assert "⚠️ **Interrupted**" in render(make_run(interrupted=True), passing)


def test_baseline_section_lists_regressions_and_improvements():
    results = [make_case("a", Outcome.FAIL), make_case("b", Outcome.PASS)]
    old = {
        "cases/test_x.py::a": Entry(Outcome.PASS, "DST-1"),
        "cases/test_x.py::b": Entry(Outcome.FAIL, "DST-1"),
    }
    new = {r.case_id: Entry(r.outcome, r.clause.id) for r in results}
    text = render(make_run(), results, comparison=compare(old, new), baseline_label="base.json")
    assert "❌ **1 regression(s)** against the baseline" in text
    assert "### Against the baseline base.json" in text
    assert "**Regressions (1)**" in text and "- `cases/test_x.py::a` DST-1: PASS → FAIL" in text
    assert "**Improvements (1)**" in text
