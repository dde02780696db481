"""The fixtures a conformance case uses, and the run state behind them.

    @pytest.mark.clause("DST-1", "MUST")
    def test_private_tcp_blocked(instance, verdict):
        socket = instance.module("socket")
        tried = instance.attempt(socket.create_connection, ("10.0.0.1", 7), 5)
        verdict.blocked(tried, address="10.0.0.1", port=7, proto="tcp")

Fixtures (registered by conformance.plugin):
- `world`     session: the running fake internet (fakenet.WorldHandle), one per xdist worker.
- `candidate` session: the adapter with its session open (`Candidate`).
- `instance`  function: an instance of app "app-a", fresh or pooled-and-reset.
- `instances` function: `instances.start(app_id)` starts fresh instances, stopped after the case.
- `clock`     function: `clock.advance(seconds)`; the case is UNSUPPORTED without Capability.CLOCK.
- `verdict`   function: evidence checks over the journal since the plugin's per-case mark
              (`conformance.verdict`; a failed check is an AssertionError, judged by level).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import shutil
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from conformance import health
from conformance.adapter import (
    Adapter,
    CandidateInfo,
    Capability,
    SessionContext,
    Unsupported,
)
from conformance.instance import CandidateError, Instance, note_activity
from conformance.leaks import Cell
from conformance.verdict import Check, EvidenceUnavailable, JournalRead, Verdict, case_journal
from fakenet import workdirs

APP_A = "app-a"
RESET_TIMEOUT = 5.0


# ---------------------------------------------------------------------------
# Run-wide state (one per pytest process, i.e. per xdist worker)
# ---------------------------------------------------------------------------

@dataclass
class CaseState:
    """What the plugin and the fixtures learn about one case while it runs."""

    mark: int | None = None
    checks: list[Check] = field(default_factory=list)
    instances: list[Instance] = field(default_factory=list)
    evidence: list[dict[str, Any]] = field(default_factory=list)
    # leaks (conformance.leaks): cells the case reaches on purpose, cells it judges itself
    expected: set[Cell] = field(default_factory=set)
    judged: set[Cell] = field(default_factory=set)
    journal: JournalRead | None = None       # the last read, reused until new activity


class Candidate:
    """The adapter of the candidate under test, with its session open."""

    def __init__(self, adapter: Adapter, context: SessionContext) -> None:
        self.adapter = adapter
        self.context = context
        self.info: CandidateInfo = adapter.info()
        self.capabilities: frozenset[Capability] = adapter.capabilities()
        self.profile = context.profile

    def require(self, capability: Capability) -> None:
        """Raise Unsupported (-> UNSUPPORTED) unless the candidate has `capability`."""
        if capability not in self.capabilities:
            raise Unsupported(f"candidate {self.info.name!r} lacks capability "
                              f"{capability.value!r}")

    def require_profile(self, *profiles: str) -> None:
        """Raise Unsupported unless the run's profile is one of `profiles`."""
        if self.profile not in profiles:
            raise Unsupported(f"only checked under profile {' or '.join(profiles)} "
                              f"(this run: {self.profile!r})")

    def bytes_metered(self, app_id: str = APP_A) -> int:
        self.require(Capability.BYTE_METER)
        return self.adapter.bytes_metered(app_id)


