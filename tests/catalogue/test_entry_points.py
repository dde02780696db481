"""The entry-point table (cases/entry_points.toml): every cell has cases or a written
reason, every pointer names an existing case, every driver is used, and malformed
data is refused with the entry and the case named."""

from __future__ import annotations

import copy
import importlib
import inspect
import tomllib

import pytest

from cases.entry_drivers import DRIVERS, REFUSED_BY_ANSWER
from cases.entry_points import DEFAULT_FILE, REACH, EntryDataError, load, parse
from cases.entry_report import render_table
from conformance.cli import main as cli_main
from fakenet.world import load_world


@pytest.fixture(scope="module")
def raw():
    with DEFAULT_FILE.open("rb") as f:
        return tomllib.load(f)


def _parse(data):
    return parse(data, load_world(), frozenset(DRIVERS))


def test_every_cell_has_cases_or_a_reason():
    table = load()
    for entry in table.entries:
        for op in table.operations:
            cases, why = table.cell(entry, op)
            assert bool(cases) != bool(why), (entry.name, op)
    assert set(table.operations) == {*REACH, "listen", "bind", "create", "option"}


def test_every_covered_by_names_an_existing_catalogue_case():
    for case in load().cases:
        if not case.covered_by:
            continue
        filename, function = case.covered_by.split("::")
        module = importlib.import_module(f"cases.{filename.removesuffix('.py')}")
        target = getattr(module, function, None)
        assert inspect.isfunction(target), f"{case.id}: {case.covered_by} does not exist"
        assert case.clause in _clauses_of(target), f"{case.id}: {case.covered_by} does not " \
                                                   f"serve {case.clause}"


def _clauses_of(function) -> set[str]:
    """The clause IDs a test function's cases carry: its own clause mark, or its params'."""
    found = set()
    for mark in getattr(function, "pytestmark", []):
        if mark.name == "clause":
            found.add(mark.args[0])
        if mark.name == "parametrize":
            for param in mark.args[1]:
                found.update(m.args[0] for m in getattr(param, "marks", ()) if m.name == "clause")
    return found


def test_every_driver_is_used_and_every_refusal_answer_is_a_driver():
    used = {c.driver for c in load().cases if c.driver}
    assert used == set(DRIVERS)
    assert set(REFUSED_BY_ANSWER) <= set(DRIVERS)


def test_reach_cases_aim_at_a_host_and_port_the_world_watches():
    world = load_world()
    for case in load().cases:
        if case.op in REACH and case.driver:
            world.host(case.host).address(case.family)
            assert case.port in world.watched_ports(case.proto), case.id


def test_a_cell_without_case_or_reason_is_refused(raw):
    data = copy.deepcopy(raw)
    entry = next(e for e in data["entry"] if e["name"] == "socket.socketpair")
    entry["absent"] = {"listen": "no listening"}
    with pytest.raises(EntryDataError, match=r"socket.socketpair.*'reach-tcp' has no case and "
                                              r"no written reason"):
        _parse(data)


def test_a_reason_for_a_cell_that_has_cases_is_refused(raw):
    data = copy.deepcopy(raw)
    entry = next(e for e in data["entry"] if e["name"] == "socket.socketpair")
    entry["absent"] = {"*": "x", "create": "contradiction"}
    with pytest.raises(EntryDataError, match="have cases and a reason"):
        _parse(data)


@pytest.mark.parametrize(("change", "message"), [
    ({"driver": "no_such_driver"}, "unknown driver"),
    ({"op": "teleport"}, "unknown operation"),
    ({"clause": "DST-99"}, "unknown clause"),
    ({"level": "MAY"}, "has no MAY level"),
    ({"port": 6}, "not watched"),
    ({"covered_by": "test_dst.py::test_destination"}, "exactly one of"),
    ({"colour": "red"}, "unknown key"),
])
def test_malformed_cases_are_refused(raw, change, message):
    data = copy.deepcopy(raw)
    entry = next(e for e in data["entry"] if e["name"] == "socket.create_connection")
    entry["case"][0].update(change)
    with pytest.raises(EntryDataError, match=message):
        _parse(data)


def test_runtime_bounds_decide_unsupported():
    entries = {e.name: e for e in load().entries}
    assert entries["socket.create_server"].module_for((3, 7)) is None
    assert entries["socket.create_server"].module_for((3, 8)) == "socket"
    assert entries["telnetlib.Telnet"].module_for((3, 13)) is None
    assert entries["asyncio loop.create_connection"].module_for((2, 7)) is None
    assert entries["http.client.HTTPConnection"].module_for((2, 7)) == "httplib"


def test_list_entry_points_prints_the_table(capsys):
    assert cli_main(["list", "--entry-points"]) == 0
    out = capsys.readouterr().out
    header = render_table(load())[0]
    assert header in out
    assert "socket.socket.connect_ex" in out
    assert "empty cells and why:" in out
    assert "socket.socketpair x reach-tcp: socketpair makes a connected local pair" in out
