"""The HTML report: one self-contained file, readable offline, safe to open.

No external resources and no script: styles are inline and a Content
Security Policy forbids loading anything, so the report renders the same
from a CI artifact, an e-mail attachment or a file:// URL. Every string
that came from a candidate is escaped (evidence holds raw network bytes).
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable, Sequence
from html import escape
from pathlib import Path

from conformance.model import CaseResult, RunInfo
from conformance.reporting.comparison import SECTIONS, Comparison, section
from conformance.reporting.files import atomic_write_text
from conformance.reporting.matrix import TruthTable, truth_table
from conformance.reporting.results_json import jsonable, sorted_results
from conformance.reporting.tally import (
    OUTCOME_ORDER,
    Tally,
    family_tallies,
    headline,
    is_failing,
    needs_attention,
)

EVIDENCE_LIMIT = 200  # entries per case shown; the results file has them all

HEADLINES = {  # by tally.Headline.kind
    "interrupted": "INTERRUPTED after {total} case(s): results are incomplete",
    "regressions": "{count} regression(s) against the baseline",
    "no-regressions": "no regressions against the baseline",
    "failed": "FAILED: {count} of {total} case(s) fail the run",
    "passed": "PASSED: {total} case(s), none fails the run",
}

_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.5em;margin:0 0 .3em}h2{margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5em 0}
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}
thead th{background:#f0f0f0}td.num{text-align:right}
.verdict{display:inline-block;padding:.3em .8em;border-radius:4px;font-weight:bold}
.verdict.ok{background:#d4f7d4}.verdict.bad{background:#ffd6d6}.verdict.warn{background:#fff1c2}
.o-PASS{color:#176d17}.o-FAIL,.o-ERROR{color:#b00000;font-weight:bold}
.o-NON-STRICT{color:#8a5a00}.o-UNSUPPORTED{color:#666}.o-INFORMATIONAL{color:#225}
td.zero{color:#bbb}
#destinations td.cell{font-family:ui-monospace,monospace;font-size:12px;white-space:nowrap}
#destinations td.ok{background:#eefaee}
#destinations td.wrong{background:#ff9c9c;font-weight:bold;outline:2px solid #b00000}
#destinations td.empty{color:#bbb;text-align:center}
details.case{border:1px solid #ddd;margin:.3em 0;padding:.2em .5em}
details.case>summary{cursor:pointer}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.1em 1em}dt{font-weight:bold}dd{margin:0}
pre{background:#f7f7f7;padding:.5em;overflow:auto;max-height:30em;white-space:pre-wrap}
.muted{color:#777}
"""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def render(
    run: RunInfo,
    results: Iterable[CaseResult],
    *,
    strict: bool = False,
    comparison: Comparison | None = None,
    baseline_label: str = "",
) -> str:
    cases = sorted_results(results)
    anchors = {case.case_id: f"case-{index}" for index, case in enumerate(cases, 1)}
    verdict_of = headline(run, cases, strict, comparison)
    verdict = verdict_of.text(HEADLINES)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Conformance report: {_e(run.candidate)} ({_e(verdict)})</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>gae-sockets-conformance: {_e(run.candidate)} {_e(run.candidate_version)}</h1>",
        f'<p id="verdict" class="verdict {verdict_of.tone}">{_e(verdict)}</p>',
        _run_info(run),
        _families(cases),
    ]
    if comparison is not None:
        parts.append(_comparison(comparison, anchors, baseline_label))
    parts.append(_truth_table(truth_table(cases), anchors))
    parts.append(_problems(cases, anchors, strict))
    parts.append(_cases(cases, anchors, strict))
    parts.append("</body></html>\n")
    return "\n".join(parts)


def write_html(path: Path, run: RunInfo, results: Iterable[CaseResult], **kwargs: object) -> Path:
    atomic_write_text(Path(path), render(run, results, **kwargs))  # type: ignore[arg-type]
    return Path(path)


def _when(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _run_info(run: RunInfo) -> str:
    rows = [
        ("Suite version", run.suite_version),
        ("Candidate", run.candidate),
        ("Candidate version", run.candidate_version),
        ("Profile", run.profile),
        ("Python", run.python),
        ("Platform", run.platform),
        ("Started", _when(run.started)),
        ("Finished", _when(run.finished)),
        ("Duration", f"{max(run.finished - run.started, 0):.1f} s"),
        ("Strict", "yes" if run.strict else "no"),
        ("Interrupted", "yes" if run.interrupted else "no"),
        ("Command", " ".join(run.argv)),
    ]
    body = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows)
    return f'<table id="run-info">{body}</table>'


def _count_cells(tally: Tally) -> str:
    cells = []
    for outcome in OUTCOME_ORDER:
        n = tally[outcome]
        cls = "num zero" if n == 0 else f"num o-{outcome.value}"
        cells.append(f'<td class="{cls}" data-outcome="{outcome.value}">{n}</td>')
    return "".join(cells) + f'<td class="num total">{tally.total}</td>'


def _families(cases: Sequence[CaseResult]) -> str:
    head = "".join(f'<th class="o-{o.value}">{o.value}</th>' for o in OUTCOME_ORDER)
    rows = "".join(
        f'<tr data-family="{_e(family)}"><th>{_e(family)}</th>{_count_cells(tally)}</tr>'
        for family, tally in family_tallies(cases).items()
    )
    total = f'<tr data-family="all"><th>All</th>{_count_cells(Tally.of(cases))}</tr>'
    return (
        '<section id="summary"><h2>Summary by clause family</h2>'
        f'<table id="families"><thead><tr><th>Family</th>{head}<th>Total</th></tr></thead>'
        f"<tbody>{rows}</tbody><tfoot>{total}</tfoot></table></section>"
    )


