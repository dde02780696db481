"""The destination matrices: every row names a world host and a watched port,
expands to cases, and a malformed matrix says what is wrong and where."""

from __future__ import annotations

from pathlib import Path

import pytest

from cases.matrix import MATRIX_DIR, VERDICTS, MatrixDataError, load_matrix, matrix
from fakenet.world import load_world

NAMES = sorted(p.stem for p in MATRIX_DIR.glob("*.toml"))


@pytest.fixture(scope="module")
def world():
    return load_world()


@pytest.mark.parametrize("name", NAMES)
def test_matrix_loads_and_aims_at_watched_world_destinations(name, world):
    cases = matrix(name)
    assert cases
    for case in cases:
        host = world.host(case.host)
        assert case.address in host.addresses
        assert case.port in world.watched_ports(case.proto), case.id
        assert case.expected in VERDICTS
        assert case.watch


def test_required_clauses_are_in_the_matrices():
    clauses = {c.clause for name in NAMES for c in matrix(name)}
    required = {f"DST-{n}" for n in range(1, 11)} | {f"EXC-{n}" for n in range(1, 7)} \
        | {"GCE-1", "P25-1", "P25-2", "FTP-2"}
    assert required <= clauses, sorted(required - clauses)


def test_both_families_and_protocols_where_the_clause_names_them():
    cases = [c for name in NAMES for c in matrix(name)]
    for clause in ("DST-1", "DST-2", "DST-5", "DST-10", "EXC-1", "GCE-1"):
        mine = [c for c in cases if c.clause == clause]
        assert {c.proto for c in mine} == {"tcp", "udp"}, clause
        if clause != "DST-1":
            assert {c.family for c in mine} == {"ipv4", "ipv6"}, clause
    assert {c.family for c in cases if c.clause == "DST-1"} == {"ipv4", "ipv6"}


def test_bypass_spellings_are_cases():
    targets = {c.target for c in matrix("dst_forms")}
    assert {"167772161", "0x0a000001", "012.0.0.1", "10.1", "10.0.0.1.", " 10.0.0.1 "} <= targets
    exc = {c.target for c in matrix("exc") if c.clause == "EXC-5"}
    assert {"SMTP.GMAIL.COM.", "smtp.gmail.com.evil.example"} <= exc
    assert any("\x00" in t for t in exc)
    modes = {(c.clause, c.mode) for name in ("dst", "dst_rebinding") for c in matrix(name)}
    assert ("DST-8", "rebind") in modes and ("DST-9", "mixed") in modes


def test_case_ids_are_unique_across_matrices():
    ids = [c.id for name in NAMES for c in matrix(name)]
    assert len(ids) == len(set(ids))


