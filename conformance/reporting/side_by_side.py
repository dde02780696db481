"""The comparison page: every candidate's results side by side (HTML and Markdown).

`python -m conformance compare RESULTS.json... --out reports/comparison.html`
reads results files (one per candidate) and writes one page, plus the same
in Markdown beside it (`comparison.md`): the outcomes clause family by
clause family, one column per candidate, and the destination truth table
with one column per candidate, so a reader sees at a glance which guard
lets which address through. Everything is derived from the results files
(`tally`, `matrix`), never recomputed, and the HTML follows the single-run
report's rules: one self-contained file, no script, every string escaped.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path

from conformance.model import Outcome
from conformance.reporting.errors import ReportingError
from conformance.reporting.files import atomic_write_text
from conformance.reporting.markdown import cell as md
from conformance.reporting.matrix import Cell, Column, TruthTable, truth_table
from conformance.reporting.results_json import ResultsFile, load_results
from conformance.reporting.tally import OUTCOME_ORDER, Tally, family_tallies

#: Outcomes shown in a family cell after the PASS count, when not zero.
_SHOWN = tuple(o for o in OUTCOME_ORDER if o is not Outcome.PASS)
_SHORT = {Outcome.PASS: "P", Outcome.INFORMATIONAL: "I", Outcome.NON_STRICT: "N",
          Outcome.UNSUPPORTED: "U", Outcome.FAIL: "F", Outcome.ERROR: "E"}

_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.5em;margin:0 0 .3em}h2{margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5em 0}
th,td{border:1px solid #ccc;padding:.2em .45em;text-align:left;vertical-align:top}
thead th{background:#f0f0f0;position:sticky;top:0}td.num{text-align:right}
td.ok{background:#eefaee}td.warn{background:#fff6d6}td.bad{background:#ffd6d6}
td.missing,td.empty{color:#999;text-align:center}
.o-FAIL,.o-ERROR{color:#b00000;font-weight:bold}.o-NON-STRICT{color:#8a5a00}
.o-UNSUPPORTED{color:#666}
#truth td{white-space:nowrap}#truth td.cell{font-family:ui-monospace,monospace;font-size:12px}
#truth td.wrong{background:#ff9c9c;font-weight:bold;outline:2px solid #b00000}
#truth td.right{background:#eefaee}
.muted{color:#777}
"""


@dataclass(frozen=True)
class Row:
    """One destination, port and protocol of the truth table."""

    destination: str
    column: Column

    @property
    def label(self) -> str:
        return f"{self.column[1]} {self.column[0]}"


@dataclass(frozen=True)
class SideBySide:
    """The candidates' results and their truth tables, in the order given."""

    results: tuple[ResultsFile, ...]
    tables: tuple[TruthTable, ...]

    @classmethod
    def of(cls, results: Sequence[ResultsFile]) -> SideBySide:
        names = [r.run.candidate for r in results]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ReportingError(f"candidate(s) {', '.join(twice)} given more than once")
        return cls(tuple(results), tuple(truth_table(r.cases) for r in results))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(r.run.candidate for r in self.results)

    def families(self) -> tuple[str, ...]:
        return tuple(sorted({c.clause.family for r in self.results for c in r.cases}))

    def family_tally(self, index: int, family: str) -> Tally | None:
        return family_tallies(self.results[index].cases).get(family)

    def rows(self) -> tuple[Row, ...]:
        keys = {(d, c) for t in self.tables for (d, c) in t.cells}
        return tuple(Row(d, c) for d, c in sorted(keys, key=_row_order))

    def cells(self, index: int, row: Row) -> tuple[Cell, ...]:
        return self.tables[index].at(row.destination, row.column)

    def expected(self, row: Row) -> str:
        found = {c.expected for t in self.tables for c in t.at(row.destination, row.column)}
        return " / ".join(sorted(found))


def _row_order(key: tuple[str, Column]) -> tuple[object, ...]:
    destination, (port, proto) = key
    return (destination, proto, int(port) if port.isdigit() else port)