class RunState:
    """Lazily started world, candidate session and instance pool of one process."""

    def __init__(self, adapter_factory: Callable[[], Adapter], profile: str | None,
                 world_factory: Callable[[], Any] | None = None,
                 pool_instances: bool = True, call_timeout: float | None = None) -> None:
        self._adapter_factory = adapter_factory
        self._profile = profile
        self._world_factory = world_factory or default_world
        self.pool_instances = pool_instances
        self.call_timeout = call_timeout
        self.world: Any = None
        self.candidate: Candidate | None = None
        self._world_error: BaseException | None = None
        self._candidate_error: BaseException | None = None
        self._pool: dict[str, list[Instance]] = {}
        self.workdir = workdirs.make("conformance")
        self._starting = threading.RLock()   # the warm-up thread and the first case
        self._warming: threading.Thread | None = None

    def warm_up(self) -> None:
        """Start the world, the candidate's session and one pooled instance in a thread,
        while pytest collects. A failure is kept and raised where the first case asks
        (get_world, get_candidate), exactly as without the warm-up."""
        def start() -> None:
            with contextlib.suppress(Exception):
                self.get_candidate()
                if self.pool_instances:
                    self._pool.setdefault(APP_A, []).append(self.start_instance(APP_A))
        self._warming = threading.Thread(target=start, name="conformance-warm-up", daemon=True)
        self._warming.start()

    def _warmed(self) -> None:
        """Wait for the warm-up, so the first case gets its instance (and never two start)."""
        if self._warming is not None:
            self._warming.join()
            self._warming = None

    def get_world(self) -> Any:
        with self._starting:
            if self._world_error is not None:
                raise self._world_error
            if self.world is None:
                try:
                    self.world = self._world_factory()
                except BaseException as exc:
                    self._world_error = exc
                    raise
            return self.world

    def get_candidate(self) -> Candidate:
        with self._starting:
            return self._open_candidate()

    def _open_candidate(self) -> Candidate:
        if self._candidate_error is not None:
            raise self._candidate_error
        if self.candidate is None:
            world = self.get_world()
            try:
                adapter = self._adapter_factory()
                profile = self._profile or (adapter.profiles[0] if adapter.profiles
                                            else "default")
                if profile not in adapter.profiles:   # a setup error, never UNSUPPORTED
                    raise LookupError(f"candidate {adapter.info().name!r} has no profile "
                                      f"{profile!r} (it has: {', '.join(adapter.profiles)})")
                context = SessionContext(world=world, profile=profile,
                                         workdir=self.workdir / "session",
                                         env=base_environment())
                context.workdir.mkdir(parents=True, exist_ok=True)
                adapter.open_session(context)
                self.candidate = Candidate(adapter, context)
            except BaseException as exc:
                self._candidate_error = exc
                raise
        return self.candidate

    def helpers(self) -> list[health.Spawned]:
        """The helper processes the open session spawned (watched by conformance.health)."""
        if self.candidate is None:
            return []
        return [health.Spawned(argv, proc) for argv, proc in self.candidate.context.spawned]

    def revive(self) -> str | None:
        """If a helper of the session died: close it, drop the pooled instances (they
        talk to the dead helper) and open a new session. Returns what died, if anything;
        a session that cannot reopen makes every later case ERROR (get_candidate)."""
        found = health.dead(self.helpers())
        if not found or self.candidate is None:
            return None
        self.reopen()
        with contextlib.suppress(Exception):
            self.get_candidate()
        return "; ".join(found)

    def reopen(self) -> None:
        """Kill the pooled instances and close the candidate's session; the next case
        opens a new one from the candidate's code as it is now on disk (used by revive,
        and by the mutation run between mutants: benchmarks/strength/resident.py)."""
        self._warmed()
        for pool in self._pool.values():
            for instance in pool:
                instance.kill()
        self._pool.clear()
        if self.candidate is not None:
            with contextlib.suppress(Exception):
                self.candidate.adapter.close_session()
        self.candidate = None
        self._candidate_error = None

    def begin_case(self) -> int | None:
        """The journal mark of the case about to run (None while no world runs). The
        world settles before it marks: what the previous case's teardown caused (a
        pooled instance closing its sockets) lands before this case's mark."""
        if self.world is None:
            return None
        mark: int = self.world.mark()
        return mark

    def case_events(self, state: CaseState) -> list[Any]:
        """The journal events of the case: the case's last read when nothing happened
        since (one round trip saved), else one fresh read."""
        return case_journal(state, self.world)

    def start_instance(self, app_id: str, env: Mapping[str, str] | None = None) -> Instance:
        candidate = self.get_candidate()
        spec = candidate.adapter.instance(app_id)
        instance = Instance.start(spec, app_id, self.get_world(),
                                  base_env={**candidate.context.env, **(env or {})},
                                  workdir=self.workdir / "instances")
        if self.call_timeout:
            instance.call_timeout = self.call_timeout
        return instance

    def checkout(self, app_id: str) -> Instance:
        """A pooled instance of `app_id` if a live one is free, else a fresh one."""
        self._warmed()
        pool = self._pool.setdefault(app_id, [])
        while pool:
            instance = pool.pop()
            if instance.alive:
                return instance
            instance.kill()
        return self.start_instance(app_id)

    def checkin(self, instance: Instance) -> None:
        """Reset `instance` and keep it for the next case, or stop it."""
        if not (self.pool_instances and instance.alive):
            instance.close()
            return
        try:
            with instance.timeout(RESET_TIMEOUT):
                instance.reset()
        except Exception:
            instance.kill()
            return
        self._pool.setdefault(instance.app_id, []).append(instance)

    def close(self) -> None:
        self._warmed()
        for pool in self._pool.values():
            for instance in pool:
                instance.close()
        self._pool.clear()
        if self.candidate is not None:
            with contextlib.suppress(Exception):
                self.candidate.adapter.close_session()
        self.candidate = None
        if self.world is not None:
            with contextlib.suppress(Exception):
                self.world.stop()
        self.world = None
        shutil.rmtree(self.workdir, ignore_errors=True)


