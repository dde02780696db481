"""Leaks (conformance.leaks): traffic at a cell blocked at MUST becomes a FAIL of the
destination's clause, unless the case expected it or judges it itself at MUST; a
late event of an earlier connection is not the case's; a baseline sees a leak that
went away as an improvement."""

from __future__ import annotations

from conformance.leaks import Cell, find_leaks, judge_case, leak_results
from conformance.model import CaseResult, ClauseRef, Level, Outcome
from conformance.reporting.baseline import Baseline, build_baseline
from conformance.reporting.comparison import Entry, Kind, compare
from fakenet.journal import JournalEvent


def event(dst, kind="connect", proto="tcp", peer=("127.0.0.9", 40000), seq=1):
    return JournalEvent(seq=seq, time=0.0, endpoint="canary", role="canary", proto=proto,
                        kind=kind, dst=dst, peer=peer)


def blocked_by(address, port, proto):
    return {"10.0.0.1": "DST-1", "93.184.215.14": "P25-1" if port == 25 else None}.get(address)


def ref(clause, level=Level.MUST):
    return ClauseRef(clause, level, f"{clause} holds")


def test_an_event_at_a_blocked_cell_is_a_fail_of_its_clause():
    events = [event(("10.0.0.1", 7)), event(("93.184.215.14", 7)),
              event(("93.184.215.14", 25), peer=("127.0.0.9", 40001))]
    results = leak_results("t.py::x", events, blocked_by, ref)
    assert [(r.case_id, r.outcome, r.clause.id, r.clause.level) for r in results] == [
        ("t.py::x#leak-DST-1", Outcome.FAIL, "DST-1", Level.MUST),
        ("t.py::x#leak-P25-1", Outcome.FAIL, "P25-1", Level.MUST)]
    assert results[0].evidence[0]["journal"]["dst"] == ["10.0.0.1", 7]


def test_expected_cells_and_mapped_spellings():
    events = [event(("::ffff:10.0.0.1", 7))]
    assert find_leaks(events, blocked_by) == {"DST-1": events}
    assert find_leaks(events, blocked_by, allowed={Cell.of("10.0.0.1", 7, "tcp")}) == {}
    assert find_leaks(events, blocked_by, allowed={Cell.of("10.0.0.1", 7, "udp")})


def test_a_late_close_of_an_earlier_connection_is_not_this_cases():
    late = event(("10.0.0.1", 7), kind="close")
    assert find_leaks([late], blocked_by) == {}
    opened = event(("10.0.0.1", 7))
    assert find_leaks([opened, late], blocked_by) == {"DST-1": [opened, late]}
    datagram = event(("10.0.0.1", 7), kind="datagram", proto="udp")
    assert find_leaks([datagram], blocked_by) == {"DST-1": [datagram]}


class State:
    def __init__(self, expected=(), judged=()):
        self.expected, self.judged = set(expected), set(judged)


def test_a_should_case_cannot_lower_a_leak_but_a_must_case_judges_its_own_cell(monkeypatch):
    import conformance.leaks as leaks

    class Table:
        blocked_by = staticmethod(blocked_by)

    monkeypatch.setattr(leaks, "catalogue_table", lambda: Table())
    events = [event(("10.0.0.1", 7))]
    judged = {Cell.of("10.0.0.1", 7, "tcp")}
    should = judge_case("t.py::x", ref("API-5", Level.SHOULD), State(judged=judged), events, ref)
    assert [r.outcome for r in should] == [Outcome.FAIL]
    must = judge_case("t.py::x", ref("DST-1"), State(judged=judged), events, ref)
    assert must == []


def test_no_journal_is_an_error_never_a_silent_pass():
    results = judge_case("t.py::x", ref("API-5", Level.SHOULD), State(), None, ref)
    assert [(r.case_id, r.outcome) for r in results] == [("t.py::x#leak-check", Outcome.ERROR)]


def test_a_leak_that_went_away_is_an_improvement_and_leaves_the_baseline():
    old = {"t.py::x": Entry(Outcome.NON_STRICT, "API-5"),
           "t.py::x#leak-DST-1": Entry(Outcome.FAIL, "DST-1"),
           "t.py::y#leak-DST-1": Entry(Outcome.FAIL, "DST-1")}
    new = {"t.py::x": Entry(Outcome.PASS, "API-5")}
    changes = {c.case_id: c for c in compare(old, new, known_ids=["t.py::x", "t.py::y"]).changes}
    assert (changes["t.py::x#leak-DST-1"].kind, changes["t.py::x#leak-DST-1"].after) == (
        Kind.IMPROVEMENT, Outcome.PASS)
    assert changes["t.py::y#leak-DST-1"].kind is Kind.NOT_RUN
    previous = Baseline("1", "c", "1", "default", "now", old)
    run = type("Run", (), {"suite_version": "1", "candidate": "c", "candidate_version": "1",
                           "profile": "default", "finished": 0.0})()
    result = CaseResult("t.py::x", ref("API-5", Level.SHOULD), Outcome.PASS, "", "")
    kept = build_baseline(run, [result], previous, known_ids=["t.py::x", "t.py::y"])
    assert set(kept.expectations) == {"t.py::x", "t.py::y#leak-DST-1"}
