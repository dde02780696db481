"""`python -m conformance list --entry-points`: the entry-point data, then the table
entry points x operations with each cell's case count and each empty cell's reason."""

from __future__ import annotations

from .entry_points import EntryCase, EntryTable, load


def _what(case: EntryCase) -> str:
    if case.covered_by:
        return f"covered_by {case.covered_by}"
    where = f" -> {case.host}/{case.family}:{case.port}/{case.proto}" if case.host else ""
    return f"driver {case.driver}" + (f"({case.callable})" if case.callable else "") + where


def render_cases(table: EntryTable) -> list[str]:
    lines = []
    for entry in table.entries:
        lines.append(f"{entry.name}  [Python {entry.runtimes()}]")
        for case in entry.cases:
            lines.append(f"  {case.op:<10} {case.clause:<6} {case.level:<5} {_what(case)}")
    return lines


def render_table(table: EntryTable) -> list[str]:
    """One row per entry point; a cell is its case count ("-" when empty, reason below)."""
    ops = list(table.operations)
    width = max(len(e.name) for e in table.entries)
    lines = [f"{'entry point':<{width}}  " + "  ".join(f"{op:>9}" for op in ops)]
    reasons = []
    totals = dict.fromkeys(ops, 0)
    for entry in table.entries:
        cells = []
        for op in ops:
            cases, why = table.cell(entry, op)
            totals[op] += len(cases)
            cells.append(f"{len(cases) if cases else '-':>9}")
            if why:
                reasons.append(f"  {entry.name} x {op}: {why}")
        lines.append(f"{entry.name:<{width}}  " + "  ".join(cells))
    lines.append(f"{'total':<{width}}  " + "  ".join(f"{totals[op]:>9}" for op in ops))
    covered = sum(1 for c in table.cases if c.covered_by)
    lines.append(f"{len(table.cases)} cases in {len(table.entries)} entry points "
                 f"({len(table.cases) - covered} run by test_entry_points.py, {covered} "
                 "covered by existing catalogue cases)")
    lines.append("")
    lines.append("empty cells and why:")
    return lines + reasons


def main() -> int:
    table = load()
    print("\n".join([*render_cases(table), "", *render_table(table)]))
    return 0
