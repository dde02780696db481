"""reports/strength/: the kill rate per module, every survivor with its diff and
verdict, the time per mutant and the projected time of a full run."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from .judge import KILLED_NON_STRICT, KILLING, SURVIVED
from .session import MutantResult
from .verdicts import Verdict

POLICY_TIER = "policy"
TARGET_RATE = 0.95


@dataclass(frozen=True)
class ModuleMutants:
    path: str
    tier: str
    keys: tuple[str, ...]     # every mutant generated


@dataclass(frozen=True)
class Timing:
    baseline_seconds: float   # one full catalogue run, unmutated, no -x
    wall_seconds: float       # this invocation
    startup_seconds: float = 0.0   # a catalogue run of two cases: its fixed cost


@dataclass
class Row:
    module: str
    tier: str
    generated: int = 0
    run: int = 0
    killed: int = 0
    non_strict: int = 0       # killed by NON-STRICT alone: for review
    killed_since: int = 0
    survived: int = 0
    equivalent: int = 0
    open: int = 0             # open, or not judged yet
    seconds: float = 0.0

    @property
    def rate(self) -> float | None:
        effective = self.run - self.equivalent
        return (self.killed + self.non_strict) / effective if effective else None


def classify(result: MutantResult, verdict: Verdict | None) -> str:
    """killed | non-strict | killed-since | equivalent | open."""
    if result.status in KILLING or result.status == KILLED_NON_STRICT:
        if result.first_status in (SURVIVED, KILLED_NON_STRICT) and \
                result.status != result.first_status:
            return "killed-since"
        return "non-strict" if result.status == KILLED_NON_STRICT else "killed"
    if verdict is not None and verdict.kind == "equivalent":
        return "equivalent"
    return "open"


def tally(modules: Sequence[ModuleMutants], results: Mapping[str, MutantResult],
          verdicts: Mapping[str, Verdict]) -> list[Row]:
    rows = []
    for module in modules:
        row = Row(module.path, module.tier, generated=len(module.keys))
        for key in module.keys:
            result = results.get(key)
            if result is None:
                continue
            row.run += 1
            row.seconds += result.seconds
            kind = classify(result, verdicts.get(key))
            if kind in ("killed", "killed-since"):
                row.killed += 1
            if kind == "killed-since":
                row.killed_since += 1
            if kind == "non-strict":
                row.non_strict += 1
            if result.status == SURVIVED:
                row.survived += 1
            if kind == "equivalent":
                row.equivalent += 1
            if kind == "open":
                row.open += 1
        rows.append(row)
    return rows


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def render_summary(rows: Sequence[Row], timing: Timing,
                   ran: Sequence[MutantResult] = ()) -> str:
    total = Row("all of sandbox/ in scope", "")
    for row in rows:
        for name in ("generated", "run", "killed", "non_strict", "killed_since", "survived",
                     "equivalent", "open", "seconds"):
            setattr(total, name, getattr(total, name) + getattr(row, name))
    lines = ["# Suite strength: mutation score of the catalogue against the reference", "",
             "A mutant is killed when the catalogue run against it has a FAIL or ERROR the "
             "unmutated reference lacks (or hangs past the time limit). NON-STRICT-only "
             "kills are counted in the rate and listed for review.", "",
             "| module | tier | generated | run | killed | NON-STRICT only | killed since | "
             "survived | equivalent | open | kill rate |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in [*rows, total]:
        lines.append(f"| `{row.module}` | {row.tier} | {row.generated} | {row.run} | "
                     f"{row.killed} | {row.non_strict} | {row.killed_since} | {row.survived} | "
                     f"{row.equivalent} | {row.open} | {_pct(row.rate)} |")
    policy_open = sum(r.open for r in rows if r.tier == POLICY_TIER)
    not_run = total.generated - total.run
    lines += ["", "## Targets", "",
              f"- open survivors in the policy-bearing modules: {policy_open} (target 0)"
              + (f"; {sum(r.generated - r.run for r in rows if r.tier == POLICY_TIER)} "
                 "of their mutants not run yet" if total.generated != total.run else ""),
              f"- kill rate of non-equivalent mutants over all of sandbox/ in scope: "
              f"{_pct(total.rate)} (target {TARGET_RATE:.0%})"
              + (f"; {not_run} mutants not run yet" if not_run else "")]
    per = total.seconds / total.run if total.run else 0.0
    times = sorted(r.seconds for r in ran) if ran else [0.0]
    median = times[len(times) // 2]
    policy_generated = sum(r.generated for r in rows if r.tier == POLICY_TIER)
    lines += ["", "## Time", "",
              f"- one full catalogue run, unmutated, -n 2: {timing.baseline_seconds:.1f} s",
              f"- mean wall time per mutant: {per:.1f} s over {total.run} mutants "
              f"({total.seconds / 60:.1f} min of catalogue runs)",
              f"- fixed cost of one catalogue run (-n 2 workers, collection, worlds, "
              f"reference services; a two-case run): {timing.startup_seconds:.1f} s",
              f"- median wall time per mutant: {median:.1f} s (the machine is shared: the "
              "time per mutant follows its load)",
              *([f"- this invocation: {timing.wall_seconds / 60:.1f} min"]
                if timing.wall_seconds >= 1 else []),
              f"- projected full run: policy-bearing modules {policy_generated * per / 60:.0f} "
              f"min, everything in scope {total.generated * per / 60:.0f} min at the mean; "
              f"{policy_generated * median / 60:.0f} and {total.generated * median / 60:.0f} min "
              "at the median (target: policy-bearing modules in 30 min)"]
    return "\n".join(lines) + "\n"


def render_survivors(modules: Sequence[ModuleMutants], results: Mapping[str, MutantResult],
                     verdicts: Mapping[str, Verdict]) -> str:
    lines = ["# Surviving mutants", "",
             "Every mutant the catalogue did not kill, with its diff and its verdict "
             "(benchmarks/strength/verdicts.toml); then those killed since, and the "
             "NON-STRICT-only kills to review.", ""]
    sections: dict[str, list[str]] = {"open": [], "equivalent": [], "killed-since": [],
                                      "non-strict": []}
    for module in modules:
        for key in module.keys:
            result = results.get(key)
            if result is None:
                continue
            kind = classify(result, verdicts.get(key))
            if kind not in sections:
                continue
            verdict = verdicts.get(key)
            if kind == "killed-since":
                note = f"killed since by `{result.killers[0]}`" if result.killers else \
                    f"killed since ({result.status})"
            elif kind == "non-strict":
                note = "NON-STRICT only, by " + ", ".join(f"`{k}`" for k in result.killers[:3])
            elif verdict is not None and verdict.kind == "killed-since":
                note = (verdict.describe() + " (claimed; the last run did not kill it: "
                        "confirm with --rerun-survivors)")
            elif verdict is not None:
                note = verdict.describe()
            else:
                note = "open: no verdict yet"
            sections[kind] += [f"### `{key}`", "", note, "", "```diff", result.diff, "```", ""]
    titles = {"open": "Open", "equivalent": "Equivalent", "killed-since": "Killed since",
              "non-strict": "Killed by NON-STRICT only (review: SHOULD-level code?)"}
    for kind, body in sections.items():
        lines += [f"## {titles[kind]} ({body.count('```diff')})", "", *body]
    return "\n".join(lines) + "\n"


def write_reports(out: Path, modules: Sequence[ModuleMutants],
                  results: Mapping[str, MutantResult], verdicts: Mapping[str, Verdict],
                  timing: Timing) -> list[Row]:
    rows = tally(modules, results, verdicts)
    out.mkdir(parents=True, exist_ok=True)
    ran = [results[key] for module in modules for key in module.keys if key in results]
    (out / "summary.md").write_text(render_summary(rows, timing, ran))
    (out / "survivors.md").write_text(render_survivors(modules, results, verdicts))
    mutants = [{**asdict(results[key]), "kind": classify(results[key], verdicts.get(key))}
               for module in modules for key in module.keys if key in results]
    for entry in mutants:   # the diffs are in survivors.md; keep the JSON small
        if entry["kind"] in ("killed", "non-strict"):
            entry.pop("diff")
    (out / "mutants.json").write_text(json.dumps(
        {"timing": asdict(timing), "rows": [asdict(r) for r in rows], "mutants": mutants},
        indent=1, sort_keys=True))
    return rows
