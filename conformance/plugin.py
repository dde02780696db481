"""The pytest plugin: options, clause markers, outcome mapping and the run's end.

A case is any test marked `@pytest.mark.clause(ID, LEVEL)`. This plugin
- checks ID and LEVEL against the catalogue's clause list and attaches the
  clause id, level and requirement sentence to the item (JUnit properties);
- selects by `--clause DST` / `--clause DST-1`;
- takes a journal mark before each case and collects the case's events after;
- maps what happened to one `CaseResult` (`conformance.outcomes`):
  AssertionError or an escaped RemoteError -> violation at the case's level,
  `Unsupported` (or pytest.skip) -> UNSUPPORTED, anything else
  (CandidateError, EvidenceUnavailable, a broken case) -> ERROR;
- tells pytest: NON-STRICT and INFORMATIONAL pass unless --strict,
  UNSUPPORTED is skipped with its reason, FAIL and ERROR fail;
- carries each CaseResult on the teardown report (so xdist brings it to the
  controller) and, at the end (also when the run stopped early), hands all
  of them to `conformance.reporting.finish_run`, whose answer is the exit code.

Tests without a clause marker are left alone.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.metadata
import platform
import time
from collections.abc import Generator, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from conformance import catalogue, health, leaks, lost, preflight, registry, reporting, stopping
from conformance.adapter import Adapter, Unsupported
from conformance.console import Console
from conformance.fixtures import (  # noqa: F401  (fixtures are found by name)
    RUN_STATE,
    RunState,
    candidate,
    case_state,
    clock,
    default_world,
    instance,
    instances,
    verdict,
    world,
)
from conformance.model import CaseResult, ClauseRef, Level, RunInfo, judge
from conformance.outcomes import (
    UNSUPPORTED,
    VIOLATION,
    ClauseProblem,
    Phase,
    build_result,
    classify,
)
from conformance.reporting.tally import is_failing

CLAUSE_REF = pytest.StashKey[ClauseRef]()
CLAUSE_PROBLEM = pytest.StashKey[str]()
PHASES = pytest.StashKey[dict[str, Phase]]()
EVENTS = pytest.StashKey[list[dict[str, Any]]]()
RESULTS = pytest.StashKey[list[CaseResult]]()
STARTED = pytest.StashKey[float]()
KNOWN_IDS = pytest.StashKey[list[str]]()
TRANSCRIPTS = pytest.StashKey[list[dict[str, Any]]]()
OTHER_FAILURES = pytest.StashKey[list[str]]()
LEAKS = pytest.StashKey[list[CaseResult]]()
LOST = pytest.StashKey[lost.LostCases]()


# ---------------------------------------------------------------------------
# Options and configuration
# ---------------------------------------------------------------------------

def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "conformance suite (gae-sockets)")
    group.addoption("--candidate", default=None, metavar="NAME",
                    help="registered candidate to test (see `python -m conformance "
                         "candidates`); default: reference if present, else native")
    group.addoption("--adapter", default=None, metavar="MODULE:CLASS",
                    help="an Adapter subclass to test, by import path (not with --candidate)")
    group.addoption("--profile", default=None,
                    help="candidate profile (default: the adapter's first profile)")
    group.addoption("--conformance-strict", action="store_true", default=False,
                    help="NON-STRICT (a SHOULD violated) fails the run; pytest's own "
                         "--strict implies it")
    group.addoption("--clause", action="append", default=[], metavar="ID",
                    help="run only cases of this clause (DST-1) or family (DST); repeatable")
    group.addoption("--report", default=None, metavar="DIR",
                    help="write results (JSON, JUnit XML, HTML, Markdown) to DIR")
    group.addoption("--baseline", default=None, metavar="FILE",
                    help="results file to compare with; only regressions fail the run")
    group.addoption("--update-baseline", action="store_true", default=False,
                    help="write this run's results as the new baseline (to --baseline FILE, "
                         "else reports/baselines/CANDIDATE.json)")
    group.addoption("--fresh-instances", action="store_true", default=False,
                    help="start a fresh instance for every case instead of pooling")
    group.addoption("--call-timeout", type=float, default=None, metavar="SECONDS",
                    help="deadline for each call into an instance (default 30)")
    group.addoption("--world", default=None, metavar="FILE",
                    help="world file for the fake internet (default: fakenet/world.toml)")
    # for the harness's own tests: "module:function" returning a world stand-in
    group.addoption("--conformance-world", default=None, help=argparse.SUPPRESS)


def strict_mode(config: pytest.Config) -> bool:
    return bool(config.getoption("conformance_strict") or config.getoption("strict", False))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "clause(id, level): the spec clause and requirement level a case checks")
    try:   # the full setup check is `run`'s (conformance.preflight); this one is cheap
        factory = preflight.resolve(config.getoption("candidate"), config.getoption("adapter"))
    except preflight.SetupError as exc:
        raise pytest.UsageError(exc.message) from None
    world_factory = None
    world_path = config.getoption("conformance_world")
    if world_path:
        try:
            world_factory = registry.load_callable(world_path)
        except LookupError as exc:
            raise pytest.UsageError(str(exc)) from None
    elif config.getoption("world"):
        world_file = Path(config.getoption("world"))
        if not world_file.is_file():
            raise pytest.UsageError(f"--world {world_file}: no such file")
        world_factory = partial(default_world, world_file)
    config.stash[RUN_STATE] = RunState(
        adapter_factory=factory, profile=config.getoption("profile"),
        world_factory=world_factory, pool_instances=not config.getoption("fresh_instances"),
        call_timeout=config.getoption("call_timeout"))
    if _runs_cases_here(config):
        config.stash[RUN_STATE].warm_up()   # world, session, an instance: while collecting
    config.stash[RESULTS] = []
    config.stash[OTHER_FAILURES] = []
    config.stash[STARTED] = time.time()
    config.pluginmanager.register(ResultCollector(config), "conformance-results")
    if not hasattr(config, "workerinput"):
        console = Console(config, strict_mode(config), lambda: config.stash.get(RESULTS, []))
        config.pluginmanager.register(console, "conformance-console")
    if not hasattr(config, "workerinput") and not config.option.collectonly:
        # lost cases are counted where results are, when cases are meant to run
        scratch = config.stash[RUN_STATE].workdir
        config.stash[LOST] = lost.LostCases(scratch / "selected.json")
        config.pluginmanager.register(config.stash[LOST], "conformance-lost")
        config.pluginmanager.register(stopping.FastStop(), "conformance-fast-stop")


def _runs_cases_here(config: pytest.Config) -> bool:
    """Whether this process runs cases: an xdist worker, or a run without xdist; not the
    xdist controller, not --collect-only."""
    if config.getoption("collectonly", False):
        return False
    if hasattr(config, "workerinput"):
        return True
    return not (config.getoption("numprocesses", None) or config.getoption("dist", "no")
                not in ("no", None))


# ---------------------------------------------------------------------------
# Collection: clause references and selection
# ---------------------------------------------------------------------------

_clauses_cache: dict[str, Any] | None = None
_clauses_error: str | None = None


def load_clause_table() -> dict[str, Any]:
    """The registered catalogue's clauses (conformance.catalogue), loaded once, lazily."""
    global _clauses_cache, _clauses_error
    if _clauses_cache is None and _clauses_error is None:
        try:
            _clauses_cache = dict(catalogue.registered().load_clauses())
        except Exception as exc:
            _clauses_error = f"cannot load the catalogue's clause list: {exc}"
    if _clauses_error is not None:
        raise LookupError(_clauses_error)
    assert _clauses_cache is not None
    return _clauses_cache


