"""The comparison page: candidates side by side, rendered by headless Chromium as intended."""

from __future__ import annotations

import pytest

from conformance.cli import main as cli_main
from conformance.model import Outcome
from conformance.reporting.errors import ReportingError
from conformance.reporting.results_json import ResultsFile, load_results, write_results
from conformance.reporting.side_by_side import SideBySide, render_html, render_markdown, write

from .chromium import dump_dom, parse_dom, screenshot
from .conftest import make_case, make_run, matrix

PRIVATE = "private-a (10.0.0.1)"
PUBLIC = "public-mail (93.184.215.14)"


def _results(name: str, leaks: bool, version: str = "1.0") -> ResultsFile:
    """A candidate's results: one blocked row (leaking or not), one allowed row, one LSN case."""
    leaked = "allowed" if leaks else "blocked"
    cases = (
        make_case("cases/test_dst.py::test_destination[a]",
                  Outcome.FAIL if leaks else Outcome.PASS, "DST-1",
                  evidence=(matrix(PRIVATE, 7, "tcp", "blocked", leaked),)),
        make_case("cases/test_dst.py::test_destination[b]", Outcome.PASS, "DST-10",
                  expected="allowed", observed="allowed",
                  evidence=(matrix(PUBLIC, 80, "tcp", "allowed", "allowed"),)),
        make_case("cases/test_lsn.py::test_listen", Outcome.UNSUPPORTED, "LSN-1"),
    )
    return ResultsFile(None, make_run(candidate=name, candidate_version=version), cases)


@pytest.fixture
def two() -> SideBySide:
    return SideBySide.of([_results("guard-a", leaks=False), _results("guard-b <i>", leaks=True)])


def test_families_side_by_side(two):
    assert two.names == ("guard-a", "guard-b <i>")
    assert two.families() == ("DST", "LSN")
    dst_b = two.family_tally(1, "DST")
    assert dst_b is not None and dst_b[Outcome.FAIL] == 1 and dst_b[Outcome.PASS] == 1


def test_truth_table_has_one_column_per_candidate(two):
    rows = two.rows()
    assert [(r.destination, r.label) for r in rows] == [(PRIVATE, "tcp 7"), (PUBLIC, "tcp 80")]
    assert [c.observed for c in two.cells(0, rows[0])] == ["blocked"]
    assert [c.wrong for c in two.cells(1, rows[0])] == [True]
    assert two.expected(rows[0]) == "blocked"


def test_a_candidate_twice_is_refused():
    with pytest.raises(ReportingError, match="more than once"):
        SideBySide.of([_results("x", False), _results("x", True)])


def test_markdown_marks_the_leak_and_escapes(two):
    text = render_markdown(two)
    assert "| DST | 2/2 P | 1/2 P, 1 F |" in text
    assert f"| {PRIVATE} | tcp 7 | blocked | blocked | **allowed** |" in text
    assert "<i>" not in text


def test_html_is_self_contained_and_escaped(two):
    page = render_html(two)
    assert "<i>" not in page and "guard-b &lt;i&gt;" in page
    assert "<script" not in page and "default-src 'none'" in page


def test_compare_command_writes_html_and_markdown(tmp_path, capsys):
    files = []
    for name, leaks in (("guard-a", False), ("guard-b", True)):
        loaded = _results(name, leaks)
        path = tmp_path / f"{name}.json"
        write_results(path, loaded.run, loaded.cases)
        files.append(str(path))
    out = tmp_path / "out" / "comparison.html"
    assert cli_main(["compare", *files, "--out", str(out)]) == 0
    assert out.is_file() and out.with_suffix(".md").is_file()
    assert load_results(files[0]).run.candidate == "guard-a"
    assert cli_main(["compare", str(tmp_path / "missing.json"), "--out", str(out)]) == 2
    assert "missing.json" in capsys.readouterr().err


def test_chromium_renders_the_comparison(two, tmp_path):
    out, _ = write(two.results, tmp_path / "comparison.html")
    dom = parse_dom(dump_dom(out, tmp_path / "profile"))
    families = dom.by_id("families")
    heads = [th.text for th in families.find_all("th") if th.attrs.get("data-candidate")]
    assert heads == ["guard-a", "guard-b <i>"]
    dst = families.find_all("tr", data_family="DST")[0]
    tones = [td.classes() for td in dst.find_all("td")]
    assert "ok" in tones[0] and "bad" in tones[1]
    leak = dom.by_id("truth").find_all("tr", data_destination=PRIVATE)[0]
    cells = {td.attrs["data-candidate"]: td for td in leak.find_all("td")
             if td.attrs.get("data-candidate")}
    assert cells["guard-a"].text == "blocked" and "right" in cells["guard-a"].classes()
    assert cells["guard-b <i>"].text == "allowed" and "wrong" in cells["guard-b <i>"].classes()


def test_chromium_screenshot_is_wide_enough(two, tmp_path):
    out, _ = write(two.results, tmp_path / "comparison.html")
    png = screenshot(out, tmp_path / "shot.png", tmp_path / "profile", width=1200, height=700)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size < 300_000
