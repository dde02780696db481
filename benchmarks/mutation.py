"""Suite strength: a mutation test of the catalogue against the reference sandbox.

    python benchmarks/mutation.py [--module policy] [--budget 30m] [--rerun-survivors]
    tox -e mutation -- --module addresses --budget 10m

Each mutant of a module in benchmarks/strength/scope.toml is written into a
copy of the tree under /tmp (never the work tree). The catalogue runs against
the reference from that copy in a resident process (strength/resident.py):
collection and the world are kept, and per mutant only the reference's service
and instances start again, from the mutated copy; the run stops at the first
FAIL or ERROR the unmutated reference lacks, and the cases that killed the
module's earlier mutants run first (an order, never a filter). --parallel
copies, each with its own resident process, take mutants in turn. Results go
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
import contextlib
import itertools
import queue
import random
import re
import sys
import threading
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.strength.judge import (  # noqa: E402
    KILLED_NON_STRICT,
    KILLING,
    RUN_FAILED,
    SURVIVED,
    Judgement,
    judge,
)
from benchmarks.strength.mutants import (  # noqa: E402
    Mutant,
    diff,
    generate,
    mutated_source,
    source_hash,
)
from benchmarks.strength.pool import ResidentCatalogue, ResidentError  # noqa: E402
from benchmarks.strength.report import Invocation, ModuleMutants, write_reports  # noqa: E402
from benchmarks.strength.scope import ModuleScope, load_scope  # noqa: E402
from benchmarks.strength.scratch import ScratchTree  # noqa: E402
from benchmarks.strength.session import MutantResult, Session  # noqa: E402
from benchmarks.strength.verdicts import load_verdicts  # noqa: E402
from conformance.leaks import is_leak_id  # noqa: E402

STATE = Path("/tmp/gsc-mutation-state")
FIRST_CASES = 40     # how many of a module's earlier killers run first


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
    parser.add_argument("--parallel", type=int, default=2,
                        help="scratch copies, each with its own resident catalogue process")
    parser.add_argument("--order-from", type=Path, action="append", default=[],
                        metavar="SESSION",
                        help="also run first the cases that killed mutants in this earlier "
                             "session file (an order, never a filter)")
    parser.add_argument("--import-session", type=Path, action="append", default=[],
                        metavar="SESSION",
                        help="take the results of another session file (same sources) where "
                             "this one has none or where the other kills and this one did not "
                             "(runs split between machines or people)")
    parser.add_argument("--nice", type=int, default=10)
    return parser


def mutants_of(module: ModuleScope, source: str, operators: tuple[str, ...],
               per_site: int) -> list[Mutant]:
    return list(generate(module.path, source, operators, per_site))


def run_mutant(resident: ResidentCatalogue, module: ModuleScope, mutant: Mutant,
               source: str, first: list[str], timeout: float) -> MutantResult:
    """The mutant written into the resident's copy, the catalogue run against it,
    judged against that process's own unmutated baseline."""
    mutated = mutated_source(source, mutant)
    started = time.monotonic()
    endings = []
    for tries in (1, 2):
        # a second try after a hang gets twice the time: a loaded machine slows a run
        # that is not hung, and a timeout counts as a kill only when it holds twice;
        # a run cut short, or a start the mutant seemed to break, is tried again too
        with resident.tree.mutated(module.path, mutated):
            outcomes, ended = _run_on_disk(resident, module, first, timeout * tries)
        if ended == "ok" and cut_short(resident.baseline, outcomes):
            ended = "incomplete"
        endings.append(ended)
        if ended != "ok":
            resident.restart()      # the original is back on disk: a true baseline
        elif module.fresh:
            resident.respawn()      # the original is back on disk: the next mutant's start
        if ended == "ok":
            break
    if endings == ["died", "died"]:
        raise ResidentError(f"the resident catalogue died twice on {mutant.key}; "
                            f"see {resident.log}")
    if ended in ("incomplete", "unstartable", "died"):
        verdict = Judgement(RUN_FAILED, detail="after two tries: " + (
            "the run ended without a kill before every case had run"
            if ended == "incomplete" else "the resident did not start with the mutant"
            if ended == "unstartable" else "the resident catalogue died"))
    else:
        verdict = judge(resident.baseline, outcomes, exit_code=0 if outcomes else 1,
                        timed_out=ended == "timeout")
    return MutantResult(mutant.key, module.path, verdict.status, verdict.killers,
                        verdict.detail, round(time.monotonic() - started, 2),
                        source_hash(source), diff(source, mutated, module.path), 1)