def clause_ref_for(marker: pytest.Mark) -> ClauseRef:
    """The ClauseRef a `clause` marker names; ValueError/LookupError saying what is wrong."""
    args = list(marker.args)
    clause_id = args[0] if args else marker.kwargs.get("id")
    level = args[1] if len(args) > 1 else marker.kwargs.get("level")
    if not clause_id or not level:
        raise ValueError(f"@pytest.mark.clause needs an id and a level, got {marker.args!r}")
    table = load_clause_table()
    clause = table.get(str(clause_id))
    if clause is None:
        raise LookupError(f"unknown clause {clause_id!r} (not in the catalogue's clause list)")
    ref: ClauseRef = clause.ref(level)
    return ref


def _must_ref(clause_id: str) -> ClauseRef:
    """The MUST reference of a clause (a leak's clause: DST-x, P25-1, EXC-x)."""
    ref: ClauseRef = load_clause_table()[clause_id].ref(Level.MUST)
    return ref


def _selected(clause_id: str, wanted: list[str]) -> bool:
    family = clause_id.split("-", 1)[0]
    return any(w.upper() in (clause_id.upper(), family.upper()) for w in wanted)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    # every case id before any selection: tells "not run this time" from "removed"
    config.stash[KNOWN_IDS] = [case_id(i) for i in items if i.get_closest_marker("clause")]
    if hasattr(config, "workeroutput"):  # an xdist worker: send them to the controller
        config.workeroutput["conformance_known_ids"] = config.stash[KNOWN_IDS]
    wanted = [w.strip() for option in config.getoption("clause") for w in option.split(",")
              if w.strip()]
    if wanted:
        try:
            table = load_clause_table()
        except LookupError:
            table = {}
        known = set(table) | {c.split("-", 1)[0] for c in table}
        unknown = [w for w in wanted if table and w.upper() not in known]
        if unknown:
            families = ", ".join(sorted({c.split("-", 1)[0] for c in table}))
            raise pytest.UsageError(f"--clause {', '.join(unknown)}: no such clause or family "
                                    f"(families: {families})")
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        marker = item.get_closest_marker("clause")
        if marker is None:
            (drop if wanted else keep).append(item)
            continue
        clause_id = str(marker.args[0]) if marker.args else "?"
        try:
            ref = clause_ref_for(marker)
        except (ValueError, LookupError) as exc:
            level = marker.args[1] if len(marker.args) > 1 else "MUST"
            try:
                parsed = Level(str(level).upper())
            except ValueError:
                parsed = Level.MUST
            ref = ClauseRef(clause_id, parsed, "")
            item.stash[CLAUSE_PROBLEM] = str(exc)
        item.stash[CLAUSE_REF] = ref
        if config.getoption("tbstyle", "auto") == "auto":
            _use_concise_failures(item)
        item.user_properties.extend([("clause", ref.id), ("level", ref.level.value),
                                     ("requirement", ref.requirement)])
        (keep if not wanted or _selected(ref.id, wanted) else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_collection_finish(session: pytest.Session) -> None:
    """Name the selected cases for conformance.lost (here, or for the xdist controller)."""
    config = session.config
    selected = lost.describe_items(session.items, lambda i: i.stash.get(CLAUSE_REF, None),
                                   case_id)
    target = getattr(config, "workerinput", {}).get(lost.SELECTED_KEY)
    if target:
        lost.write_selected(Path(target), selected)
    elif LOST in config.stash:
        config.stash[LOST].selected = selected


def _use_concise_failures(item: pytest.Item) -> None:
    """Show a violation as clause, expected and observed (like h2spec), not as a
    traceback: that is what a reader needs, and rendering hundreds of tracebacks
    for a candidate that fails a whole family costs seconds. `--tb=long` (or any
    explicit --tb) brings tracebacks back."""
    original = item.repr_failure

    def repr_failure(excinfo: pytest.ExceptionInfo[BaseException], *args: Any,
                     **kwargs: Any) -> Any:
        kind, message = classify(excinfo)
        if kind != VIOLATION:
            return original(excinfo, *args, **kwargs)
        ref = item.stash[CLAUSE_REF]
        lines = [f"{judge(ref.level, False).value}: {ref.id} ({ref.level.value}) "
                 f"{ref.requirement}"]
        failing = [c for c in case_state(item).checks if not c.ok]
        for check in failing:
            lines += [f"  {check.name}:", f"    expected: {check.expected}",
                      f"    observed: {check.observed}"]
        if not failing:
            lines.append(f"  {message}")
        where = [e for e in excinfo.traceback if Path(str(e.path)) == item.path]
        if where:
            lines.append(f"  at {item.path.name}:{where[-1].lineno + 1}")
        return "\n".join(lines)

    item.repr_failure = repr_failure  # type: ignore[method-assign]


# ---------------------------------------------------------------------------
# Running a case
# ---------------------------------------------------------------------------

def is_case(item: pytest.Item) -> bool:
    return CLAUSE_REF in item.stash


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if not is_case(item):
        return
    case_state(item)
    item.config.stash[RUN_STATE].revive()   # a helper died since the last case: reopen
    problem = item.stash.get(CLAUSE_PROBLEM, None)
    if problem:
        raise ClauseProblem(problem)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    if not is_case(item):
        return (yield)
    state = case_state(item)
    run = item.config.stash[RUN_STATE]
    state.mark = run.begin_case()
    try:
        try:
            result = yield
        except Unsupported:
            raise   # decided before the candidate was asked anything: no grace to wait
        except Exception:
            health.check(run.helpers(), case_id(item), failed=True)
            raise
        health.check(run.helpers(), case_id(item), failed=False)
        return result
    finally:
        item.stash[TRANSCRIPTS] = [
            {"instance": inst.app_id, "python": inst.hello.python if inst.hello else "?",
             "calls": list(inst.transcript)} for inst in state.instances]
        if state.mark is not None:
            try:
                events = [e.to_json() for e in run.case_events(state)]
            except Exception as exc:   # evidence lost, say so
                events = [{"error": f"could not read the journal: {exc}"}]
            item.stash[EVENTS] = events


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """Leaks are judged at MUST, whatever the case was about (conformance.leaks), once its
    fixtures are torn down: what the case's instances sent while closing is its own."""
    if not is_case(item):
        return (yield)
    try:
        return (yield)
    finally:
        state = case_state(item)
        if state.mark is not None:
            found: list[Any] | None = None
            with contextlib.suppress(Exception):   # no journal: an ERROR leak-check result
                state.journal = None   # a fresh, settled read past the case's teardown
                found = item.config.stash[RUN_STATE].case_events(state)
            item.stash[LEAKS] = leaks.judge_case(case_id(item), item.stash[CLAUSE_REF], state,
                                                 found, _must_ref)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if not is_case(item):
        return report
    ref = item.stash[CLAUSE_REF]
    phases = item.stash.setdefault(PHASES, {})
    if call.excinfo is not None:
        kind, message = classify(call.excinfo)
        phases[call.when] = (kind, message)
        _adjust(report, item, ref, kind, message, strict_mode(item.config))
    if call.when == "teardown":
        result = build_result(case_id(item), ref, phases, case_state(item),
                              item.stash.get(EVENTS, []), item.stash.get(TRANSCRIPTS, []))
        report.conformance = result.to_json()  # type: ignore[attr-defined]
        report.conformance_leaks = [  # type: ignore[attr-defined]
            leak.to_json() for leak in item.stash.get(LEAKS, [])]
        report.user_properties.append(("outcome", result.outcome.value))
    return report


def _adjust(report: pytest.TestReport, item: pytest.Item, ref: ClauseRef, kind: str,
            message: str, strict: bool) -> None:
    """What pytest shows: NON-STRICT/INFORMATIONAL pass (unless --strict),
    UNSUPPORTED is a skip with its reason; FAIL and ERROR stay failures."""
    if kind == UNSUPPORTED:
        _path, lineno, _ = item.location
        report.outcome = "skipped"
        report.longrepr = (str(item.path), (lineno or 0) + 1, f"UNSUPPORTED: {message}")
        return
    if kind == VIOLATION and report.when == "call":
        outcome = judge(ref.level, False)
        if not is_failing(outcome, strict):   # NON-STRICT (unless --strict), INFORMATIONAL
            report.sections.append((f"conformance {outcome.value}", message))
            report.outcome = "passed"
            report.longrepr = None


def case_id(item: pytest.Item) -> str:
    """The case's stable ID: its path inside the catalogue (conformance.catalogue)."""
    return catalogue.case_id(item, catalogue.registered_directory())


# ---------------------------------------------------------------------------
# Gathering results (on the xdist controller, or the only process)
# ---------------------------------------------------------------------------

@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """On the xdist controller: the case ids a worker collected (all workers
    collect the same catalogue, so the first one that reports is enough)."""
    ids = getattr(node, "workeroutput", {}).get("conformance_known_ids")
    if ids and KNOWN_IDS not in node.config.stash:
        node.config.stash[KNOWN_IDS] = list(ids)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Fail fast (exit 2) on an unusable --baseline, before any case runs."""
    config = session.config
    baseline = config.getoption("baseline")
    if not baseline or config.getoption("update_baseline") or hasattr(config, "workerinput"):
        return
    info = run_info(config, interrupted=False, strict=strict_mode(config))
    try:
        reporting.check_baseline(Path(baseline), info)
    except reporting.BaselineError as exc:
        pytest.exit(f"error: {exc}", returncode=2)


class ResultCollector:
    """Gathers CaseResults from teardown reports (local, or from xdist workers)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.durations: dict[str, float] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.durations[report.nodeid] = self.durations.get(report.nodeid, 0.0) + report.duration
        data = getattr(report, "conformance", None)
        if data is not None and report.when == "teardown":
            data = dict(data)
            data["duration"] = self.durations.pop(report.nodeid, 0.0)
            self.config.stash[RESULTS].append(CaseResult.from_json(data))
            for leak in getattr(report, "conformance_leaks", None) or ():
                self.config.stash[RESULTS].append(CaseResult.from_json(leak))
        elif data is None and report.failed and not _has_clause(report):
            self.config.stash[OTHER_FAILURES].append(report.nodeid)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.config.stash[OTHER_FAILURES].append(report.nodeid or "<collection>")


def _has_clause(report: pytest.TestReport) -> bool:
    return any(name == "clause" for name, _ in report.user_properties)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int,
                            config: pytest.Config) -> None:
    console = config.pluginmanager.get_plugin("conformance-console")
    if console is not None:
        console.write_rollup(terminalreporter, config.stash.get(RESULTS, []))


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if LOST in config.stash:
        config.stash[LOST].load()   # before run.close() removes the file it reads
    run = config.stash.get(RUN_STATE, None)
    if run is not None:
        run.close()
    if hasattr(config, "workerinput"):
        return   # an xdist worker: the controller reports
    # Ctrl-C, or -x/--maxfail (serially pytest says TESTS_FAILED, under xdist
    # INTERRUPTED): either way cases may be missing, and the results say so.
    stopped_early = (exitstatus == pytest.ExitCode.INTERRUPTED
                     or bool(session.shouldfail or session.shouldstop))
    results = config.stash.get(RESULTS, [])
    if LOST in config.stash:   # cases that never reported: ERROR, and the run is incomplete
        missing = config.stash[LOST].results({r.case_id for r in results})
        results = [*results, *missing]
        stopped_early = stopped_early or bool(missing)
    if not results and not stopped_early:
        return   # nothing ran: an empty selection is pytest's business (exit 5)
    strict = strict_mode(config)
    report_dir = Path(config.getoption("report")) if config.getoption("report") else None
    baseline = Path(config.getoption("baseline")) if config.getoption("baseline") else None
    code = reporting.finish_run(
        run_info(config, interrupted=stopped_early, strict=strict), results, report_dir,
        baseline, bool(config.getoption("update_baseline")), strict,
        known_ids=config.stash.get(KNOWN_IDS, None) or None)
    if exitstatus in (pytest.ExitCode.INTERRUPTED, pytest.ExitCode.INTERNAL_ERROR,
                      pytest.ExitCode.USAGE_ERROR):
        return
    if config.stash.get(OTHER_FAILURES, []):
        session.exitstatus = max(int(code), int(pytest.ExitCode.TESTS_FAILED))
        return
    session.exitstatus = code


