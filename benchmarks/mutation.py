"""Suite strength: a mutation test of the catalogue against the reference sandbox.

    python benchmarks/mutation.py [--module policy] [--budget 30m] [--rerun-survivors]
    tox -e mutation -- --module addresses --budget 10m

Each mutant of a module in benchmarks/strength/scope.toml is written into a
copy of the tree under /tmp (never the work tree); the catalogue runs against
the reference from that copy (`-x`, `-n 2`, niced; with --split, the module's
own clause families first, serially, then the rest only if none of their cases
killed it: on this machine one -n 2 run per mutant was faster). Results go
to a session file under /tmp, so a stopped run resumes; reports go to
reports/strength/ (summary.md, survivors.md, mutants.json).

Why cosmic-ray and not mutmut: the reference's service and instances are
separate processes that import the source tree. cosmic-ray writes each mutant
into the module file on disk, which every process that imports it sees;
mutmut 3 switches mutants inside the test process (trampolines and an
in-process selector), which those processes would not follow.
"""

from __future__ import annotations

import argparse
import itertools
import random
import re
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.strength.catalogue import clause_families, run_catalogue  # noqa: E402
from benchmarks.strength.judge import (  # noqa: E402
    KILLED_NON_STRICT,
    SURVIVED,
    Judgement,
    combine,
    judge,
)
from benchmarks.strength.mutants import (  # noqa: E402
    Mutant,
    diff,
    generate,
    mutated_source,
    source_hash,
)
from benchmarks.strength.report import ModuleMutants, Timing, write_reports  # noqa: E402
from benchmarks.strength.scope import ModuleScope, load_scope  # noqa: E402
from benchmarks.strength.scratch import ScratchTree  # noqa: E402
from benchmarks.strength.session import MutantResult, Session  # noqa: E402
from benchmarks.strength.verdicts import load_verdicts  # noqa: E402

STATE = Path("/tmp/gsc-mutation-state")
STARTUP_PROBE = "APP-1"


def parse_duration(text: str) -> float:
    """'45m', '90s', '1h', '1.5h' or plain seconds."""
    match = re.fullmatch(r"\s*([0-9.]+)\s*([smh]?)\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (e.g. 30m, 90s)")
    return float(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[match.group(2)]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--module", action="append", default=[],
                        help="run only modules whose path contains this (repeatable)")
    parser.add_argument("--budget", type=parse_duration, default=None,
                        help="stop starting mutants after this long (e.g. 30m)")
    parser.add_argument("--state", type=Path, default=STATE,
                        help="session folder (resumed when it exists)")
    parser.add_argument("--report", type=Path, default=REPO / "reports" / "strength")
    parser.add_argument("--rerun-survivors", action="store_true",
                        help="run again the survivors whose verdict says killed since "
                             "(to confirm the new case kills them)")
    parser.add_argument("--only", action="append", default=[], metavar="KEY",
                        help="run only the mutant with this key (repeatable)")
    parser.add_argument("--report-only", action="store_true",
                        help="write the reports from the session, run nothing")
    parser.add_argument("-n", "--workers", type=int, default=2,
                        help="xdist workers of the unmutated run and of the rest of the catalogue")
    parser.add_argument("--split", action="store_true",
                        help="run a module's own clause families first (serial, see "
                             "--first-workers), the rest only if they did not kill it")
    parser.add_argument("--first-workers", type=int, default=0,
                        help="with --split, xdist workers of the module's own clauses "
                             "(0: serial, whose -x stops at the first kill without "
                             "xdist's start-up)")
    parser.add_argument("--nice", type=int, default=10)
    return parser


def mutants_of(module: ModuleScope, source: str, operators: tuple[str, ...],
               per_site: int) -> list[Mutant]:
    return list(generate(module.path, source, operators, per_site))