def default_world(world_file: Path | None = None) -> Any:
    """The real fake internet: one fakenet.WorldHandle (NamespaceUnavailable says
    why not; nothing falls back to the host network)."""
    fakenet = importlib.import_module("fakenet")
    return fakenet.WorldHandle.start(world_file=world_file)


def base_environment() -> dict[str, str]:
    """The environment every instance starts from: nothing of the harness's own
    (no PYTHONPATH, no virtualenv), so that the candidate sees a plain runtime."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
           "PYTHONIOENCODING": "utf-8", "PYTHONDONTWRITEBYTECODE": "1"}
    if "HOME" in os.environ:
        env["HOME"] = os.environ["HOME"]
    return env


# ---------------------------------------------------------------------------
# Clock and the instance factory
# ---------------------------------------------------------------------------

class Clock:
    """The candidate's virtual clock (Capability.CLOCK)."""

    def __init__(self, candidate: Candidate) -> None:
        candidate.require(Capability.CLOCK)
        self._adapter = candidate.adapter
        self.advanced = 0.0

    def advance(self, seconds: float) -> None:
        note_activity()
        self._adapter.advance_clock(seconds)
        self.advanced += seconds


class Instances:
    """Starts fresh instances for a case; stops them when the case ends."""

    def __init__(self, run: RunState, state: CaseState) -> None:
        self._run = run
        self._state = state
        self._started: list[Instance] = []

    def start(self, app_id: str = APP_A, env: Mapping[str, str] | None = None) -> Instance:
        """A fresh instance of `app_id`; `env` is added to its environment at
        boot, as app.yaml's env_variables are (the adapter's own env wins)."""
        instance = self._run.start_instance(app_id, env)
        self._started.append(instance)
        self._state.instances.append(instance)
        return instance

    def stop_all(self) -> None:
        for instance in self._started:
            instance.close()
        self._started.clear()


# ---------------------------------------------------------------------------
# The fixtures (the plugin imports these names)
# ---------------------------------------------------------------------------

RUN_STATE = pytest.StashKey[RunState]()     # on the config (set by the plugin)
CASE_STATE = pytest.StashKey[CaseState]()   # on each case's item


def run_state(config: pytest.Config) -> RunState:
    return config.stash[RUN_STATE]


def case_state(item: pytest.Item) -> CaseState:
    state = item.stash.get(CASE_STATE, None)
    if state is None:
        state = item.stash[CASE_STATE] = CaseState()
    return state


@pytest.fixture(scope="session")
def world(request: pytest.FixtureRequest) -> Any:
    """The running fake internet of this process (one per xdist worker)."""
    return run_state(request.config).get_world()


@pytest.fixture(scope="session")
def candidate(request: pytest.FixtureRequest, world: Any) -> Candidate:
    """The candidate's adapter, its session open."""
    return run_state(request.config).get_candidate()


@pytest.fixture
def instance(request: pytest.FixtureRequest, candidate: Candidate) -> Iterator[Instance]:
    """An instance of app "app-a": pooled and reset between cases (fresh with
    --fresh-instances)."""
    run = run_state(request.config)
    inst = run.checkout(APP_A)
    case_state(request.node).instances.append(inst)
    yield inst
    run.checkin(inst)


@pytest.fixture
def instances(request: pytest.FixtureRequest, candidate: Candidate) -> Iterator[Instances]:
    """`instances.start(app_id)`: fresh instances of any app, stopped after the case."""
    factory = Instances(run_state(request.config), case_state(request.node))
    yield factory
    factory.stop_all()


@pytest.fixture
def clock(candidate: Candidate) -> Clock:
    """The candidate's virtual clock; UNSUPPORTED when it has none."""
    return Clock(candidate)


@pytest.fixture
def verdict(request: pytest.FixtureRequest, world: Any) -> Verdict:
    """Evidence checks over the journal events of this case."""
    return Verdict(case_state(request.node), world)


__all__ = [
    "APP_A", "Candidate", "CandidateError", "CaseState", "Check", "Clock",
    "EvidenceUnavailable", "Instances", "RunState", "Verdict", "candidate", "clock",
    "instance", "instances", "verdict", "world",
]
