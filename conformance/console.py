"""What a person reads in the terminal or a CI log during and after a run.

- While cases run: one progress line with this suite's outcome counts,
  rewritten in place on a terminal, printed once per tenth of the run in a
  log (no per-case letters).
- At the end: a roll-up by clause (clause, level, outcome, number of cases,
  one example with expected and observed), the groups that fail the run last.
- Last of all, after pytest's own counts (which call NON-STRICT "passed"):
  the verdict line with the exit code and this suite's outcome counts.

`-v` (or more) keeps pytest's line per case and drops the progress line;
`-rA` and `--tb` still give pytest's detail.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import pytest

from conformance.model import CaseResult, Outcome
from conformance.reporting.tally import Tally, is_failing

EXAMPLE_WIDTH = 110
VERDICTS = {0: "PASSED", 1: "FAILED", 2: "NO VERDICT"}


def counts_text(counts: Counter[Outcome] | Tally) -> str:
    """"216 PASS, 316 FAIL, ..." in the outcome model's order, zeros left out."""
    return ", ".join(f"{counts[o]} {o.value}" for o in Outcome if counts[o]) or "no cases"


class Console:
    """The progress line, the roll-up and the verdict line (controller only)."""

    def __init__(self, config: pytest.Config, strict: bool,
                 results: Callable[[], Sequence[CaseResult]] = tuple) -> None:
        self.config = config
        self.strict = strict
        self.results = results   # every result of the run, leaks and lost cases included
        self.quiet_cases = config.get_verbosity() <= 0
        self.total = 0
        self.done: Counter[Outcome] = Counter()
        self.tenth = 0
        self.session: pytest.Session | None = None

    @property
    def _terminal(self) -> Any:
        return self.config.pluginmanager.get_plugin("terminalreporter")

    # -- during the run -----------------------------------------------------

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.session = session
        terminal = self._terminal   # registered by now, whatever the configure order
        if terminal is not None and self.quiet_cases:
            terminal.showfspath = False   # no file names before rows of (no) letters

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.total = len(session.items)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: Sequence[str]) -> None:
        self.total = max(self.total, len(ids))

    @pytest.hookimpl(tryfirst=True)
    def pytest_report_teststatus(self, report: pytest.TestReport,
                                 config: pytest.Config) -> tuple[str, str, str] | None:
        """No per-case letter for a case (the progress line counts them instead)."""
        if not self.quiet_cases or not _is_case(report):
            return None
        if report.when == "call" or report.outcome != "passed":
            return report.outcome, "", report.outcome.upper()
        return "", "", ""

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        data = getattr(report, "conformance", None)
        if data is None or report.when != "teardown":
            return
        self.done[Outcome(data["outcome"])] += 1
        for leak in getattr(report, "conformance_leaks", None) or ():
            self.done[Outcome(leak["outcome"])] += 1
        if self.quiet_cases:
            self._progress()

    def _progress(self) -> None:
        terminal = self._terminal
        if terminal is None:
            return
        finished = sum(self.done.values())
        total = max(self.total, finished)
        line = (f"conformance: {finished}/{total} ({100 * finished // total}%) "
                f"{counts_text(self.done)}")
        if terminal.isatty:
            terminal._tw.write("\r" + line.ljust(terminal._tw.fullwidth - 1)[:
                               terminal._tw.fullwidth - 1])
            terminal._tw.flush()
            return
        tenth = 10 * finished // total
        if tenth > self.tenth:
            self.tenth = tenth
            terminal.write_line(line)

    # -- at the end ---------------------------------------------------------

    def write_rollup(self, terminal: Any, results: Sequence[CaseResult]) -> None:
        if not results:
            return
        terminal.write_sep("-", "conformance: by clause (cases that did not pass)")
        for line in rollup_lines(results, self.strict):
            terminal.write_line(line)

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        terminal = self._terminal
        if terminal is None or self.session is None or not self.done:
            return
        code = int(self.session.exitstatus)
        verdict = VERDICTS.get(code, f"pytest exit {code}")
        # the run's results as reported (lost cases too); the live count until they exist
        final = Counter(r.outcome for r in self.results()) or self.done
        total = sum(final.values())
        terminal.write_line(f"conformance verdict: {verdict} (exit {code}), {total} results: "
                            f"{counts_text(final)}", bold=True,
                            red=code != 0, green=code == 0)


def _is_case(report: pytest.TestReport) -> bool:
    return any(name == "clause" for name, _ in report.user_properties)


def rollup_lines(results: Iterable[CaseResult], strict: bool) -> list[str]:
    """One row per (clause, level, outcome) that is not PASS, with one example;
    the rows that fail the run come last."""
    groups: dict[tuple[str, str, Outcome], list[CaseResult]] = {}
    for result in results:
        if result.outcome is not Outcome.PASS:
            key = (result.clause.id, result.clause.level.value, result.outcome)
            groups.setdefault(key, []).append(result)
    order = sorted(groups, key=lambda k: (is_failing(k[2], strict), _clause_key(k[0]), k[2].value))
    lines = [f"{'clause':<8} {'level':<7} {'outcome':<13} {'cases':>5}  example"]
    for clause_id, level, outcome in order:
        members = groups[(clause_id, level, outcome)]
        example = min(members, key=lambda r: r.case_id)   # the same whatever the arrival order
        lines.append(f"{clause_id:<8} {level:<7} {outcome.value:<13} {len(members):>5}  "
                     f"{example.case_id}")
        if outcome in (Outcome.UNSUPPORTED, Outcome.ERROR):
            lines.append(f"{'':<37}reason:   {_short(example.reason or example.observed)}")
            continue
        lines.append(f"{'':<37}expected: {_short(example.expected)}")
        lines.append(f"{'':<37}observed: {_short(example.observed)}")
    return lines


def _clause_key(clause_id: str) -> tuple[str, int]:
    family, _, number = clause_id.partition("-")
    return family, int(number) if number.isdigit() else 0


def _short(text: str) -> str:
    first = (text or "").strip().splitlines() or [""]
    line = first[0]
    return line if len(line) <= EXAMPLE_WIDTH else line[:EXAMPLE_WIDTH - 3] + "..."