def pytest_unconfigure(config: pytest.Config) -> None:
    """A run that never reached sessionfinish (a usage error) still stops what the
    warm-up started."""
    run = config.stash.get(RUN_STATE, None)
    if run is not None:
        run.close()


def run_info(config: pytest.Config, *, interrupted: bool, strict: bool) -> RunInfo:
    name, version, profile = describe_candidate(config)
    try:
        suite_version = importlib.metadata.version("gae-sockets-conformance")
    except importlib.metadata.PackageNotFoundError:
        suite_version = "0.1.0"
    return RunInfo(suite_version=suite_version, candidate=name, candidate_version=version,
                   profile=profile, python=platform.python_version(),
                   platform=platform.platform(), started=config.stash[STARTED],
                   finished=time.time(), strict=strict, interrupted=interrupted,
                   argv=tuple(str(a) for a in config.invocation_params.args))


def describe_candidate(config: pytest.Config) -> tuple[str, str, str]:
    """(name, version, profile) of the candidate: from its open session, else (the
    xdist controller opens none) from the adapter itself."""
    chosen = config.getoption("profile")
    run = config.stash.get(RUN_STATE, None)
    if run is not None and run.candidate is not None:
        return (run.candidate.info.name, run.candidate.info.version,
                chosen or run.candidate.profile)
    with contextlib.suppress(Exception):
        factory = registry.resolve(config.getoption("candidate"), config.getoption("adapter"))
        adapter: Adapter = factory()
        info = adapter.info()
        return info.name, info.version, chosen or adapter.profiles[0]
    name = str(config.getoption("candidate") or config.getoption("adapter") or "?")
    return name, "?", chosen or "default"
