"""The HTML report: self-contained, escaped, and rendered by headless Chromium as intended."""

from __future__ import annotations

import re

import pytest

from conformance.model import Outcome
from conformance.reporting.comparison import Entry, compare
from conformance.reporting.html import render, write_html

from .chromium import dump_dom, find_chromium, parse_dom
from .conftest import make_case, mixed_results


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, request):
    """The report of the crafted run, as written and as Chromium's DOM after rendering it."""
    from .conftest import make_run

    tmp = tmp_path_factory.mktemp("html")
    results = mixed_results()
    old = {r.case_id: Entry(Outcome.PASS, r.clause.id) for r in results}
    comparison = compare(
        old,
        {r.case_id: Entry(r.outcome, r.clause.id) for r in results},
        error_always_regresses=True,
    )
    page = write_html(
        tmp / "report.html",
        make_run(),
        results,
        comparison=comparison,
        baseline_label="reports/baselines/reference.json",
    )
    return page, tmp


def test_report_is_self_contained(rendered):
    page, _ = rendered
    source = page.read_text()
    dom = parse_dom(source)
    for node in dom.iter():
        for name in ("src", "href", "action", "data", "poster"):
            value = node.attrs.get(name)
            if value is not None:
                assert value.startswith("#"), f"<{node.tag} {name}={value!r}> leaves the file"
    assert not dom.find_all("script") and not dom.find_all("link") and not dom.find_all("img")
    assert not re.search(r"url\(|@import", source)
    csp = dom.find_all("meta", http_equiv="Content-Security-Policy")
    assert csp and "default-src 'none'" in csp[0].attrs["content"]


def test_hostile_text_is_escaped_in_the_source():
    page = render(make_run_for_escape(), [make_case("e", expected="</td><script>x()</script>")])
    assert "<script>x()" not in page
    assert "&lt;/td&gt;&lt;script&gt;x()&lt;/script&gt;" in page


def make_run_for_escape():
    from .conftest import make_run

    return make_run(candidate="<img src=x onerror=alert(1)>", argv=("a&b",))


def test_empty_run_renders(tmp_path):
    from .conftest import make_run

    page = render(make_run(), [])
    assert "No case in this run recorded a destination verdict" in page
    assert "PASSED: 0 case(s)" in page


# ---------------------------------------------------------------- in Chromium


@pytest.fixture(scope="module")
def dom(rendered):
    page, tmp = rendered
    return parse_dom(dump_dom(page, tmp / "profile"))


def test_chromium_renders_title_and_verdict(dom):
    title = dom.find_all("title")[0].text
    assert title == "Conformance report: reference (4 regression(s) against the baseline)"
    verdict = dom.by_id("verdict")
    assert verdict.text == "4 regression(s) against the baseline"
    assert "bad" in verdict.classes()


def test_chromium_shows_the_family_summary(dom):
    table = dom.by_id("families")
    header = [th.text for th in table.find_all("thead")[0].find_all("th")]
    assert header == [
        "Family",
        "PASS",
        "INFORMATIONAL",
        "NON-STRICT",
        "UNSUPPORTED",
        "FAIL",
        "ERROR",
        "Total",
    ]
    rows = {
        tr.attrs["data-family"]: [td.text for td in tr.find_all("td")]
        for tr in table.find_all("tr")
        if "data-family" in tr.attrs
    }
    assert set(rows) == {"API", "DST", "EXC", "LIB", "P25", "all"}
    assert rows["DST"] == ["2", "0", "0", "0", "1", "0", "3"]
    assert rows["API"] == ["1", "1", "1", "0", "0", "0", "3"]
    assert rows["all"] == ["4", "1", "1", "1", "1", "1", "9"]


def test_chromium_shows_the_destination_truth_table(dom):
    table = dom.by_id("destinations")
    columns = [th.text for th in table.find_all("thead")[0].find_all("th")][1:]
    assert columns == ["tcp 7", "tcp 587", "udp 53"]
    body = table.find_all("tbody")[0]
    rows = [tr.find_all("th")[0].text for tr in body.find_all("tr")]
    assert rows == [
        "loopback (127.0.0.1)",
        "private-a (10.0.0.1)",
        "private-b (192.168.1.1)",
        "public-mail (93.184.215.14)",
    ]
    wrong = [td for td in table.find_all("td") if "wrong" in td.classes()]
    assert len(wrong) == 1
    assert wrong[0].attrs["data-destination"] == "private-b (192.168.1.1)"
    assert (wrong[0].attrs["data-port"], wrong[0].attrs["data-proto"]) == ("7", "tcp")
    assert wrong[0].find_all("span", class_="exp")[0].text == "blocked"
    assert wrong[0].find_all("span", class_="obs")[0].text == "allowed"
    ok = [td for td in table.find_all("td") if "ok" in td.classes()]
    assert len(ok) == 3
    link = wrong[0].find_all("a")[0].attrs["href"]
    target = dom.by_id(link[1:])
    assert target.attrs["data-case-id"] == "cases/test_dst.py::test_private_tcp[192.168.1.1-7]"


def test_chromium_shows_every_case_with_escaped_detail(dom):
    details = dom.by_id("cases").find_all("details")
    assert len(details) == 9
    by_id = {d.attrs["data-case-id"]: d for d in details}
    failing = by_id["cases/test_dst.py::test_private_tcp[192.168.1.1-7]"]
    assert "open" in failing.attrs  # failing cases are unfolded
    assert failing.find_all("dd", class_="observed")[0].text == "allowed: the canary got 5 bytes"
    assert '"head": "hello"' in failing.find_all("pre")[0].text
    hostile = by_id["cases/test_api.py::test_escaping"]
    assert hostile.find_all("dd", class_="expected")[0].text == (
        "<script>alert('x')</script> & | pipes |"
    )
    assert "<img src=http://example.invalid/x.png>" in hostile.find_all("pre")[0].text
    assert not dom.find_all("script") and not dom.find_all("img") and not dom.find_all("b")


def test_chromium_shows_the_baseline_comparison(dom):
    section = dom.by_id("baseline")
    regressions = section.find_all("ul", class_="changes regression")[0].find_all("li")
    texts = " ".join(li.text for li in regressions)
    assert len(regressions) == 4  # FAIL, ERROR, NON-STRICT, UNSUPPORTED were PASS
    assert "test_port25" in texts and "PASS → ERROR" in texts


def test_chromium_highlights_wrong_cells(rendered, tmp_path):
    """Computed styles: a wrong cell's background differs from a right one's."""
    if find_chromium() is None:
        pytest.skip("chromium is not installed (Debian: apt-get install -y chromium)")
    page, _ = rendered
    source = page.read_text()
    # A probe copy: without the CSP (which rightly forbids scripts) and with a
    # script that writes the computed colours into the DOM.
    source = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", source)
    probe = (
        "<script>const s = c => getComputedStyle(document.querySelector(c)).backgroundColor;"
        "document.body.dataset.wrong = s('#destinations td.wrong');"
        "document.body.dataset.ok = s('#destinations td.ok');</script>"
    )
    copy = tmp_path / "probe.html"
    copy.write_text(source.replace("</body>", probe + "</body>"))
    body = parse_dom(dump_dom(copy, tmp_path / "profile")).find_all("body")[0]
    assert body.attrs["data-wrong"] == "rgb(255, 156, 156)"
    assert body.attrs["data-ok"] != body.attrs["data-wrong"]