def _case_link(case_id: str, anchors: dict[str, str]) -> str:
    anchor = anchors.get(case_id)
    if anchor is None:
        return f"<code>{_e(case_id)}</code>"
    return f'<a href="#{anchor}"><code>{_e(case_id)}</code></a>'


def _comparison(comparison: Comparison, anchors: dict[str, str], label: str) -> str:
    parts = [f'<section id="baseline"><h2>Against the baseline {_e(label)}</h2>']
    for name, kind in SECTIONS:
        changes = section(comparison, kind)
        if not changes:
            continue
        slug = (kind.value if kind else "regression").replace(" ", "-")
        items = "".join(
            f"<li>{_case_link(c.case_id, anchors)} [{_e(c.clause)}] "
            f"{_e(c.before.value if c.before else '-')} &rarr; "
            f"{_e(c.after.value if c.after else '-')}"
            + (f' <span class="muted">{_e(c.note)}</span>' if c.note else "")
            + "</li>"
            for c in changes
        )
        parts.append(f'<h3>{_e(name)} ({len(changes)})</h3><ul class="changes {slug}">{items}</ul>')
    if len(parts) == 1:
        parts.append("<p>Every case has its baseline outcome.</p>")
    parts.append("</section>")
    return "".join(parts)


def _truth_table(table: TruthTable, anchors: dict[str, str]) -> str:
    title = '<section id="truth-table"><h2>Destination truth table</h2>'
    if not table:
        return title + "<p>No case in this run recorded a destination verdict.</p></section>"
    head = "".join(
        f'<th data-port="{_e(port)}" data-proto="{_e(proto)}">{_e(proto)} {_e(port)}</th>'
        for port, proto in table.columns
    )
    rows = []
    for destination in table.destinations:
        cells = []
        for port, proto in table.columns:
            found = table.at(destination, (port, proto))
            if not found:
                cells.append('<td class="empty">&middot;</td>')
                continue
            wrong = any(cell.wrong for cell in found)
            lines = "<br>".join(
                f'<a href="#{anchors.get(cell.case_id, "")}" title="{_e(cell.case_id)}">'
                f'<span class="exp">{_e(cell.expected)}</span> / '
                f'<span class="obs">{_e(cell.observed)}</span></a>'
                for cell in found
            )
            cls = "cell wrong" if wrong else "cell ok"
            cells.append(
                f'<td class="{cls}" data-destination="{_e(destination)}" data-port="{_e(port)}" '
                f'data-proto="{_e(proto)}">{lines}</td>'
            )
        rows.append(f"<tr><th>{_e(destination)}</th>{''.join(cells)}</tr>")
    n_wrong = len(table.wrong_cells)
    note = (
        f'<p>Each cell: <span class="exp">expected</span> / <span class="obs">observed</span>. '
        f"<strong>{n_wrong}</strong> wrong cell(s), highlighted.</p>"
    )
    return (
        f'{title}{note}<table id="destinations"><thead><tr><th>Destination</th>{head}</tr>'
        f"</thead><tbody>{''.join(rows)}</tbody></table></section>"
    )


def _problems(cases: Sequence[CaseResult], anchors: dict[str, str], strict: bool) -> str:
    bad = needs_attention(cases, strict)
    if not bad:
        return '<section id="problems"><h2>Problems</h2><p>None.</p></section>'
    items = "".join(
        f'<li><span class="o-{c.outcome.value}">{c.outcome.value}</span> '
        f"{_case_link(c.case_id, anchors)} [{_e(c.clause.id)}] "
        f"{_e(_short(c.reason or c.observed))}</li>"
        for c in bad
    )
    return f'<section id="problems"><h2>Problems ({len(bad)})</h2><ul>{items}</ul></section>'


def _cases(cases: Sequence[CaseResult], anchors: dict[str, str], strict: bool) -> str:
    parts = [f'<section id="cases"><h2>Cases ({len(cases)})</h2>']
    for case in cases:
        opened = " open" if is_failing(case.outcome, strict) else ""
        evidence = [
            json.dumps(jsonable(dict(e)), ensure_ascii=False, sort_keys=True)
            for e in case.evidence[:EVIDENCE_LIMIT]
        ]
        more = len(case.evidence) - EVIDENCE_LIMIT
        if more > 0:
            evidence.append(f"... {more} more entries in the results file")
        evidence_html = (
            f'<pre class="evidence">{_e(chr(10).join(evidence))}</pre>'
            if evidence
            else '<p class="muted">No evidence recorded.</p>'
        )
        parts.append(
            f'<details class="case outcome-{case.outcome.value}" id="{anchors[case.case_id]}" '
            f'data-case-id="{_e(case.case_id)}" data-outcome="{case.outcome.value}"{opened}>'
            f'<summary><span class="o-{case.outcome.value}">{case.outcome.value}</span> '
            f"<code>{_e(case.case_id)}</code> [{_e(case.clause.id)} {case.clause.level.value}]"
            "</summary><dl>"
            f"<dt>Requirement</dt><dd>{_e(case.clause.requirement)}</dd>"
            f'<dt>Expected</dt><dd class="expected">{_e(case.expected)}</dd>'
            f'<dt>Observed</dt><dd class="observed">{_e(case.observed)}</dd>'
            + (f'<dt>Reason</dt><dd class="reason">{_e(case.reason)}</dd>' if case.reason else "")
            + f"<dt>Duration</dt><dd>{case.duration:.3f} s</dd></dl>{evidence_html}</details>"
        )
    parts.append("</section>")
    return "".join(parts)


def _short(text: str, limit: int = 240) -> str:
    """One line of at most `limit` characters; the full text is in the case's detail."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
