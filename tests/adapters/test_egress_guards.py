"""The third-party egress guards' adapters: policy data, the shared glue, the bootstraps.

The glue and the policy are tested without the libraries. The bootstraps
need the pinned libraries in the user's cache (the adapters fill it with
pip on first use); without it those tests skip, saying how to fill it.
Everything here talks to 127.0.0.1 only.
"""

from __future__ import annotations

import errno
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conformance import registry
from conformance.adapters import egress_guards, egress_policy, judged_socket, pypi_cache

ADAPTERS = {
    "pytest-socket": egress_guards.PytestSocketAdapter,
    "advocate": egress_guards.AdvocateAdapter,
    "requests-hardened": egress_guards.RequestsHardenedAdapter,
}

# -- policy data ------------------------------------------------------------------


def test_bundled_policy_loads_with_every_documented_piece():
    policy = egress_policy.load(egress_policy.POLICY_FILE)
    assert policy.blocked_ports == (25,)
    assert "8.8.8.8" in policy.exception_addresses
    assert {h for e in policy.exceptions for h in e.hosts} == {
        "smtp.gmail.com", "pop.gmail.com", "imap.gmail.com"}
    nets = {str(n) for n in policy.blocked}
    assert {"10.0.0.0/8", "169.254.0.0/16", "fc00::/7", "142.250.0.0/15"} <= nets


def _inside(address: str, networks) -> bool:
    import ipaddress
    ip = ipaddress.ip_address(address)
    return any(ip in net for net in networks)


def test_allowed_networks_are_the_complement():
    policy = egress_policy.load()
    allowed = policy.allowed_networks(block_embedded=True)
    for blocked in ("10.0.0.1", "127.0.0.1", "142.250.102.108", "::1", "::ffff:1.1.1.1"):
        assert not _inside(blocked, allowed), blocked
    for public in ("1.1.1.1", "35.192.0.10", "2606:4700:4700::1111"):
        assert _inside(public, allowed), public
    assert _inside("::ffff:1.1.1.1", policy.allowed_networks(block_embedded=False))


def test_malformed_policy_names_the_file(tmp_path):
    bad = tmp_path / "policy.toml"
    bad.write_text('[blocked]\nipv4 = ["10.0.0.1/8"]\nipv6 = []\n')
    with pytest.raises(egress_policy.PolicyError, match=str(bad)):
        egress_policy.load(bad)


# -- the glue, in this process (no socket is touched) ------------------------------


class _FakeSocket:
    family = judged_socket._socket.AF_INET
    type = judged_socket._socket.SOCK_STREAM


def test_glue_takes_the_first_answer_the_judge_allows(monkeypatch):
    answers = [(2, 1, 6, "", ("10.0.0.1", 80)), (2, 1, 6, "", ("93.184.215.14", 80))]
    monkeypatch.setattr(judged_socket, "_REAL_GETADDRINFO", lambda *a: answers)
    judged = []

    def judge(ip, port, proto):
        judged.append((ip, port, proto))
        return not ip.startswith("10.")

    assert judged_socket._judged(_FakeSocket(), ("name", 80), judge, "t", "tcp") == (
        "93.184.215.14", 80)
    assert judged == [("10.0.0.1", 80, "tcp"), ("93.184.215.14", 80, "tcp")]
    with pytest.raises(judged_socket.Refused) as refused:
        judged_socket._judged(_FakeSocket(), ("name", 80), lambda *a: False, "lib", "tcp")
    assert refused.value.errno == errno.EACCES and "lib refuses" in str(refused.value)


