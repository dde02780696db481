"""Crafted runs for the report tests: real CaseResult/RunInfo values, no candidate needed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from conformance.model import CaseResult, ClauseRef, Level, Outcome, RunInfo

REQUIREMENTS = {
    "DST-1": "connections to private ranges are blocked",
    "DST-2": "loopback is blocked",
    "EXC-1": "the documented exception hosts are allowed",
    "P25-1": "port 25 is blocked",
    "API-2": "TCP and UDP behave as the socket reference says",
    "API-5": "connect_ex returns EACCES",
    "API-7": "record whether asyncio works",
    "LIB-5": "nntplib works",
}


def make_run(**changes: Any) -> RunInfo:
    values: dict[str, Any] = {
        "suite_version": "0.1.0",
        "candidate": "reference",
        "candidate_version": "1.2.3",
        "profile": "python27",
        "python": "3.11.7",
        "platform": "Linux-x86_64",
        "started": 1_795_000_000.0,
        "finished": 1_795_000_042.5,
        "strict": False,
        "interrupted": False,
        "argv": ("python", "-m", "conformance", "run", "--candidate", "reference"),
    }
    values.update(changes)
    return RunInfo(**values)


def make_case(
    case_id: str,
    outcome: Outcome = Outcome.PASS,
    clause: str = "DST-1",
    level: Level | None = None,
    **changes: Any,
) -> CaseResult:
    if level is None:
        level = {Outcome.NON_STRICT: Level.SHOULD, Outcome.INFORMATIONAL: Level.MAY}.get(
            outcome, Level.MUST
        )
    values: dict[str, Any] = {
        "case_id": case_id if "::" in case_id else f"cases/test_x.py::{case_id}",
        "clause": ClauseRef(clause, level, REQUIREMENTS.get(clause, "a requirement")),
        "outcome": outcome,
        "expected": "blocked",
        "observed": "blocked" if outcome is Outcome.PASS else "allowed",
        "duration": 0.25,
        "reason": "" if outcome is Outcome.PASS else f"because {outcome.value}",
    }
    values.update(changes)
    return CaseResult(**values)


def matrix(destination: str, port: int, proto: str, expected: str, observed: str) -> dict:
    return {
        "matrix": {
            "destination": destination,
            "port": port,
            "proto": proto,
            "expected": expected,
            "observed": observed,
        }
    }


def event(**fields: Any) -> dict:
    base = {
        "seq": 1,
        "time": 0.5,
        "endpoint": "canary",
        "role": "canary",
        "proto": "tcp",
        "kind": "connect",
        "dst": "10.0.0.1",
        "peer": "192.0.2.10",
        "nbytes": 0,
        "sha256": "",
        "detail": {},
    }
    base.update(fields)
    return base


def mixed_results() -> list[CaseResult]:
    """Every outcome at least once, truth-table evidence with one wrong cell, hostile text."""
    return [
        make_case(
            "cases/test_dst.py::test_private_tcp[10.0.0.1-7]",
            Outcome.PASS,
            "DST-1",
            evidence=(matrix("private-a (10.0.0.1)", 7, "tcp", "blocked", "blocked"), event()),
        ),
        make_case(
            "cases/test_dst.py::test_private_tcp[192.168.1.1-7]",
            Outcome.FAIL,
            "DST-1",
            expected="blocked",
            observed="allowed: the canary got 5 bytes",
            reason="connect succeeded and the canary journalled a connection",
            evidence=(
                matrix("private-b (192.168.1.1)", 7, "tcp", "blocked", "allowed"),
                event(dst="192.168.1.1", kind="close", nbytes=5, detail={"head": "hello"}),
            ),
        ),
        make_case(
            "cases/test_dst.py::test_loopback_udp[127.0.0.1-53]",
            Outcome.PASS,
            "DST-2",
            evidence=(matrix("loopback (127.0.0.1)", 53, "udp", "blocked", "blocked"),),
        ),
        make_case(
            "cases/test_exc.py::test_gmail_smtp[587]",
            Outcome.PASS,
            "EXC-1",
            expected="allowed",
            observed="allowed",
            evidence=(matrix("public-mail (93.184.215.14)", 587, "tcp", "allowed", "allowed"),),
        ),
        make_case(
            "cases/test_p25.py::test_port25",
            Outcome.ERROR,
            "P25-1",
            observed="the candidate crashed",
            reason="agent exited with status -11",
            evidence=(),
        ),
        make_case(
            "cases/test_api.py::test_connect_ex_eacces",
            Outcome.NON_STRICT,
            "API-5",
            expected="connect_ex returns EACCES",
            observed="connect_ex returned EPERM",
        ),
        make_case(
            "cases/test_api.py::test_asyncio",
            Outcome.INFORMATIONAL,
            "API-7",
            expected="record asyncio",
            observed="asyncio connected",
        ),
        make_case(
            "cases/test_lib.py::test_nntplib",
            Outcome.UNSUPPORTED,
            "LIB-5",
            observed="",
            reason="the runtime has no nntplib (Python 3.13)",
        ),
        make_case(
            "cases/test_api.py::test_escaping",
            Outcome.PASS,
            "API-2",
            expected="<script>alert('x')</script> & | pipes |",
            observed="<b>bold</b> `tick` \x00\x07 nul",
            evidence=(
                {
                    "call": "recv",
                    "head": "<img src=http://example.invalid/x.png>",
                    "raw": "\x1b[31m",
                },
            ),
        ),
    ]


@pytest.fixture
def run_info() -> RunInfo:
    return make_run()


@pytest.fixture
def results() -> list[CaseResult]:
    return mixed_results()


@pytest.fixture
def case_factory() -> Callable[..., CaseResult]:
    return make_case