def run_mutant(tree: ScratchTree, module: ModuleScope, mutant: Mutant, source: str,
                baseline: dict[str, str], families: tuple[str, ...], timeout: float,
                args: argparse.Namespace) -> MutantResult:
    mutated = mutated_source(source, mutant)
    started = time.monotonic()
    phases = [module.clauses, tuple(f for f in families if f not in module.clauses)] \
        if module.clauses and args.split else [()]
    verdict: Judgement | None = None
    ran = 0
    with tree.mutated(module.path, mutated):
        for number, clauses in enumerate(phases):
            workers = args.first_workers if number == 0 and clauses else args.workers
            run = run_catalogue(tree.root, tree.env(), clauses, workers=workers,
                                timeout=timeout, nice=args.nice)
            ran += 1
            this = judge(baseline, run.outcomes, exit_code=run.exit_code,
                         timed_out=run.timed_out)
            verdict = this if verdict is None else combine(verdict, this)
            if verdict.killed:
                break
    assert verdict is not None
    return MutantResult(mutant.key, module.path, verdict.status, verdict.killers,
                        verdict.detail, round(time.monotonic() - started, 2),
                        source_hash(source), diff(source, mutated, module.path), ran)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    scope = load_scope()
    selected = scope.select(args.module)
    session = Session.open(args.state / "session.jsonl")
    started = time.monotonic()
    sources = {m.path: (REPO / m.path).read_text() for m in scope.modules}
    plan = {m.path: mutants_of(m, sources[m.path], scope.operators, scope.per_site)
            for m in scope.modules}
    baseline_seconds = _read_float(args.state / "baseline-seconds")
    interrupted = False
    if not args.report_only:
        try:
            baseline_seconds = run_selected(args, selected, plan, sources, session, started)
        except KeyboardInterrupt:
            interrupted = True
            print("\ninterrupted: the copy is removed; run again to resume", file=sys.stderr)
    modules = [ModuleMutants(m.path, m.tier, tuple(x.key for x in plan[m.path]))
               for m in scope.modules]
    results = {k: r for k, r in session.results.items()
               if r.source_hash == source_hash(sources[r.module])}
    write_reports(args.report, modules, results, load_verdicts(),
                  Timing(baseline_seconds, time.monotonic() - started,
                         _read_float(args.state / "startup-seconds")))
    print((args.report / "summary.md").read_text())
    return 130 if interrupted else 0


def run_selected(args: argparse.Namespace, selected: tuple[ModuleScope, ...],
                 plan: dict[str, list[Mutant]], sources: dict[str, str], session: Session,
                 started: float) -> float:
    verdicts = load_verdicts()
    with ScratchTree.made(REPO) as tree:
        tree.check_imports()
        for module in selected:
            if tree.read(module.path) != sources[module.path]:
                raise SystemExit(f"{module.path}: the copy differs from the work tree")
        families = clause_families(tree.root)
        base = run_catalogue(tree.root, tree.env(), (), workers=args.workers,
                             exitfirst=False, timeout=900, nice=args.nice)
        bad = sorted(c for c, o in base.outcomes.items() if o in ("FAIL", "ERROR"))
        print(f"baseline: {len(base.outcomes)} cases in {base.seconds:.1f} s from {tree.root}; "
              f"FAIL/ERROR in the unmutated reference: {len(bad)}", flush=True)
        if not base.outcomes:
            raise SystemExit(f"the unmutated catalogue run wrote no results:\n{base.tail}")
        args.state.mkdir(parents=True, exist_ok=True)
        (args.state / "baseline-seconds").write_text(f"{base.seconds:.2f}\n")
        # What a catalogue run costs before its cases: workers, collection, worlds,
        # reference services (a two-case clause stands for none).
        probe = run_catalogue(tree.root, tree.env(), (STARTUP_PROBE,), workers=args.workers,
                              exitfirst=False, timeout=300, nice=args.nice)
        (args.state / "startup-seconds").write_text(f"{probe.seconds:.2f}\n")
        print(f"start-up of a catalogue run (-n {args.workers}, {len(probe.outcomes)} cases): "
              f"{probe.seconds:.1f} s", flush=True)
        timeout = max(120.0, 4 * base.seconds)
        todo, reruns = [], []
        for module, mutant in run_order(selected, plan):
            if args.only and mutant.key not in args.only:
                continue
            done = session.current(mutant.key, source_hash(sources[module.path]))
            claimed = verdicts.get(mutant.key)
            if done is None:
                todo.append((module, mutant))
            elif (args.rerun_survivors and done.status in (SURVIVED, KILLED_NON_STRICT)
                  and claimed is not None and claimed.kind == "killed-since"):
                reruns.append((module, mutant))
        for module, mutant in reruns + todo:    # confirm the claimed kills first
            source = sources[module.path]
            if args.budget is not None and time.monotonic() - started > args.budget:
                print("budget spent: stopping (run again to resume)", flush=True)
                return base.seconds
            result = session.record(run_mutant(tree, module, mutant, source,
                                                base.outcomes, families, timeout, args))
            print(f"{result.status:18} {result.seconds:6.1f} s  {mutant.key}"
                  + (f"  <- {result.killers[0]}" if result.killers else ""), flush=True)
        return base.seconds


def run_order(selected: tuple[ModuleScope, ...], plan: dict[str, list[Mutant]]
              ) -> list[tuple[ModuleScope, Mutant]]:
    """Each module's mutants in a fixed pseudo-random order, the modules taken in
    turn: a run stopped by its budget is a uniform sample of every module."""
    queues = []
    for module in selected:
        mutants = list(plan[module.path])
        random.Random(module.path).shuffle(mutants)
        queues.append([(module, m) for m in mutants])
    return [pair for turn in itertools.zip_longest(*queues) for pair in turn
            if pair is not None]


def _read_float(path: Path) -> float:
    try:
        return float(path.read_text())
    except (OSError, ValueError):
        return 0.0


if __name__ == "__main__":
    raise SystemExit(main())