def observed(cells: Sequence[Cell]) -> str:
    """What a candidate did at one row; several cases there show each distinct verdict."""
    seen: list[str] = []
    for cell in cells:
        if cell.observed not in seen:
            seen.append(cell.observed)
    return " / ".join(seen)


def family_text(tally: Tally) -> str:
    """'40/42 P, 2 F': passes over total, then every other outcome that occurred."""
    parts = [f"{tally[Outcome.PASS]}/{tally.total} P"]
    parts += [f"{tally[o]} {_SHORT[o]}" for o in _SHOWN if tally[o]]
    return ", ".join(parts)


def tone(tally: Tally) -> str:
    if tally[Outcome.FAIL] or tally[Outcome.ERROR]:
        return "bad"
    if tally[Outcome.NON_STRICT] or tally[Outcome.UNSUPPORTED]:
        return "warn"
    return "ok"


# ---------------------------------------------------------------- HTML


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def render_html(page: SideBySide) -> str:
    names = page.names
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        f"<title>Candidates compared: {_e(', '.join(names))}</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>gae-sockets-conformance: candidates compared</h1>",
        '<p class="muted">Outcome letters: P PASS, I INFORMATIONAL, N NON-STRICT, '
        "U UNSUPPORTED (never a pass), F FAIL, E ERROR.</p>",
        _candidates_html(page),
        _families_html(page),
        _truth_html(page),
        "</body></html>\n",
    ]
    return "\n".join(parts)


def _head(names: Sequence[str], first: str, extra: str = "") -> str:
    cols = "".join(f'<th data-candidate="{_e(n)}">{_e(n)}</th>' for n in names)
    return f"<thead><tr><th>{_e(first)}</th>{extra}{cols}</tr></thead>"


def _candidates_html(page: SideBySide) -> str:
    rows = "".join(
        f'<tr data-candidate="{_e(r.run.candidate)}"><th>{_e(r.run.candidate)}</th>'
        f"<td>{_e(r.run.candidate_version)}</td><td>{_e(r.run.profile)}</td>"
        + "".join(f'<td class="num o-{o.value}">{Tally.of(r.cases)[o]}</td>'
                  for o in OUTCOME_ORDER)
        + f'<td class="num">{len(r.cases)}'
        + (" (interrupted: incomplete)" if r.run.interrupted else "") + "</td></tr>"
        for r in page.results
    )
    head = "".join(f'<th class="o-{o.value}">{o.value}</th>' for o in OUTCOME_ORDER)
    return ('<section id="candidates"><h2>Candidates</h2><table id="totals"><thead><tr>'
            f"<th>Candidate</th><th>Version</th><th>Profile</th>{head}<th>Total</th>"
            f"</tr></thead><tbody>{rows}</tbody></table></section>")


def _families_html(page: SideBySide) -> str:
    rows = []
    for family in page.families():
        cells = []
        for index, name in enumerate(page.names):
            tally = page.family_tally(index, family)
            if tally is None:
                cells.append(f'<td class="missing" data-candidate="{_e(name)}">not run</td>')
                continue
            cells.append(f'<td class="{tone(tally)}" data-candidate="{_e(name)}">'
                         f"{_e(family_text(tally))}</td>")
        rows.append(f'<tr data-family="{_e(family)}"><th>{_e(family)}</th>{"".join(cells)}</tr>')
    return ('<section id="by-family"><h2>By clause family</h2><table id="families">'
            f'{_head(page.names, "Family")}<tbody>{"".join(rows)}</tbody></table></section>')