A2 = "rebind-a2.attacker.example"
GOOD = """
[[row]]
clause = "DST-1"
level = "MUST"
expected = "blocked"
host = "private-10"
tcp = [7]
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_good_row_expands(tmp_path):
    cases = load_matrix(_write(tmp_path, GOOD))
    assert [c.id for c in cases] == ["DST-1:private-10:10.0.0.1:tcp7"]
    assert cases[0].matrix_evidence("blocked")["matrix"]["destination"] == "private-10 (10.0.0.1)"


@pytest.mark.parametrize(("change", "message"), [
    (('host = "private-10"', 'host = "nowhere"'), "no host 'nowhere'"),
    (('host = "private-10"', 'role = "no-such-role"'), "no host with role"),
    (("tcp = [7]", "tcp = [7, 6000]"), "not watched"),
    (("tcp = [7]", "udp = [21]"), "not watched"),
    (("tcp = [7]", 'tcp = ["7"]'), "list of port numbers"),
    (('clause = "DST-1"', 'clause = "DST-99"'), "unknown clause 'DST-99'"),
    (('level = "MUST"', 'level = "SHOULD"'), "has no SHOULD level"),
    (('expected = "blocked"', 'expected = "maybe"'), "expected must be one of"),
    (("tcp = [7]", "tcp = [7]\ncolour = 1"), "unknown keys ['colour']"),
    (("tcp = [7]", 'tcp = [7]\naddress = "10.9.9.9"'), "is not one of host private-10"),
    (("tcp = [7]", 'tcp = [7]\nwatch = ["8.8.4.5"]'), "neither a world address"),
    (("tcp = [7]", 'tcp = [7]\nfamily = "ipv6"'), "has no ipv6 address"),
    (("tcp = [7]", 'tcp = [7]\nmode = "rebind"\ntarget = "x.example"\npaths = ["connect"]'),
     "not rebinding names"),
    (("tcp = [7]", f'tcp = [7]\nmode = "rebind"\ntarget = "{A2}"'), "`paths` is required"),
    (("tcp = [7]", f'tcp = [7]\nmode = "rebind"\ntarget = "{A2}"\npaths = ["telnet"]'),
     "unknown paths ['telnet']"),
    (("tcp = [7]", f'tcp = [7]\nmode = "rebind"\ntarget = "{A2}"\npaths = ["sendto"]'),
     "UDP paths udp ports"),
    (("tcp = [7]", f'tcp = [7]\nmode = "rebind"\ntarget = "{A2}"\npaths = ["connect"]\n'
      'warmups = [9]'), "warmups must be a list of counts"),
    (("tcp = [7]", 'tcp = [7]\nwarmups = [1]'), "`warmups` belongs to mode 'rebind'"),
    (("tcp = [7]", 'tcp = [7]\ntarget = ["10.1", "10.0.1"]'), "a list only in mode 'rebind'"),
    (('host = "private-10"', 'host = "private-192"\nmode = "rebind"\npaths = ["connect"]\n'
      f'target = "{A2}"'), "never answers ['192.168.0.1']"),
    (("tcp = [7]", 'tcp = [7]\nhost_type = "int"'), "host_type must be one of"),
    (("tcp = [7]", 'tcp = [7]\nflowinfo = "1"'), "flowinfo must be an integer"),
    (("tcp = [7]", 'tcp = [7]\nplatform_refuses = "yes"'), "platform_refuses must be true"),
    (('expected = "blocked"', 'expected = "allowed"\nplatform_refuses = true'),
     "can only be 'blocked'"),
    (("tcp = [7]", "tcp = [7]\nhint = 3"), "hint must be a host name string"),
    (("tcp = [7]", ""), "names no tcp or udp ports"),
    (('expected = "blocked"\n', ""), "missing or non-string 'expected'"),
])
def test_malformed_rows_name_file_and_row(tmp_path, change, message):
    old, new = change
    path = _write(tmp_path, GOOD.replace(old, new))
    with pytest.raises(MatrixDataError) as info:
        load_matrix(path)
    text = str(info.value)
    assert str(path) in text and "row 1" in text and message in text, text


@pytest.mark.parametrize(("text", "message"), [
    ("[[row]\n", "cannot read matrix file"),
    ("", "no [[row]] entries"),
    ("title = 'x'\n" + GOOD, "unknown top-level keys"),
    (GOOD + GOOD, "duplicate cases"),
])
def test_malformed_files(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(MatrixDataError, match=r"bad\.toml") as info:
        load_matrix(path)
    assert message in str(info.value)


def test_rebind_rows_cross_names_paths_and_warmups(tmp_path):
    names = f'["{A2}", "rebind-a3.attacker.example"]'
    text = GOOD.replace("tcp = [7]", f'mode = "rebind"\ntarget = {names}\npaths = ["connect", '
                        '"sendto"]\nwarmups = [0, 1]\ntcp = [7]\nudp = [7]')
    cases = load_matrix(_write(tmp_path, text))
    assert len(cases) == 2 * 2 * 2   # names x (connect on tcp, sendto on udp) x warm-ups
    assert {(c.proto, c.path) for c in cases} == {("tcp", "connect"), ("udp", "sendto")}
    assert cases[1].id == f"DST-1:private-10:10.0.0.1~'{A2}':tcp7:connect+1warmup"
    assert cases[0].watch == ("10.0.0.1",)


def test_forms_rows_give_bytes_hosts_and_4_tuples(tmp_path):
    text = GOOD.replace('host = "private-10"', 'host = "private-ula"\ntarget = "FD00::1"\n'
                        'host_type = "bytes"\nflowinfo = 5\nscope_id = 1\nplatform_refuses = true')
    (case,) = load_matrix(_write(tmp_path, text))
    assert case.sockaddr == (b"FD00::1", 7, 5, 1) and case.platform_refuses
    assert case.id == "DST-1:private-ula:fd00::1~b'FD00::1'/flow=5,scope=1:tcp7"
    assert case.matrix_evidence("refused")["matrix"]["platform_refuses"] is True


def test_defaults_fill_rows_and_rows_win(tmp_path):
    text = '[defaults]\nlevel = "MUST"\nexpected = "blocked"\nudp = [7]\n' + GOOD
    cases = load_matrix(_write(tmp_path, text))
    assert sorted(c.id for c in cases) == ["DST-1:private-10:10.0.0.1:tcp7",
                                           "DST-1:private-10:10.0.0.1:udp7"]


def test_every_form_of_the_platform_refusals_is_blocked_and_both_sides_exist():
    forms = matrix("dst_forms")
    assert all(c.expected == "blocked" for c in forms)
    assert {c.host_type for c in forms} == {"str", "bytes"}
    assert any(c.platform_refuses for c in forms) and any(c.flowinfo is not None for c in forms)
    assert any(not t.isascii() for t in (c.target for c in forms))


def test_link_local_rows_carry_a_scope_id():
    rows = [c for c in matrix("dst") if c.address.startswith("fe80:")]
    assert rows and all(c.scope_id and len(c.sockaddr) == 4 for c in rows)


def test_payloads_are_unique_per_case():
    cases = [c for name in NAMES for c in matrix(name)]
    assert len({c.payload() for c in cases}) == len(cases)


def test_service_at_names_the_listener(world):
    from cases.probes import service_at
    assert service_at(world, "public-echo", "tcp", 7) == "echo"
    assert service_at(world, "google-dns-a", "udp", 53) == "dns"
    assert service_at(world, "public-echo", "tcp", 22) is None   # a canary answers