GLUE_PROBE = textwrap.dedent("""
    import json, socket, ssl, sys, _socket
    sys.path.insert(0, sys.argv[1])
    import judged_socket
    lst = socket.socket(); lst.bind(("127.0.0.1", 0)); lst.listen(8); lst.settimeout(0.3)
    open_port = lst.getsockname()[1]
    shut = socket.socket(); shut.bind(("127.0.0.1", 0)); shut.listen(8); shut.settimeout(0.3)
    shut_port = shut.getsockname()[1]
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); udp.bind(("127.0.0.1", 0))
    udp.settimeout(0.3)
    judged_socket.install(lambda ip, port, proto: port != shut_port and proto == "tcp", "t")
    out = {}
    def tried(name, call):
        try:
            out[name] = ["ok", call()]
        except Exception as exc:
            out[name] = [type(exc).__name__, getattr(exc, "errno", None)]
    tried("allowed", lambda: socket.create_connection(("127.0.0.1", open_port)).close())
    tried("connect", lambda: socket.socket().connect(("127.0.0.1", shut_port)))
    tried("connect_ex", lambda: socket.socket().connect_ex(("127.0.0.1", shut_port)))
    tried("SocketType", lambda: socket.SocketType().connect(("127.0.0.1", shut_port)))
    tried("_socket", lambda: _socket.socket().connect(("127.0.0.1", shut_port)))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    tried("ssl", lambda: ctx.wrap_socket(socket.socket(), server_hostname="x").connect(
        ("127.0.0.1", shut_port)))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    tried("sendto", lambda: s.sendto(b"x", ("127.0.0.1", udp.getsockname()[1])))
    tried("sendmsg", lambda: s.sendmsg([b"x"], [], 0, ("127.0.0.1", udp.getsockname()[1])))
    def accepted(sock):
        try:
            return sock.accept() is not None
        except OSError:
            return False
    accepted(lst)
    out["reached_shut"] = accepted(shut)
    try:
        out["reached_udp"] = udp.recv(10) is not None
    except OSError:
        out["reached_udp"] = False
    print(json.dumps(out))
""")


