"""The Markdown summary: what a CI job summary page shows ($GITHUB_STEP_SUMMARY).

Short on purpose: the verdict, counts per outcome and per clause family, the
baseline comparison, and the cases that need a human, each with expected and
observed. Everything else is in the HTML report and the results file.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from conformance.model import CaseResult, RunInfo
from conformance.reporting.comparison import SECTIONS, Comparison, section
from conformance.reporting.files import atomic_write_text
from conformance.reporting.matrix import truth_table
from conformance.reporting.results_json import sorted_results
from conformance.reporting.tally import (
    OUTCOME_ORDER,
    Tally,
    family_tallies,
    headline,
    needs_attention,
)

LIST_LIMIT = 50

HEADLINES = {  # by tally.Headline.kind
    "interrupted": "⚠️ **Interrupted** after {total} case(s): results are incomplete",
    "regressions": "❌ **{count} regression(s)** against the baseline",
    "no-regressions": "✅ **No regressions** against the baseline",
    "failed": "❌ **Failed**: {count} of {total} case(s) fail the run",
    "passed": "✅ **Passed**: {total} case(s), none fails the run",
}


def cell(text: object, limit: int = 200) -> str:
    """Text safe inside a Markdown table cell: one line, pipes and markup escaped."""
    value = " ".join(str(text).split())
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    for char in "\\|`*_[]<>":
        value = value.replace(char, "\\" + char)
    return value


def code(text: str) -> str:
    """Inline code that survives backticks and pipes inside the text."""
    value = " ".join(text.split()).replace("|", "\\|")
    fence = "``" if "`" in value else "`"
    return f"{fence} {value} {fence}" if fence == "``" else f"`{value}`"


def render(
    run: RunInfo,
    results: Iterable[CaseResult],
    *,
    strict: bool = False,
    comparison: Comparison | None = None,
    baseline_label: str = "",
) -> str:
    cases = sorted_results(results)
    tally = Tally.of(cases)
    lines = [
        f"## Conformance: {cell(run.candidate)} {cell(run.candidate_version)}",
        "",
        headline(run, cases, strict, comparison).text(HEADLINES),
        "",
        f"Suite {cell(run.suite_version)} · profile {cell(run.profile)} · Python "
        f"{cell(run.python)} · {max(run.finished - run.started, 0):.1f} s"
        + (" · strict" if strict else ""),
        "",
        "| Family | " + " | ".join(o.value for o in OUTCOME_ORDER) + " | Total |",
        "|---|" + "---:|" * (len(OUTCOME_ORDER) + 1),
    ]
    for family, fam_tally in family_tallies(cases).items():
        lines.append(_count_row(cell(family), fam_tally))
    lines.append(_count_row("**All**", tally))
    wrong = truth_table(cases).wrong_cells
    if wrong:
        lines += [
            "",
            f"**Destination truth table: {len(wrong)} wrong cell(s)**",
            "",
            "| Destination | Port | Proto | Expected | Observed | Case |",
            "|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {cell(w.destination)} | {cell(w.port)} | {cell(w.proto)} | {cell(w.expected)} | "
            f"{cell(w.observed)} | {code(w.case_id)} |"
            for w in wrong[:LIST_LIMIT]
        ]
    if comparison is not None:
        lines += ["", f"### Against the baseline {cell(baseline_label)}".rstrip(), ""]
        for name, kind in SECTIONS:
            changes = section(comparison, kind)
            if not changes:
                continue
            lines.append(f"**{name} ({len(changes)})**")
            lines.append("")
            lines += [
                f"- {code(c.case_id)} {cell(c.clause)}: "
                f"{c.before.value if c.before else '-'} → {c.after.value if c.after else '-'}"
                for c in changes[:LIST_LIMIT]
            ]
            if len(changes) > LIST_LIMIT:
                lines.append(f"- … and {len(changes) - LIST_LIMIT} more")
            lines.append("")
    needs_eyes = needs_attention(cases, strict)
    if needs_eyes:
        lines += [
            "",
            f"### Cases that did not pass ({len(needs_eyes)})",
            "",
            "| Outcome | Case | Clause | Expected | Observed | Reason |",
            "|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {c.outcome.value} | {code(c.case_id)} | {cell(c.clause.id)} {c.clause.level.value} "
            f"| {cell(c.expected)} | {cell(c.observed)} | {cell(c.reason)} |"
            for c in needs_eyes[:LIST_LIMIT]
        ]
        if len(needs_eyes) > LIST_LIMIT:
            lines.append(f"\n… and {len(needs_eyes) - LIST_LIMIT} more in the HTML report.")
    return "\n".join(lines).rstrip() + "\n"


def _count_row(label: str, tally: Tally) -> str:
    counts = " | ".join(str(tally[o]) for o in OUTCOME_ORDER)
    return f"| {label} | {counts} | {tally.total} |"


def write_markdown(
    path: Path, run: RunInfo, results: Iterable[CaseResult], **kwargs: object
) -> Path:
    atomic_write_text(Path(path), render(run, results, **kwargs))  # type: ignore[arg-type]
    return Path(path)
