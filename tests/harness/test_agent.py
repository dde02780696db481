"""The agent protocol and exception fidelity, on every Python we have (2.7, 3.8, 3.11, 3.13).

These instances run on the host (LocalWorld), so they touch only 127.0.0.1.
"""

from __future__ import annotations

import errno
import hashlib
import json
import subprocess

import pytest

from conformance.adapter import InstanceSpec
from conformance.adapters.native import NativeAdapter
from conformance.instance import AGENT_PATH
from conformance.protocol import NativeStr, ProtocolError
from conformance.remote import Remote, RemoteError, remote_type
from fakenet.world import generated_bytes

from .helpers import AVAILABLE_PYTHONS, CANDIDATES, _ScriptAdapter, closed_port

pytestmark = pytest.mark.parametrize("python", sorted(AVAILABLE_PYTHONS), indirect=True)


@pytest.fixture
def python(request: pytest.FixtureRequest) -> str:
    return AVAILABLE_PYTHONS[request.param]


@pytest.fixture
def inst(start, python):
    return start(NativeAdapter(python))


class FakeSocketAdapter(_ScriptAdapter):
    bootstrap = "fakesocket:bootstrap"

    def __init__(self, python: str) -> None:
        self.python = python

    def instance(self, app_id: str) -> InstanceSpec:
        return InstanceSpec(argv=[self.python, "-s"], bootstrap=self.bootstrap,
                            pythonpath=[str(CANDIDATES)])


def test_raw_protocol_lines(python):
    """The wire format itself: hello, a call, an error, a malformed line, an unknown op."""
    lines = b"\n".join([
        b'{"id":1,"op":"import","module":"errno"}',
        b'{"id":2,"op":"getattr","target":"h1","name":"EACCES"}',
        b"this is not json",
        b'{"id":3,"op":"frobnicate"}',
        b'{"id":4,"op":"getattr","target":"h1"}',
        b'{"id":5,"op":"call","target":"h1","name":"nope"}',
        b'{"id":6,"op":"exit"}',
    ]) + b"\n"
    out = subprocess.run([python, str(AGENT_PATH)], input=lines, capture_output=True,
                         timeout=30, check=True).stdout.splitlines()
    hello, *replies = [json.loads(line) for line in out]
    assert hello["agent"] == 1 and hello["pid"] > 0
    assert hello["python"].startswith(python_version_prefix(python))
    by_id = {r["id"]: r for r in replies}
    assert by_id[1]["ok"] and by_id[1]["value"]["$ref"] == "h1"
    assert by_id[2] == {"id": 2, "ok": True, "value": errno.EACCES}
    assert by_id[None]["error"]["origin"] == "agent"
    assert "malformed request" in by_id[None]["error"]["message"]
    assert "unknown op" in by_id[3]["error"]["message"]
    assert "lacks field" in by_id[4]["error"]["message"]
    assert by_id[5]["error"]["type"] == "AttributeError"      # the candidate's, not the agent's
    assert "origin" not in by_id[5]["error"]
    assert by_id[6] == {"id": 6, "ok": True, "value": None}


def python_version_prefix(python: str) -> str:
    for version, path in AVAILABLE_PYTHONS.items():
        if path == python:
            return version
    return ""


def test_values_round_trip(inst):
    builtins = inst.builtins()
    assert builtins.len(b"\x00\xff" * 3) == 6
    assert inst.module("operator").add((1, "a"), (2.5, None)) == (1, "a", 2.5, None)
    assert inst.module("operator").getitem({"k": [1, b"x"]}, "k") == [1, b"x"]
    assert inst.module("math").isnan(float("nan")) is True
    assert builtins.sorted([3, 1, 2]) == [1, 2, 3]
    assert builtins.repr(b"x") in ("'x'", "b'x'")


def test_remote_objects_and_native_strings(inst, echo_server):
    socket = inst.module("socket")
    s = socket.create_connection(("127.0.0.1", echo_server.port), 5)
    assert isinstance(s, Remote) and remote_type(s) in ("socket", "_socketobject")
    s.sendall(b"ping")
    assert s.recv(4) == b"ping"
    host, port = s.getpeername()
    assert host == "127.0.0.1" and port == echo_server.port   # also on 2.7 (NativeStr)
    if inst.python_major == 2:
        assert isinstance(host, NativeStr)
    assert s.call("gettimeout") == 5.0
    if inst.python_major == 3:   # Python 2 sockets are not context managers
        with s:
            pass
        assert s.call("fileno") == -1