def cut_short(baseline: dict[str, str], outcomes: dict[str, str]) -> bool:
    """A run that ended without a kill before every case of the baseline had run (a
    crashed session): no case saw the mutant, and the catalogue did not finish either."""
    cases = {case for case in baseline if not is_leak_id(case)}   # leaks come and go
    return bool(outcomes) and not judge(baseline, outcomes, exit_code=0).killed and \
        not cases <= set(outcomes)


def _run_on_disk(resident: ResidentCatalogue, module: ModuleScope, first: list[str],
                 timeout: float) -> tuple[dict[str, str], str]:
    """The resident's run against the mutant on disk. A module the harness imports is
    read by a fresh start; a start the mutant breaks ends as "unstartable" (no results:
    the run failed, as `conformance run` would with its setup error)."""
    if module.fresh:
        try:
            resident.respawn()
        except ResidentError:
            resident.stop()
            return {}, "unstartable"
    return resident.run(first, timeout)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    scope = load_scope()
    selected = scope.select(args.module)
    session = Session.open(args.state / "session.jsonl")
    started = time.monotonic()
    sources = {m.path: (REPO / m.path).read_text() for m in scope.modules}
    for other in args.import_session:
        taken = import_results(session, Session.open(other), sources)
        print(f"{other}: {taken} result(s) taken", flush=True)
    plan = {m.path: mutants_of(m, sources[m.path], scope.operators, scope.per_site)
            for m in scope.modules}
    interrupted = False
    if not args.report_only:
        try:
            run_selected(args, selected, plan, sources, session, started)
        except KeyboardInterrupt:
            interrupted = True
            print("\ninterrupted: the copies are removed; run again to resume", file=sys.stderr)
    modules = [ModuleMutants(m.path, m.tier, tuple(x.key for x in plan[m.path]))
               for m in scope.modules]
    results = {k: r for k, r in session.results.items()
               if r.source_hash == source_hash(sources[r.module])}
    write_reports(args.report, modules, results, load_verdicts(), _read_timing(args.state))
    print((args.report / "summary.md").read_text())
    return 130 if interrupted else 0


RANK = {**{status: 2 for status in KILLING}, KILLED_NON_STRICT: 1, SURVIVED: 0}


def import_results(session: Session, other: Session, sources: dict[str, str]) -> int:
    """Record into `session` the results of `other` for the current sources that it
    lacks, or that kill where its own first run did not (a kill by a catalogue run
    stands while its cases do; a mutant run again here keeps this session's result).
    Returns how many were taken."""
    taken = 0
    for key, result in other.results.items():
        source = sources.get(result.module)
        if source is None or result.source_hash != source_hash(source):
            continue
        mine = session.current(key, result.source_hash)
        # a result run again here (first_status set) is this session's own word on it
        if mine is None or (not mine.first_status
                            and RANK.get(result.status, 0) > RANK.get(mine.status, 0)):
            session.record(replace(result, first_status="",
                                   detail=f"{result.detail} (from {other.path})".strip()))
            taken += 1
    return taken


