"""One verdict path (conformance.verdict): the cell a case records and the check it
makes come from the same judgement; a timeout is never a refusal, a raise that is
not a socket.error is an "error" cell, and a world that cannot say what it watches
makes "nothing reached" an ERROR, never a pass."""

from __future__ import annotations

import pytest

from conformance.fixtures import CaseState
from conformance.instance import note_activity
from conformance.protocol import ErrorInfo
from conformance.remote import Attempt, RemoteError
from conformance.verdict import (
    EvidenceUnavailable,
    Verdict,
    case_journal,
    judge_allowed,
    judge_blocked,
    judge_reached_or_refused,
    judge_untouched,
)
from fakenet.journal import JournalEvent


def raised(kind: str) -> Attempt:
    socket_error = kind in ("socket", "timeout")
    info = ErrorInfo(type={"socket": "error", "timeout": "timeout"}.get(kind, kind),
                     module="socket", mro_names=(), errno=13 if kind == "socket" else None,
                     errno_name="EACCES" if kind == "socket" else None, message="",
                     is_socket_error=socket_error, is_timeout=kind == "timeout",
                     is_gaierror=False)
    return Attempt(ok=False, error=RemoteError(info, "call"))


HIT = [JournalEvent(seq=1, time=0.0, endpoint="canary", role="canary", proto="tcp",
                    kind="connect", dst=("10.0.0.1", 7), peer=("127.0.0.9", 4000))]


@pytest.mark.parametrize("tried, hits, cell, ok", [
    (raised("socket"), [], "blocked", True),
    (raised("timeout"), [], "timeout", False),
    (raised("ValueError"), [], "error", False),
    (raised("socket"), HIT, "allowed", False),
    (Attempt(ok=True), [], "error", False),
    (Attempt(ok=True), HIT, "allowed", False),
])
def test_judge_blocked(tried, hits, cell, ok):
    judgement = judge_blocked(tried, hits, "10.0.0.1:7/tcp")
    assert (judgement.cell, judgement.ok) == (cell, ok)


def test_a_rejected_spelling_is_its_own_cell_where_the_clause_accepts_it():
    judgement = judge_blocked(raised("ValueError"), [], "x", rejection_ok=True)
    assert (judgement.cell, judgement.ok) == ("rejected", True)


def unreachable() -> Attempt:
    info = ErrorInfo(type="OSError", module="builtins", mro_names=(), errno=101,
                     errno_name="ENETUNREACH", message="", is_socket_error=True,
                     is_timeout=False, is_gaierror=False)
    return Attempt(ok=False, error=RemoteError(info, "call"))


@pytest.mark.parametrize("tried, intact, reached, elsewhere, where, cell, ok", [
    (Attempt(ok=True), True, True, [], "93.184.215.14:7/tcp", "allowed", True),
    (raised("socket"), False, False, [], "93.184.215.14:7/tcp", "blocked", True),
    (raised("ValueError"), False, False, [], None, "error", False),   # no socket.error
    (raised("socket"), False, True, [], "93.184.215.14:7/tcp", "error", False),   # dialled
    (unreachable(), False, False, [], "93.184.215.14:7/tcp", "error", False),     # elsewhere
    (raised("timeout"), False, False, [], None, "timeout", False),
    (Attempt(ok=True), False, False, [], "93.184.215.14:7/tcp", "error", False),
    (Attempt(ok=True), True, True, [], None, "allowed", False),    # no address: must refuse
    (raised("socket"), False, False, HIT, None, "elsewhere", False),
])
def test_judge_reached_or_refused(tried, intact, reached, elsewhere, where, cell, ok):
    judgement = judge_reached_or_refused(tried, intact=intact, reached=reached,
                                         elsewhere=elsewhere, where=where)
    assert (judgement.cell, judgement.ok) == (cell, ok)


def test_judge_allowed_and_untouched():
    assert judge_allowed(Attempt(ok=True), HIT, "x").ok
    assert judge_allowed(raised("timeout"), [], "x").cell == "timeout"
    assert (judge_untouched([], "x", "").cell, judge_untouched(HIT, "x", "").ok) == (
        "blocked", False)


class BlindWorld:
    data = None

    def events(self, since):
        return []


def test_nothing_reached_fails_closed_without_world_data():
    verdict = Verdict(CaseState(mark=0), BlindWorld())
    with pytest.raises(EvidenceUnavailable, match="no data"):
        verdict.blocked(raised("socket"), "10.0.0.1", 7, "tcp")


class CountingWorld:
    data = None

    def __init__(self):
        self.reads = 0

    def events(self, since):
        self.reads += 1
        return list(HIT)


def test_one_journal_read_serves_the_case_until_it_asks_its_instance_again():
    world, state = CountingWorld(), CaseState(mark=0)
    verdict = Verdict(state, world)
    assert verdict.events(port=7) == HIT and verdict.events(proto="tcp") == HIT
    assert case_journal(state, world) == HIT
    assert world.reads == 1
    note_activity()      # what every request to an instance does
    assert verdict.events() == HIT and world.reads == 2
