"""reports/strength/: the kill rate per module, every survivor with its diff and
verdict, and the wall time of each invocation that ran mutants."""

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
class Invocation:
    """One invocation that ran mutants: its wall time is the figure of the target."""
    modules: tuple[str, ...]
    mutants: int              # mutants judged
    wall_seconds: float       # the whole invocation: copies, start-up, baselines, mutants
    parallel: int             # scratch copies, each with its resident catalogue process
    startup_seconds: float    # a resident process's start (collection, world)
    baseline_seconds: float   # its unmutated run of every case, serial

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, line: str) -> Invocation:
        data = json.loads(line)
        data["modules"] = tuple(data["modules"])
        return cls(**data)

    def describe(self) -> str:
        names = ", ".join(f"`{m.removeprefix('sandbox/')}`" for m in self.modules)
        per = self.wall_seconds / self.mutants if self.mutants else 0.0
        return (f"- {names}: {self.mutants} mutants in {self.wall_seconds / 60:.1f} min, "
                f"{per:.1f} s per mutant ({self.parallel} resident processes; start-up "
                f"{self.startup_seconds:.1f} s, unmutated serial run "
                f"{self.baseline_seconds:.1f} s)")


@dataclass
class Row:
    module: str
    tier: str
    generated: int = 0
    run: int = 0
    killed: int = 0
    non_strict: int = 0       # killed by NON-STRICT alone, reviewed as SHOULD-level code
    killed_since: int = 0
    survived: int = 0
    equivalent: int = 0
    unspecified: int = 0      # behaviour changes that no clause fixes: not killed
    open: int = 0             # open, or not judged yet
    seconds: float = 0.0

    @property
    def rate(self) -> float | None:
        """Killed over the mutants run that are not equivalent (unspecified ones count
        as not killed)."""
        effective = self.run - self.equivalent
        return (self.killed + self.non_strict) / effective if effective else None

    @property
    def specified_rate(self) -> float | None:
        """Killed over the mutants run whose behaviour change a clause fixes: what the
        catalogue catches of what it may catch (unspecified ones left out)."""
        effective = self.run - self.equivalent - self.unspecified
        return (self.killed + self.non_strict) / effective if effective else None