def test_bulk_pattern_and_digest(inst, echo_server):
    socket = inst.module("socket")
    s = socket.create_connection(("127.0.0.1", echo_server.port), 5)
    size = (1 << 20) + 17
    sent = inst.sendall_pattern(s, size, offset=5)
    expected = generated_bytes(size, offset=5)
    assert sent.nbytes == size and sent.sha256 == hashlib.sha256(expected).hexdigest()
    s.call("shutdown", socket.SHUT_WR)
    got = inst.recv_until_eof(s)
    assert got.eof and got.nbytes == size and got.sha256 == sent.sha256
    assert got.head == expected[:256]


def test_exception_fidelity_connection_refused(inst):
    socket = inst.module("socket")
    tried = inst.attempt(socket.create_connection, ("127.0.0.1", closed_port()), 5)
    assert tried.raised and tried.error is not None
    err = tried.error
    assert err.errno == errno.ECONNREFUSED and err.errno_name == "ECONNREFUSED"
    assert err.has_errno("ECONNREFUSED") and err.is_socket_error
    assert not err.is_timeout and not err.is_gaierror
    if inst.python_major == 2:
        assert err.type == "error" and err.module == "socket"
        assert err.mro[:3] == ("error", "IOError", "EnvironmentError")
    else:
        assert err.type == "ConnectionRefusedError"
        assert err.mro[:3] == ("ConnectionRefusedError", "ConnectionError", "OSError")
    assert "refused" in err.message.lower()


def test_exception_fidelity_gaierror(inst):
    # a service name lookup fails locally (/etc/services): no DNS query is sent
    tried = inst.attempt(inst.module("socket").getaddrinfo, "127.0.0.1", "no-such-service-x")
    err = tried.error
    assert err is not None and err.is_gaierror and err.is_socket_error
    assert err.type == "gaierror" and "gaierror" in err.mro


def test_exception_fidelity_timeout(inst, echo_server):
    socket = inst.module("socket")
    s = socket.create_connection(("127.0.0.1", echo_server.port), 5)
    s.settimeout(0.2)
    tried = inst.attempt(s.recv, 10)
    assert tried.error is not None and tried.error.is_timeout and tried.error.is_socket_error
    assert 0.15 < tried.elapsed < 3


def test_bootstrap_runs_first_and_stdout_is_private(start, python):
    inst = start(FakeSocketAdapter(python))
    assert inst.module("fakesocket").SOCKET_WAS_IMPORTED is False
    socket = inst.module("socket")
    assert socket.AF_INET == 2 and remote_type(socket) == "module"
    err = inst.attempt(socket.gethostbyaddr, "127.0.0.1").error
    # "a NotImplementedError that is also a socket.error", judged by the candidate's module
    assert err is not None and err.is_a("NotImplementedError") and err.is_socket_error
    assert err.module == "fakesocket" and not err.is_timeout
    err = inst.attempt(socket.refuse).error
    assert err is not None and err.errno == errno.EACCES and err.is_socket_error
    inst.module("os").write(1, b"printed by the candidate\n")   # fd 1 is stderr now
    assert inst.module("operator").add(1, 1) == 2
    tail = inst.stderr_tail()
    assert "candidate chatter on stdout" in tail and "printed by the candidate" in tail


def test_pickle_and_unpickle(inst):
    od = inst.module("collections").OrderedDict([("a", 1)])
    data = inst.pickle(od)
    assert isinstance(data, bytes) and data
    again = inst.unpickle(data)
    assert again.call("__getitem__", "a") == 1
    sock = inst.module("socket").socket()
    assert inst.attempt(inst.pickle, sock).raised


def test_reset_closes_and_forgets(inst, echo_server):
    socket = inst.module("socket")
    s = socket.create_connection(("127.0.0.1", echo_server.port), 5)
    socket.setdefaulttimeout(3.0)
    socket.marker_for_test = 42
    inst.reset()
    socket = inst.module("socket")
    assert socket.getdefaulttimeout() is None
    assert not inst.attempt(lambda: socket.marker_for_test).ok
    with pytest.raises(ProtocolError, match="unknown ref"):
        s.call("fileno")


def test_remote_error_is_not_raised_for_agent_refusals(inst):
    with pytest.raises(ProtocolError):
        inst.request("getattr", target="h999", name="x")
    with pytest.raises(RemoteError):
        inst.module("no_such_module_here")