def run_selected(args: argparse.Namespace, selected: tuple[ModuleScope, ...],
                 plan: dict[str, list[Mutant]], sources: dict[str, str], session: Session,
                 started: float) -> None:
    todo = pending(args, selected, plan, sources, session)
    if not todo:
        print("nothing to run (every selected mutant has a result; --only or "
              "--rerun-survivors to run some again)", flush=True)
        return
    args.state.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        residents = []
        for n in range(max(1, args.parallel)):
            tree = stack.enter_context(ScratchTree.made(REPO))
            tree.check_imports()
            for module in selected:
                if tree.read(module.path) != sources[module.path]:
                    raise SystemExit(f"{module.path}: the copy differs from the work tree")
            resident = ResidentCatalogue(tree, args.state / f"resident-{n}.log", args.nice)
            stack.callback(resident.stop)
            residents.append(resident)
        _each(residents, ResidentCatalogue.start)
        for resident in residents:
            bad = sorted(c for c, o in resident.baseline.items() if o in ("FAIL", "ERROR"))
            print(f"resident catalogue in {resident.tree.root}: started in "
                  f"{resident.startup_seconds:.1f} s, baseline {len(resident.baseline)} "
                  f"cases, FAIL/ERROR in the unmutated reference: {len(bad)} {bad[:3]}",
                  flush=True)
        timeout = max(120.0, 3 * _baseline_seconds(residents))
        killers = _killers([session, *(Session.open(p) for p in args.order_from)], sources)
        jobs: queue.Queue[tuple[ModuleScope, Mutant]] = queue.Queue()
        for job in todo:
            jobs.put(job)
        lock = threading.Lock()
        count = [0]

        def work(resident: ResidentCatalogue) -> None:
            while args.budget is None or time.monotonic() - started <= args.budget:
                try:
                    module, mutant = jobs.get_nowait()
                except queue.Empty:
                    return
                with lock:
                    first = [c for c, _ in killers[module.path].most_common(FIRST_CASES)]
                result = run_mutant(resident, module, mutant, sources[module.path], first,
                                    timeout)
                with lock:
                    result = session.record(result)
                    killers[module.path].update(result.killers[:1])
                    count[0] += 1
                print(f"{result.status:18} {result.seconds:6.1f} s  {mutant.key}"
                      + (f"  <- {result.killers[0]}" if result.killers else ""), flush=True)

        _each(residents, work)
        wall = time.monotonic() - started   # the whole invocation: copies, start-up, baselines
        if not jobs.empty():
            print("budget spent: stopping (run again to resume)", flush=True)
        _write_timing(args.state, selected, residents, wall, count[0])


def pending(args: argparse.Namespace, selected: tuple[ModuleScope, ...],
            plan: dict[str, list[Mutant]], sources: dict[str, str], session: Session
            ) -> list[tuple[ModuleScope, Mutant]]:
    """The mutants to run: those without a result of this source (or named by --only),
    the claimed kills to confirm first."""
    verdicts = load_verdicts()
    todo, reruns = [], []
    for module, mutant in run_order(selected, plan):
        done = session.current(mutant.key, source_hash(sources[module.path]))
        claimed = verdicts.get(mutant.key)
        if args.only:
            if mutant.key in args.only:
                todo.append((module, mutant))
        elif done is None:
            todo.append((module, mutant))
        elif (args.rerun_survivors and done.status in (SURVIVED, KILLED_NON_STRICT)
              and claimed is not None and claimed.kind == "killed-since"):
            reruns.append((module, mutant))
    return reruns + todo


def _each(residents: list[ResidentCatalogue], fn: object) -> None:
    """fn(resident) for each resident in its own thread; the first error re-raised."""
    errors: list[BaseException] = []

    def call(resident: ResidentCatalogue) -> None:
        try:
            fn(resident)  # type: ignore[operator]
        except BaseException as exc:   # re-raised in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=call, args=(r,), daemon=True) for r in residents]
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():
            thread.join(0.5)
    if errors:
        raise errors[0]


def _killers(sessions: list[Session], sources: dict[str, str]) -> dict[str, Counter[str]]:
    """Per module, the cases that killed its mutants so far (they run first)."""
    out: dict[str, Counter[str]] = {path: Counter() for path in sources}
    for session in sessions:
        for result in session.results.values():
            if result.module in out and \
                    result.source_hash == source_hash(sources[result.module]):
                out[result.module].update(result.killers[:1])
    return out


def _baseline_seconds(residents: list[ResidentCatalogue]) -> float:
    return max(r.baseline_seconds for r in residents)


def _write_timing(state: Path, modules: tuple[ModuleScope, ...],
                  residents: list[ResidentCatalogue], wall: float, mutants: int) -> None:
    """One line per invocation that ran mutants (summary.md shows them all)."""
    record = Invocation(modules=tuple(m.path for m in modules), mutants=mutants,
                        wall_seconds=round(wall, 1), parallel=len(residents),
                        startup_seconds=round(max(r.startup_seconds for r in residents), 1),
                        baseline_seconds=round(_baseline_seconds(residents), 1))
    with (state / "invocations.jsonl").open("a") as handle:
        handle.write(record.to_json() + "\n")


def _read_timing(state: Path) -> list[Invocation]:
    path = state / "invocations.jsonl"
    return [Invocation.from_json(line) for line in path.read_text().splitlines()
            if line.strip()] if path.exists() else []


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


if __name__ == "__main__":
    raise SystemExit(main())