def classify(result: MutantResult, verdict: Verdict | None) -> str:
    """killed | non-strict | killed-since | equivalent | unspecified | open."""
    if result.status == KILLED_NON_STRICT:
        # a NON-STRICT kill counts only for code whose effect is SHOULD-level (reviewed),
        # however it was first judged
        return "non-strict" if verdict is not None and verdict.kind == "should-level" \
            else "open"
    if result.status in KILLING:
        if result.first_status in (SURVIVED, KILLED_NON_STRICT):
            return "killed-since"
        if verdict is not None and verdict.kind == "killed-since":
            return "killed-since"   # a fresh session: the case added for it killed it
        return "killed"
    if verdict is not None and verdict.kind in ("equivalent", "unspecified"):
        return verdict.kind
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
            if kind == "unspecified":
                row.unspecified += 1
            if kind == "open":
                row.open += 1
        rows.append(row)
    return rows


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def render_summary(rows: Sequence[Row], timing: Sequence[Invocation],
                   ran: Sequence[MutantResult] = ()) -> str:
    total = Row("all of sandbox/", "")
    for row in rows:
        for name in ("generated", "run", "killed", "non_strict", "killed_since", "survived",
                     "equivalent", "unspecified", "open", "seconds"):
            setattr(total, name, getattr(total, name) + getattr(row, name))
    lines = ["# Suite strength: mutation score of the catalogue against the reference", "",
             "A mutant is killed when the catalogue run against it has a FAIL or ERROR the "
             "unmutated reference lacks (or hangs past the time limit). A kill by NON-STRICT "
             "alone counts only where a review found the mutated code SHOULD-level "
             "(verdict should-level); unreviewed, it is open. Of the survivors, "
             "*equivalent* means no behaviour can change; *unspecified* means behaviour "
             "changes that no clause of CLAUSES.md fixes: those are not killed, they count "
             "against the kill rate and are listed apart in survivors.md.", "",
             "| module | tier | generated | run | killed | NON-STRICT only | killed since | "
             "survived | equivalent | unspecified | open | kill rate |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in [*rows, total]:
        lines.append(f"| `{row.module}` | {row.tier} | {row.generated} | {row.run} | "
                     f"{row.killed} | {row.non_strict} | {row.killed_since} | {row.survived} | "
                     f"{row.equivalent} | {row.unspecified} | {row.open} | {_pct(row.rate)} |")
    policy_open = sum(r.open for r in rows if r.tier == POLICY_TIER)
    not_run = total.generated - total.run
    lines += ["", "## Targets", "",
              f"- open survivors in the policy-bearing modules: {policy_open} (target 0)"
              + (f"; {sum(r.generated - r.run for r in rows if r.tier == POLICY_TIER)} "
                 "of their mutants not run yet" if total.generated != total.run else ""),
              f"- kill rate of non-equivalent mutants over all of sandbox/: "
              f"{_pct(total.rate)} (target {TARGET_RATE:.0%})"
              + (f"; {not_run} mutants not run yet" if not_run else ""),
              f"- beside it, not the target: of the mutants whose change some clause fixes "
              f"(neither equivalent nor unspecified), {_pct(total.specified_rate)} killed"]
    per = total.seconds / total.run if total.run else 0.0
    times = sorted(r.seconds for r in ran) if ran else [0.0]
    lines += ["", "## Time", "",
              "Invocations that ran mutants (wall time: the whole invocation, from making "
              "the copies to the last mutant; per mutant: that over its mutants; the "
              "resident processes run side by side):", "",
              *(i.describe() for i in timing),
              "", f"- latency of one mutant (write, run to the first kill or the end, "
              f"restore), over the {total.run} results: mean {per:.1f} s, median "
              f"{times[len(times) // 2]:.1f} s"]
    return "\n".join(lines) + "\n"


def render_survivors(modules: Sequence[ModuleMutants], results: Mapping[str, MutantResult],
                     verdicts: Mapping[str, Verdict]) -> str:
    lines = ["# Surviving mutants", "",
             "Every mutant the catalogue did not kill, with its diff and its verdict "
             "(benchmarks/strength/verdicts.toml); then those killed since, and the "
             "NON-STRICT-only kills of SHOULD-level code.", ""]
    sections: dict[str, list[str]] = {"open": [], "unspecified": [], "equivalent": [],
                                      "killed-since": [], "non-strict": []}
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
            elif kind == "non-strict" or result.status == KILLED_NON_STRICT:
                note = "NON-STRICT only, by " + ", ".join(f"`{k}`" for k in result.killers[:3])
                note += f"; {verdict.describe()}" if verdict is not None else \
                    "; not reviewed yet (SHOULD-level code?)"
            elif verdict is not None and verdict.kind == "killed-since":
                note = (verdict.describe() + " (claimed; the last run did not kill it: "
                        "confirm with --rerun-survivors)")
            elif verdict is not None:
                note = verdict.describe()
            else:
                note = "open: no verdict yet"
            sections[kind] += [f"### `{key}`", "", note, "", "```diff", result.diff, "```", ""]
    titles = {"open": "Open", "unspecified": "Unspecified (behaviour changes, no clause "
              "fixes it: not killed)", "equivalent": "Equivalent (no behaviour can change)",
              "killed-since": "Killed since",
              "non-strict": "Killed by NON-STRICT only, SHOULD-level code (reviewed)"}
    for kind, body in sections.items():
        lines += [f"## {titles[kind]} ({body.count('```diff')})", "", *body]
    return "\n".join(lines) + "\n"


def write_reports(out: Path, modules: Sequence[ModuleMutants],
                  results: Mapping[str, MutantResult], verdicts: Mapping[str, Verdict],
                  timing: Sequence[Invocation]) -> list[Row]:
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
        {"invocations": [asdict(i) for i in timing], "rows": [asdict(r) for r in rows],
         "mutants": mutants},
        indent=1, sort_keys=True))
    return rows