def _truth_html(page: SideBySide) -> str:
    title = '<section id="truth-table"><h2>Destination truth table</h2>'
    rows = page.rows()
    if not rows:
        return title + "<p>No results file recorded a destination verdict.</p></section>"
    body = []
    for row in rows:
        cells = []
        for index, name in enumerate(page.names):
            found = page.cells(index, row)
            if not found:
                cells.append(f'<td class="empty" data-candidate="{_e(name)}">&middot;</td>')
                continue
            wrong = any(c.wrong for c in found)
            ids = " ".join(c.case_id for c in found)
            cells.append(
                f'<td class="cell {"wrong" if wrong else "right"}" data-candidate="{_e(name)}" '
                f'title="{_e(ids)}">{_e(observed(found))}</td>')
        body.append(
            f'<tr data-destination="{_e(row.destination)}" data-port="{_e(row.column[0])}" '
            f'data-proto="{_e(row.column[1])}"><th>{_e(row.destination)}</th>'
            f'<td>{_e(row.label)}</td><td class="expected">{_e(page.expected(row))}</td>'
            f'{"".join(cells)}</tr>')
    wrong_counts = "".join(
        f'<td class="num" data-candidate="{_e(n)}">{len(page.tables[i].wrong_cells)}</td>'
        for i, n in enumerate(page.names))
    note = ("<p>Each candidate's cell is what it did; a cell that differs from the expected "
            "verdict is highlighted. Hover a cell for its case IDs.</p>")
    return (f'{title}{note}<table id="truth">'
            f'{_head(page.names, "Destination", "<th>Port</th><th>Expected</th>")}'
            f'<tbody>{"".join(body)}</tbody><tfoot><tr><th>wrong cells</th><td></td><td></td>'
            f"{wrong_counts}</tr></tfoot></table></section>")


# ---------------------------------------------------------------- Markdown


def render_markdown(page: SideBySide) -> str:
    names = page.names
    header = "| " + " | ".join(md(n) for n in names) + " |"
    rule = "|---" * len(names) + "|"
    lines = [
        "## Candidates compared",
        "",
        "Outcome letters: P PASS, I INFORMATIONAL, N NON-STRICT, U UNSUPPORTED (never a pass), "
        "F FAIL, E ERROR.",
        "",
        "| Candidate | Version | " + " | ".join(o.value for o in OUTCOME_ORDER) + " | Total |",
        "|---|---|" + "---:|" * (len(OUTCOME_ORDER) + 1),
    ]
    for r in page.results:
        tally = Tally.of(r.cases)
        lines.append(f"| {md(r.run.candidate)} | {md(r.run.candidate_version)} | "
                     + " | ".join(str(tally[o]) for o in OUTCOME_ORDER) + f" | {tally.total} |")
    lines += ["", "### By clause family", "", "| Family " + header, "|---" + rule]
    for family in page.families():
        cells = []
        for index in range(len(names)):
            found = page.family_tally(index, family)
            cells.append("not run" if found is None else family_text(found))
        lines.append(f"| {md(family)} | " + " | ".join(cells) + " |")
    rows = page.rows()
    lines += ["", "### Destination truth table", ""]
    if not rows:
        lines.append("No results file recorded a destination verdict.")
        return "\n".join(lines) + "\n"
    lines += ["Each candidate's cell is what it did; **bold** differs from the expected verdict.",
              "", "| Destination | Port | Expected " + header, "|---|---|---" + rule]
    for row in rows:
        cells = []
        for index in range(len(names)):
            at = page.cells(index, row)
            text = md(observed(at)) if at else "·"
            cells.append(f"**{text}**" if any(c.wrong for c in at) else text)
        lines.append(f"| {md(row.destination)} | {md(row.label)} | {md(page.expected(row))} | "
                     + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- command


def write(results: Sequence[ResultsFile], out: Path) -> tuple[Path, Path]:
    """Write `out` (HTML) and the Markdown beside it (same name, `.md`)."""
    page = SideBySide.of(results)
    markdown = out.with_suffix(".md")
    atomic_write_text(out, render_html(page))
    atomic_write_text(markdown, render_markdown(page))
    return out, markdown


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m conformance compare",
        description="Put candidates' results side by side: outcomes by clause family and "
                    "the destination truth table, one column per candidate.")
    parser.add_argument("results", nargs="+", metavar="RESULTS.json",
                        help="results files, one per candidate, in column order")
    parser.add_argument("--out", required=True, metavar="FILE.html",
                        help="the HTML page; the Markdown goes beside it as FILE.md")
    return parser


def main(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(argv)
    try:
        loaded = [load_results(Path(p)) for p in args.results]
        html_path, md_path = write(loaded, Path(args.out))
    except (ReportingError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"comparison: {html_path}, {md_path}")
    return 0
