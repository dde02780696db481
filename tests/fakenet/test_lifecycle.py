"""Starting and stopping worlds: clear errors, long-lived children, nothing left behind."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fakenet import NamespaceUnavailable, WorldError, WorldHandle, namespace
from fakenet.handle import processes_in_namespace
from fakenet.services import STARTERS
from fakenet.world import DEFAULT_WORLD, WorldDataError, load_world
from tests.fakenet.worlds import core_world_text


def test_stop_leaves_no_process_namespace_mount_or_workdir(core_world_file: Path) -> None:
    world = WorldHandle.start(core_world_file)
    pid, workdir = world.pid, world.workdir
    inode = os.stat(f"/proc/{pid}/ns/net").st_ino
    # A long-lived child inside, as a candidate instance would be.
    child = subprocess.Popen(world.enter([sys.executable, "-c", "import time; time.sleep(60)"]))
    deadline = time.monotonic() + 5
    while len(processes_in_namespace(inode)) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(processes_in_namespace(inode)) >= 2
    world.stop()
    assert child.wait(5) != 0
    assert processes_in_namespace(inode) == []
    assert not os.path.exists(f"/proc/{pid}")
    assert not workdir.exists()
    with open("/proc/self/mountinfo") as mounts:
        assert str(workdir) not in mounts.read()
    world.stop()  # idempotent
    with pytest.raises(WorldError, match="stopped"):
        world.enter(["true"])  # its pid may be another process's by now


def test_a_long_lived_child_talks_through_pipes(world: WorldHandle) -> None:
    code = ("import socket, sys\n"
            "for line in sys.stdin:\n"
            "    s = socket.create_connection((line.strip(), 7), timeout=3)\n"
            "    s.sendall(b'ok'); print(s.recv(2).decode(), flush=True); s.close()\n")
    child = subprocess.Popen(world.enter([sys.executable, "-c", code]), stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    assert child.stdin is not None and child.stdout is not None
    for address in ("1.1.1.1", "93.184.215.14"):
        child.stdin.write(address + "\n")
        child.stdin.flush()
        assert child.stdout.readline().strip() == "ok"
    child.stdin.close()
    assert child.wait(5) == 0


def test_enter_keeps_the_working_directory(world: WorldHandle, tmp_path: Path) -> None:
    done = subprocess.run(world.enter(["pwd"], cwd=str(tmp_path)), capture_output=True,
                          text=True, check=True)
    assert done.stdout.strip() == str(tmp_path)


def test_failing_unshare_raises_namespace_unavailable(monkeypatch: pytest.MonkeyPatch,
                                                      core_world_file: Path) -> None:
    monkeypatch.setenv(namespace.UNSHARE_ENV, "/bin/false")
    with pytest.raises(NamespaceUnavailable) as info:
        WorldHandle.start(core_world_file)
    message = str(info.value)
    assert "cannot create the world's namespaces" in message
    assert "util-linux" in message and "unprivileged_userns_clone" in message


def test_unshare_reporting_eperm_is_explained(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                              core_world_file: Path) -> None:
    fake = tmp_path / "unshare"
    fake.write_text("#!/bin/sh\necho 'unshare: unshare failed: Operation not permitted' >&2\n"
                    "exit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv(namespace.UNSHARE_ENV, str(fake))
    with pytest.raises(NamespaceUnavailable, match="Operation not permitted"):
        WorldHandle.start(core_world_file)


def test_missing_unshare_names_the_package(monkeypatch: pytest.MonkeyPatch,
                                           core_world_file: Path) -> None:
    monkeypatch.setenv(namespace.UNSHARE_ENV, "/nonexistent/unshare")
    with pytest.raises(NamespaceUnavailable, match="util-linux"):
        WorldHandle.start(core_world_file)


def test_kind_without_starter_fails_naming_it(tmp_path: Path) -> None:
    text = core_world_text() + (
        '\n[service.teapot]\ndoc = "no starter"\nlisten = ["tcp/418"]\n'
        '\n[[host]]\nid = "teapot"\nrole = "public"\nipv4 = ["198.18.0.1"]\n'
        'services = ["teapot"]\n'
    )
    path = tmp_path / "teapot.toml"
    path.write_text(text)
    with pytest.raises(WorldError, match=r"no service starter for kinds \['teapot'\]"):
        WorldHandle.start(path)


def test_core_kinds_have_starters() -> None:
    for kind in ("dns", "echo", "sink", "blackhole", "reset", "tls-echo"):
        assert kind in STARTERS


def test_the_host_is_not_a_fresh_user_namespace() -> None:
    # configure() checks this first, so a world started outside unshare never
    # touches the host's addresses or mounts.
    assert namespace.in_fresh_user_namespace() is False


def test_nsswitch_override_detection() -> None:
    assert not namespace.nsswitch_needs_override("hosts:          files dns\n")
    assert not namespace.nsswitch_needs_override("hosts: files [NOTFOUND=return] dns\n")
    assert namespace.nsswitch_needs_override("hosts: files mdns4_minimal [NOTFOUND=return] dns\n")
    assert namespace.nsswitch_needs_override("passwd: files\nhosts: files resolve dns\n")


def test_ip_batch_covers_addresses_ranges_broadcast_multicast(world: WorldHandle) -> None:
    script = namespace.ip_batch(world.data)
    assert script.startswith("link set lo up\n")
    assert "addr add 8.8.8.8/32 dev lo" in script
    assert "addr add 2001:4860:4860::8888/128 dev lo" in script
    assert "route add local 10.0.0.0/8 dev lo" in script
    assert "route add broadcast 255.255.255.255 dev lo" in script
    assert "route add 224.0.0.0/4 dev lo" in script
    assert "route add local ff00::/8 dev lo" in script
    assert "127.0.0.1/32" not in script and "0.0.0.0/32" not in script


@pytest.mark.parametrize("change,message", [
    (('role = "google-public-dns"\n', ""),
     r"\[\[host\]\] #1 \('google-dns-a'\): missing key 'role'"),
    (('ipv4 = ["8.8.8.8"]', 'ipv4 = ["8.8.8.888"]'), r"\[\[host\]\] #1 .*8\.8\.8\.888"),
    (('listen = ["udp/53", "tcp/53"]', 'listen = ["tcp/x"]'), r"\[service\.dns\]: bad listen"),
    (('a = ["10.0.0.1", "93.184.215.14"]', 'a = ["10.0.0.1", "rebound"]'),
     r"\[\[rebinding\]\] 'rebind-a1\.attacker\.example'.*rebound"),
    (('a = ["10.0.0.1", "93.184.215.14"]', 'answers = ["10.0.0.1"]'),
     r"'rebind-a1\.attacker\.example'.*unknown keys \['answers'\]"),
])
def test_a_bad_world_file_names_the_entry(tmp_path: Path, change: tuple[str, str],
                                          message: str) -> None:
    text = DEFAULT_WORLD.read_text()
    assert change[0] in text
    path = tmp_path / "bad.toml"
    path.write_text(text.replace(change[0], change[1], 1))
    with pytest.raises(WorldDataError, match=message):
        load_world(path)
