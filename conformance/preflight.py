"""Setup checks before any case runs: a wrong setup is refused in one line.

A typo, a missing runtime or a broken adapter is the user's setup, not the
candidate's conformance: it must neither become hundreds of ERROR cases
blamed on the candidate nor a green run of UNSUPPORTED ones. `run` calls
`check()` first; a `SetupError` is printed as one line (plus, for an
instance that cannot boot, its stderr tail once) and the run exits 2.

Checked in order: the candidate is named once (`--candidate` or
`--adapter`), it resolves and its adapter can be built (a candidate lacking
its runtime, such as native-py27 without a Python 2.7, fails here), the
profile is one it has, the world file parses, the report directory is
writable; then the live part: the world starts (namespace), the session
opens and one instance boots and says hello. Everything started is stopped.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance import registry
from conformance.adapter import Adapter
from conformance.fixtures import APP_A, RunState, default_world
from conformance.instance import CandidateError

STDERR_LINES = 15


class SetupError(Exception):
    """The setup is wrong before any case could judge the candidate."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail

    def render(self) -> str:
        """`error: ...` on one line, then the detail (a stderr tail) if any."""
        text = f"error: {self.message}"
        return f"{text}\n{self.detail}" if self.detail else text


@dataclass(frozen=True)
class Setup:
    """What `run` was asked to use."""

    candidate: str | None = None
    adapter: str | None = None
    profile: str | None = None
    world: str | None = None
    report: str | None = None
    world_factory: Callable[[], Any] | None = None   # the harness tests' stand-in


def resolve(candidate: str | None, adapter: str | None) -> Callable[[], Adapter]:
    """The adapter factory for `--candidate` or `--adapter`, never both."""
    if candidate and adapter:
        raise SetupError(f"--candidate {candidate} and --adapter {adapter} name two "
                         f"candidates: give one")
    try:
        return registry.resolve(candidate, adapter)
    except registry.AdapterNotFound as exc:
        raise SetupError(str(exc)) from None


def build(factory: Callable[[], Adapter], label: str) -> Adapter:
    """The adapter itself: its constructor is where a missing runtime shows."""
    try:
        return factory()
    except Exception as exc:
        raise SetupError(f"candidate {label} cannot be set up: {_first_line(exc)}") from None


def check_profile(adapter: Adapter, profile: str | None) -> str:
    """The profile to run: the one asked for, if the candidate has it."""
    profiles = list(adapter.profiles) or ["default"]
    if profile is None:
        return profiles[0]
    if profile not in profiles:
        raise SetupError(f"--profile {profile}: candidate {adapter.info().name!r} has no such "
                         f"profile (it has: {', '.join(profiles)})")
    return profile


def check_world_file(path: str) -> None:
    from fakenet.world import WorldDataError, load_world
    if not Path(path).is_file():
        raise SetupError(f"--world {path}: no such file")
    try:
        load_world(path)
    except WorldDataError as exc:
        raise SetupError(f"--world {_first_line(exc)}") from None


def check_report_dir(path: str) -> None:
    """The report directory exists (or can be made) and takes a file, now."""
    where = Path(path)
    try:
        where.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=where, prefix=".write-check-"):
            pass
    except OSError as exc:
        raise SetupError(f"--report {path}: cannot write there ({exc.strerror or exc})") from None


def check_live(factory: Callable[[], Adapter], profile: str,
               world_factory: Callable[[], Any]) -> None:
    """Start the world, open the session, boot one instance; stop them all."""
    run = RunState(adapter_factory=factory, profile=profile, world_factory=world_factory)
    try:
        try:
            run.get_world()
        except Exception as exc:
            raise SetupError(f"the fake internet cannot start: {_first_line(exc)}") from None
        try:
            run.get_candidate()
        except Exception as exc:
            raise SetupError(f"the candidate's session cannot open: {_first_line(exc)}"
                             ) from None
        try:
            run.start_instance(APP_A).close()
        except CandidateError as exc:
            tail = "\n".join(exc.stderr_tail.rstrip().splitlines()[-STDERR_LINES:])
            detail = f"--- instance stderr (last lines) ---\n{tail}" if tail else ""
            raise SetupError(f"an instance cannot boot: {exc.reason}", detail) from None
        except Exception as exc:
            raise SetupError(f"an instance cannot boot: {_first_line(exc)}") from None
    finally:
        run.close()


def check(setup: Setup) -> None:
    """Every check above, cheapest first; SetupError on the first that fails."""
    factory = resolve(setup.candidate, setup.adapter)
    label = repr(setup.candidate or setup.adapter or registry.default_candidate())
    adapter = build(factory, label)
    profile = check_profile(adapter, setup.profile)
    if setup.world:
        check_world_file(setup.world)
    if setup.report:
        check_report_dir(setup.report)
    world_factory = setup.world_factory
    if world_factory is None:
        world_file = Path(setup.world) if setup.world else None
        world_factory = lambda: default_world(world_file)  # noqa: E731
    check_live(factory, profile, world_factory)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
