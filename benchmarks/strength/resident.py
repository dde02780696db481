"""A catalogue process that lives across mutants (a pytest plugin, `-p`).

Most of a catalogue run's time per mutant was its fixed start-up: pytest,
collection, xdist workers, the world. The reference's service and instances
are separate processes that import the sandbox from disk, so a resident
process keeps all of that and, per mutant, only closes the candidate's session
and kills its pooled instances (`RunState.reopen`): the next case starts a
fresh service and fresh instances from the mutated copy.

The driver (benchmarks/strength/pool.py) talks to it over two pipes named in
GSC_MUTATION_CONTROL ("READFD,WRITEFD"), one JSON line each way:
  {"op": "baseline"}               every case, unmutated: kept as the baseline
  {"op": "run", "first": [ids]}    every case, `first` first, until one is a
                                   FAIL or ERROR the baseline lacks (judge.py)
  {"op": "stop"}
Each answer is {"outcomes": {case id: outcome}, "seconds": s}. The order only
decides what runs first: a mutant no case kills has run every case.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Sequence
from typing import Any, TextIO

import pytest

from conformance import fixtures
from conformance import plugin as conformance_plugin

from .judge import judge

CONTROL_ENV = "GSC_MUTATION_CONTROL"
# What the conformance plugin keeps on an item for one run of it: cleared before a rerun.
PER_RUN_KEYS: tuple[pytest.StashKey[Any], ...] = (
    fixtures.CASE_STATE, conformance_plugin.PHASES, conformance_plugin.EVENTS,
    conformance_plugin.TRANSCRIPTS, conformance_plugin.LEAKS)


def ordered(items: Sequence[pytest.Item], first: Sequence[str]) -> list[pytest.Item]:
    """`items` with those whose case id is in `first` moved to the front, in
    `first`'s order; the rest keep the collection order (fixtures stay grouped)."""
    rank = {case: n for n, case in enumerate(first)}
    front = sorted((i for i in items if conformance_plugin.case_id(i) in rank),
                   key=lambda i: rank[conformance_plugin.case_id(i)])
    return front + [i for i in items if conformance_plugin.case_id(i) not in rank]


class ResidentLoop:
    """Replaces pytest's run loop: answers the driver's requests until it says stop."""

    def __init__(self, config: pytest.Config, reader: TextIO, writer: TextIO) -> None:
        self.config = config
        self.reader = reader
        self.writer = writer
        self.outcomes: dict[str, str] = {}
        self.baseline: dict[str, str] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        data = getattr(report, "conformance", None)
        if data is None or report.when != "teardown":
            return
        self.outcomes[data["id"]] = data["outcome"]
        for leak in getattr(report, "conformance_leaks", None) or ():
            self.outcomes[leak["id"]] = leak["outcome"]

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool:
        items = [i for i in session.items if conformance_plugin.is_case(i)]
        self._send({"ready": True, "cases": len(items), "pid": os.getpid()})
        for line in self.reader:
            request = json.loads(line)
            if request.get("op") == "stop":
                break
            started = time.monotonic()
            if request["op"] == "baseline":
                self.baseline = self._run(session, items, stop_on_kill=False)
                outcomes = self.baseline
            else:
                outcomes = self._run(session, ordered(items, request.get("first", ())),
                                     stop_on_kill=True)
            self._send({"outcomes": outcomes, "seconds": round(time.monotonic() - started, 3)})
        return True

    def _run(self, session: pytest.Session, items: list[pytest.Item], *,
             stop_on_kill: bool) -> dict[str, str]:
        fixtures.run_state(self.config).reopen()
        self.outcomes = {}
        try:
            for item, nextitem in _pairs(items):
                for key in PER_RUN_KEYS:
                    if key in item.stash:
                        del item.stash[key]
                item.ihook.pytest_runtest_protocol(item=item, nextitem=nextitem)
                if stop_on_kill and judge(self.baseline, self.outcomes, exit_code=0).killed:
                    break
                if session.shouldstop:
                    raise session.Interrupted(str(session.shouldstop))
        finally:
            session._setupstate.teardown_exact(None)
            self.config.stash[conformance_plugin.RESULTS].clear()   # no report is written
        return dict(self.outcomes)

    def _send(self, message: dict[str, Any]) -> None:
        self.writer.write(json.dumps(message) + "\n")
        self.writer.flush()


def _pairs(items: list[pytest.Item]) -> Iterator[tuple[pytest.Item, pytest.Item | None]]:
    for n, item in enumerate(items):
        yield item, items[n + 1] if n + 1 < len(items) else None


def pytest_configure(config: pytest.Config) -> None:
    control = os.environ.get(CONTROL_ENV)
    if not control:
        raise pytest.UsageError(f"{__name__} needs {CONTROL_ENV}=READFD,WRITEFD")
    read_fd, write_fd = (int(fd) for fd in control.split(","))
    loop = ResidentLoop(config, os.fdopen(read_fd, "r"), os.fdopen(write_fd, "w"))
    config.pluginmanager.register(loop, "gsc-mutation-resident")
