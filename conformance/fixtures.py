"""The fixtures a conformance case uses, and the evidence checks (`verdict`).

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
- `verdict`   function: evidence checks over the journal since the plugin's per-case mark.

Every verdict check records expected and observed; a failed one raises
AssertionError, which the plugin turns into FAIL/NON-STRICT/INFORMATIONAL by
the case's level.
"""

from __future__ import annotations

import contextlib
import importlib
import ipaddress
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from conformance.adapter import (
    Adapter,
    CandidateInfo,
    Capability,
    SessionContext,
    Unsupported,
)
from conformance.instance import CandidateError, Instance
from conformance.remote import Attempt

APP_A = "app-a"
RESET_TIMEOUT = 5.0


class EvidenceUnavailable(Exception):
    """The world cannot observe what a check needs (e.g. no canary on that
    port): the case cannot reach a verdict, so it is an ERROR, never a pass."""


# ---------------------------------------------------------------------------
# Run-wide state (one per pytest process, i.e. per xdist worker)
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Check:
    """One evidence check: what the clause expects beside what happened."""

    name: str
    ok: bool
    expected: str
    observed: str

    def to_json(self) -> dict[str, Any]:
        return {"check": self.name, "ok": self.ok, "expected": self.expected,
                "observed": self.observed}


@dataclass
class CaseState:
    """What the plugin and the fixtures learn about one case while it runs."""

    mark: int | None = None
    checks: list[Check] = field(default_factory=list)
    instances: list[Instance] = field(default_factory=list)
    evidence: list[dict[str, Any]] = field(default_factory=list)


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
        self.last_seq = 0          # the highest journal seq already attributed to a case
        self.candidate: Candidate | None = None
        self._world_error: BaseException | None = None
        self._candidate_error: BaseException | None = None
        self._pool: dict[str, list[Instance]] = {}
        self.workdir = Path(tempfile.mkdtemp(prefix="conformance-"))

    def get_world(self) -> Any:
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
        if self._candidate_error is not None:
            raise self._candidate_error
        if self.candidate is None:
            world = self.get_world()
            try:
                adapter = self._adapter_factory()
                profile = self._profile or (adapter.profiles[0] if adapter.profiles
                                            else "default")
                if profile not in adapter.profiles:
                    raise Unsupported(f"candidate {adapter.info().name!r} has no profile "
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
        for pool in self._pool.values():
            for instance in pool:
                instance.close()
        self._pool.clear()
        if self.candidate is not None:
            with contextlib.suppress(Exception):
                self.candidate.adapter.close_session()
        if self.world is not None:
            with contextlib.suppress(Exception):
                self.world.stop()
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
# Verdict: the evidence checks
# ---------------------------------------------------------------------------

class Verdict:
    """Evidence checks over the journal since the case's mark.

    "blocked" = the call raised AND nothing reached the destination;
    "allowed" = the call succeeded AND traffic reached it;
    "delivered" = the peer received exactly these bytes.
    """

    def __init__(self, state: CaseState, world: Any) -> None:
        self._state = state
        self._world = world

    # -- raw material ---------------------------------------------------------
    def events(self, *, address: str | None = None, port: int | None = None,
               proto: str | None = None, kind: str | Sequence[str] | None = None,
               role: str | None = None, endpoint: str | None = None) -> list[Any]:
        """Journal events since the case's mark (settled), filtered."""
        if self._state.mark is None:
            raise EvidenceUnavailable("no journal mark was taken for this case")
        kinds = (kind,) if isinstance(kind, str) else tuple(kind or ())
        if address is not None:
            address = _journal_address(address)
        found = []
        for event in self._world.events(self._state.mark):
            if address is not None and not _same_address(event.dst[0], address):
                continue
            if port is not None and event.dst[1] != port:
                continue
            if proto is not None and event.proto != proto:
                continue
            if kinds and event.kind not in kinds:
                continue
            if role is not None and event.role != role:
                continue
            if endpoint is not None and event.endpoint != endpoint:
                continue
            found.append(event)
        return found

    @property
    def checks(self) -> tuple[Check, ...]:
        return tuple(self._state.checks)

    def evidence(self, entry: Mapping[str, Any]) -> None:
        """Attach one structured entry to the case's result, e.g. the
        `{"matrix": {...}}` cell the reports' destination table reads."""
        self._state.evidence.append(dict(entry))

    def check(self, ok: bool, *, expected: str, observed: str, name: str = "check") -> None:
        """Record one check; raise AssertionError if it failed."""
        self._state.checks.append(Check(name, bool(ok), expected, observed))
        if not ok:
            raise AssertionError(f"{name}: expected {expected}; observed {observed}")

    # -- the verdicts -----------------------------------------------------------
    def raised(self, attempt: Attempt, *, errno: str | Sequence[str] | None = None,
               socket_error: bool | None = None, is_a: str | None = None,
               timeout: bool | None = None) -> None:
        """The attempt raised, optionally with errno in `errno` ("EACCES"), as a
        socket.error (`socket_error=True`), with `is_a` in its MRO."""
        wants = ["the call raises"]
        if socket_error:
            wants.append("a socket.error")
        if timeout:
            wants.append("a socket.timeout")
        if is_a:
            wants.append(f"an instance of {is_a}")
        names = (errno,) if isinstance(errno, str) else tuple(errno or ())
        if names:
            wants.append(f"errno {' or '.join(names)}")
        error = attempt.error
        ok = (error is not None
              and (socket_error is None or error.is_socket_error == socket_error)
              and (timeout is None or error.is_timeout == timeout)
              and (is_a is None or error.is_a(is_a))
              and (not names or error.has_errno(*names)))
        self.check(ok, expected=", ".join(wants), observed=attempt.describe(), name="raised")

    def succeeded(self, attempt: Attempt) -> None:
        self.check(attempt.ok, expected="the call succeeds", observed=attempt.describe(),
                   name="succeeded")

    def nothing_reached(self, address: str, port: int | None = None,
                        proto: str | None = None) -> None:
        """No journal event (connection, datagram, service request) at address:port/proto."""
        self._require_observable(address, port, proto)
        hits = self.events(address=address, port=port, proto=proto)
        where = _where(address, port, proto)
        self.check(not hits, expected=f"nothing reaches {where}",
                   observed=_describe_events(hits) if hits else f"nothing reached {where}",
                   name="nothing-reached")

    def reached(self, address: str, port: int | None = None, proto: str | None = None,
                kind: str | Sequence[str] | None = None) -> list[Any]:
        """Some journal event at address:port/proto; returns them."""
        hits = self.events(address=address, port=port, proto=proto, kind=kind)
        where = _where(address, port, proto)
        self.check(bool(hits), expected=f"traffic reaches {where}",
                   observed=_describe_events(hits) if hits else f"nothing reached {where}",
                   name="reached")
        return hits

    def blocked(self, attempt: Attempt, address: str, port: int, proto: str = "tcp") -> None:
        """Both halves of "blocked": the call raised AND nothing reached address:port/proto.
        Both are checked (and recorded) even when the first fails."""
        self._require_observable(address, port, proto)
        hits = self.events(address=address, port=port, proto=proto)
        where = _where(address, port, proto)
        ok = attempt.raised and not hits
        observed = attempt.describe() + "; " + (
            _describe_events(hits) if hits else f"nothing reached {where}")
        self.check(ok, expected=f"the call raises and nothing reaches {where}",
                   observed=observed, name="blocked")

    def allowed(self, attempt: Attempt, address: str, port: int, proto: str = "tcp") -> None:
        """The call succeeded AND traffic reached address:port/proto."""
        hits = self.events(address=address, port=port, proto=proto)
        where = _where(address, port, proto)
        observed = attempt.describe() + "; " + (
            _describe_events(hits) if hits else f"nothing reached {where}")
        self.check(attempt.ok and bool(hits),
                   expected=f"the call succeeds and traffic reaches {where}",
                   observed=observed, name="allowed")

    def delivered(self, nbytes: int, sha256: str, *, address: str | None = None,
                  port: int | None = None, proto: str = "tcp") -> Any:
        """The peer received exactly `nbytes` with digest `sha256`: one TCP
        connection's `close` event, or one UDP `datagram`. Returns the event."""
        kind = "close" if proto == "tcp" else "datagram"
        candidates = self.events(address=address, port=port, proto=proto, kind=kind)
        match = [e for e in candidates if e.nbytes == nbytes and e.sha256 == sha256]
        where = _where(address or "any address", port, proto)
        self.check(bool(match),
                   expected=f"{nbytes} bytes sha256={sha256[:16]}... arrive intact at {where}",
                   observed=_describe_events(candidates) if candidates
                   else f"no {kind} event at {where}",
                   name="delivered")
        return match[0]

    # -- observability ----------------------------------------------------------
    def _require_observable(self, address: str, port: int | None, proto: str | None) -> None:
        """Refuse to call something "blocked" that the world could not have seen."""
        data = getattr(self._world, "data", None)
        if data is None:
            return
        if port is not None and proto in ("tcp", "udp") and port not in data.watched_ports(proto):
            raise EvidenceUnavailable(
                f"the world does not watch {proto} port {port}: no canary could see "
                f"traffic to it, so 'nothing reached' would prove nothing")
        if not _watched_address(data, address):
            raise EvidenceUnavailable(
                f"the world does not watch address {address}: traffic to it would not be "
                f"journalled, so 'nothing reached' would prove nothing")


def _ip(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """The address as the network sees it: an IPv4-mapped IPv6 address is its IPv4."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _same_address(a: str, b: str) -> bool:
    try:
        return _ip(a) == _ip(b)
    except ValueError:
        return a == b


def _journal_address(address: str) -> str:
    """The address as the journal records it. A host name cannot be matched
    (events carry the address dialled), and silently matching nothing would
    make "nothing reached" pass, so a name is refused."""
    if address == "<broadcast>":
        return "255.255.255.255"
    try:
        _ip(address)
    except ValueError:
        raise EvidenceUnavailable(
            f"{address!r} is not an IP address: journal events carry the address dialled, "
            f"so give the address the name resolves to in the world") from None
    return address


def _watched_address(data: Any, address: str) -> bool:
    ip = _ip(_journal_address(address))
    if ip.is_unspecified or ip.is_loopback:
        return True
    watched = getattr(data, "watched", None)
    networks = []
    if watched is not None:
        networks = [*watched.ipv4, *watched.ipv6, *watched.multicast]
        if str(ip) in watched.broadcast:
            return True
    if any(ip.version == n.version and ip in n for n in networks):
        return True
    return any(_same_address(a, str(ip)) for host in data.hosts for a in host.addresses)


def _where(address: str, port: int | None, proto: str | None) -> str:
    place = f"[{address}]" if ":" in address else address
    if port is not None:
        place += f":{port}"
    return place + (f"/{proto}" if proto else "")


def _describe_events(events: Sequence[Any]) -> str:
    shown = "; ".join(
        f"{e.role} {e.endpoint} {e.kind} {e.proto} {_where(e.dst[0], e.dst[1], None)}"
        + (f" {e.nbytes}B sha256={e.sha256[:12]}" if e.nbytes else "")
        for e in events[:5])
    more = f" (+{len(events) - 5} more)" if len(events) > 5 else ""
    return f"{len(events)} journal event(s): {shown}{more}"


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

def run_state(config: pytest.Config) -> RunState:
    from conformance.plugin import RUN_STATE
    return config.stash[RUN_STATE]


def case_state(item: pytest.Item) -> CaseState:
    from conformance.plugin import CASE_STATE
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