def test_glue_guards_every_entry_point():
    done = subprocess.run([sys.executable, "-c", GLUE_PROBE, str(egress_guards.BOOT_DIR)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["allowed"] == ["ok", None]
    assert out["connect_ex"] == ["ok", errno.EACCES]
    for name in ("connect", "SocketType", "_socket", "ssl", "sendto", "sendmsg"):
        assert out[name] == ["Refused", errno.EACCES], (name, out[name])
    assert out["reached_shut"] is False and out["reached_udp"] is False


TFO_PROBE = textwrap.dedent("""
    import json, socket, sys
    sys.path.insert(0, sys.argv[1])
    import judged_socket
    lst = socket.socket(); lst.bind(("127.0.0.1", 0)); lst.listen(8)
    port = lst.getsockname()[1]
    judged = []
    judged_socket.install(lambda ip, p, proto: judged.append(proto) or proto != "tcp", "t")
    out = {}
    for name, send in (("sendto", lambda s: s.sendto(b"x", socket.MSG_FASTOPEN,
                                                     ("127.0.0.1", port))),
                       ("sendmsg", lambda s: s.sendmsg([b"x"], [], socket.MSG_FASTOPEN,
                                                       ("127.0.0.1", port)))):
        sock = socket.socket()
        try:
            send(sock)
            out[name] = "sent"
        except judged_socket.Refused:
            out[name] = "refused"
        except OSError as exc:
            out[name] = "os-error %s" % exc.errno
        sock.close()
    out["judged"] = judged
    print(json.dumps(out))
""")


def test_glue_judges_tcp_fast_open_as_tcp():
    """sendto/sendmsg with MSG_FASTOPEN on a TCP socket open a TCP connection
    without connect(): the judge must be asked about TCP, not UDP."""
    done = subprocess.run([sys.executable, "-c", TFO_PROBE, str(egress_guards.BOOT_DIR)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out == {"sendto": "refused", "sendmsg": "refused", "judged": ["tcp", "tcp"]}


# -- the adapters --------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ADAPTERS))
def test_adapter_is_registered_and_pinned(name):
    adapter_class = registry.resolve(name)
    assert adapter_class is ADAPTERS[name]
    adapter = adapter_class()
    info = adapter.info()
    assert info.name == name and info.version == adapter.package.version
    assert adapter.package.requirement == f"{adapter.package.distribution}=={info.version}"
    with pytest.raises(RuntimeError, match="open_session"):
        adapter.instance("app-a")


BOOT_PROBE = textwrap.dedent("""
    import importlib, ipaddress, json, socket, sys
    lst = socket.socket(); lst.bind(("127.0.0.1", 0)); lst.listen(8); lst.settimeout(0.3)
    real_getaddrinfo, names = socket.getaddrinfo, []
    def literal_only(host, *args, **kwargs):   # hermetic: no name lookup from this host
        try:
            ipaddress.ip_address(str(host).split("%")[0])
        except ValueError:
            names.append(str(host))
            raise socket.gaierror(socket.EAI_NONAME, "the test resolves no names")
        return real_getaddrinfo(host, *args, **kwargs)
    socket.getaddrinfo = literal_only
    module, _, function = sys.argv[1].partition(":")
    getattr(importlib.import_module(module), function)()
    try:
        socket.create_connection(lst.getsockname(), 2)
        verdict = "connected"
    except BaseException as exc:
        verdict = type(exc).__name__
    try:
        lst.accept(); reached = True
    except OSError:
        reached = False
    print(json.dumps([verdict, reached, names]))
""")


def _policy_without_host_names(tmp_path: Path) -> Path:
    """The bundled policy minus the host-name exceptions: outside the world, a
    library must not resolve smtp.gmail.com (pytest-socket resolves them at setup)."""
    text = egress_policy.POLICY_FILE.read_text(encoding="utf-8")
    kept = text.split("[[exception]]")
    hostless = [part for part in kept[1:] if "hosts =" not in part]
    path = tmp_path / "policy.toml"
    path.write_text("[[exception]]".join([kept[0], *hostless]), encoding="utf-8")
    assert not [h for e in egress_policy.load(path).exceptions for h in e.hosts]
    return path


@pytest.mark.parametrize("name", sorted(ADAPTERS))
def test_library_refuses_loopback_through_its_bootstrap(name, tmp_path):
    """Each library blocks 127.0.0.1 under the policy: the bootstrap wires it in."""
    adapter = ADAPTERS[name]()
    key = (f"{adapter.package.distribution}-{adapter.package.version}"
           f"-py{sys.version_info[0]}.{sys.version_info[1]}")
    site = pypi_cache.cache_root() / key
    if not pypi_cache.installed_complete(site):
        pytest.skip(f"{adapter.package.requirement} is not in the cache {site}: run "
                    f"`python -m conformance run --candidate {name}` once (pip fills it)")
    env = {"PYTHONPATH": "", egress_policy.POLICY_ENV: str(_policy_without_host_names(tmp_path))}
    probe = f"import sys; sys.path[:0] = {[str(site), str(egress_guards.BOOT_DIR)]!r}\n"
    done = subprocess.run([sys.executable, "-S", "-s", "-c", probe + BOOT_PROBE,
                           adapter.package.bootstrap], capture_output=True, text=True,
                          timeout=120, check=False, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    verdict, reached, names = json.loads(done.stdout.strip().splitlines()[-1])
    assert verdict != "connected" and reached is False, (verdict, reached)
    assert names == [], f"the bootstrap tried to resolve {names}"


def test_cache_entry_is_filled_once_and_atomically(tmp_path):
    calls = []

    def fill(staging: Path) -> None:
        calls.append(staging)
        staging.mkdir()
        (staging / pypi_cache.COMPLETE_MARKER).write_text("x")

    target = tmp_path / "entry"
    assert pypi_cache.fill_once(target, fill, pypi_cache.installed_complete) == target
    assert pypi_cache.fill_once(target, fill, pypi_cache.installed_complete) == target
    assert len(calls) == 1 and pypi_cache.installed_complete(target)
    with pytest.raises(pypi_cache.PackageUnavailable, match="incomplete"):
        pypi_cache.fill_once(tmp_path / "other", lambda s: s.mkdir(),
                             pypi_cache.installed_complete)
    assert not (tmp_path / "other").exists()


def test_unobtainable_library_says_how_to_provide_it(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path))      # holds no wheel
    with pytest.raises(pypi_cache.PackageUnavailable) as raised:
        egress_guards.AdvocateAdapter().install()
    message = str(raised.value)
    assert "advocate==1.0.0" in message and "PIP_FIND_LINKS" in message
    assert not list((tmp_path / "cache").glob("*/advocate-*"))
