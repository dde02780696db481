"""The table of what is blocked at MUST (cases/never_reached.toml) agrees with the
destination matrices: every cell a matrix holds blocked at MUST is blocked by the
table, no cell a matrix holds allowed is, and a malformed table says where."""

from __future__ import annotations

from pathlib import Path

import pytest

from cases.matrix import MATRIX_DIR, matrix
from cases.never_reached import TableDataError, load_table, never_reached

NAMES = sorted(p.stem for p in MATRIX_DIR.glob("*.toml"))
CASES = [case for name in NAMES for case in matrix(name)]


def _cells(case):
    return [(address, case.port, case.proto) for address in case.watch]


@pytest.mark.parametrize("case", [c for c in CASES if c.expected == "blocked"
                                  and c.level == "MUST"], ids=lambda c: c.id)
def test_every_must_blocked_matrix_cell_is_in_the_table(case):
    for cell in _cells(case):
        if cell in CARVED_OUT_BY_NAME.get(case.clause, ()):
            rule = never_reached().rule_for(*cell)
            assert rule is not None and rule.verdict == "allowed" and case.target != case.address
            continue
        assert never_reached().blocked_by(*cell), f"{case.source}: {cell} is not blocked"


# The journal shows the address dialled, not the name given: a Gmail host on its own
# port is a carve-out (EXC-2), so a row that is blocked because of the *name* it uses
# (EXC-5's embedded NUL) is judged by its own case, not by the table.
CARVED_OUT_BY_NAME = {"EXC-5": {(a, p, "tcp") for p in (465, 587)
                                for a in ("142.250.102.108", "2a00:1450:400c:c06::6c")}}


@pytest.mark.parametrize("case", [c for c in CASES if c.expected == "allowed"],
                         ids=lambda c: c.id)
def test_no_allowed_matrix_cell_is_in_the_table(case):
    for cell in _cells(case):
        rule = never_reached().rule_for(*cell)
        assert rule is None or rule.verdict == "allowed", f"{case.source}: {cell} {rule}"


def test_the_exceptions_carve_out_only_their_own_ports():
    table = never_reached()
    assert table.blocked_by("8.8.8.8", 53, "udp") is None
    assert table.blocked_by("8.8.8.8", 80, "tcp") == "EXC-1"
    assert table.blocked_by("142.250.102.108", 465, "tcp") is None      # smtp.gmail.com
    assert table.blocked_by("142.250.102.108", 993, "tcp") == "EXC-3"
    assert table.blocked_by("142.250.102.110", 25, "tcp") == "EXC-3"
    assert table.blocked_by("172.217.16.14", 465, "tcp") == "EXC-4"
    assert table.blocked_by("172.217.16.14", 80, "tcp") == "DST-5"
    assert table.blocked_by("93.184.215.14", 25, "tcp") == "P25-1"
    assert table.blocked_by("93.184.215.14", 25, "udp") is None           # SHOULD only
    assert table.blocked_by("35.192.0.10", 80, "tcp") is None             # GCE-1


def test_embedded_addresses_are_judged_by_the_ipv4_they_embed():
    table = never_reached()
    assert table.blocked_by("::a00:1", 7, "tcp") == "DST-6"
    assert table.blocked_by("::ffff:10.0.0.1", 7, "udp") == "DST-6"
    assert table.blocked_by("::ffff:93.184.215.14", 7, "tcp") is None
    assert table.blocked_by("::1", 7, "tcp") == "DST-2"
    assert table.blocked_by("fe80::a9fe:a9fe%1", 80, "tcp") == "DST-2"


@pytest.mark.parametrize("text, message", [
    ('[[rule]]\nverdict = "blocked"\nclause = "DST-1"\nnetworks = ["10.0.0.0/33"]\n',
     "rule 1"),
    ('[[rule]]\nverdict = "blocked"\nclause = "API-5"\nnetworks = ["10.0.0.0/8"]\n',
     "only MUST clauses"),
    ('[[rule]]\nverdict = "blocked"\nclause = "EXC-3"\nnames = ["nowhere.example"]\n',
     "no host name"),
    ('[[rule]]\nverdict = "maybe"\nclause = "DST-1"\nnetworks = ["10.0.0.0/8"]\n',
     "verdict"),
    ('[[rule]]\nverdict = "blocked"\nclause = "DST-1"\nnetworks = ["10.0.0.0/8"]\nport = [1]\n',
     "unknown keys"),
])
def test_a_malformed_table_names_the_rule(tmp_path: Path, text, message):
    path = tmp_path / "never_reached.toml"
    path.write_text(text)
    with pytest.raises(TableDataError, match=message):
        load_table(path)
