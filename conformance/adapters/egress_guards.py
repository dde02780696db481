"""Adapters for third-party egress guards: libraries Python programs already put
in front of untrusted destinations, run through the catalogue as candidates.

Each library is pinned here, fetched from PyPI with its dependencies into
the user's cache on first use (`pypi_cache`), never vendored, and set up
inside each instance by its bootstrap in `egress_guards_boot.py` from the
policy data in `egress_policy.toml`. The judge-to-socket glue shared by all
of them is `judged_socket.py`. What each library could not express, and
what the catalogue found, is in docs/candidates/NAME.md.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from conformance.adapter import (
    Adapter,
    CandidateInfo,
    Capability,
    InstanceSpec,
    SessionContext,
)
from conformance.adapters import pypi_cache
from conformance.adapters.egress_policy import POLICY_ENV, POLICY_FILE

BOOT_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class GuardPackage:
    """One pinned library and how its instances are booted."""

    candidate: str          # the candidate's name
    distribution: str       # its name on PyPI
    version: str            # the pin
    bootstrap: str          # "module:function" in egress_guards_boot
    description: str

    @property
    def requirement(self) -> str:
        return f"{self.distribution}=={self.version}"


class EgressGuardAdapter(Adapter):
    """A pinned PyPI egress guard, in the harness's own Python 3."""

    package: GuardPackage

    def __init__(self, python: str | None = None) -> None:
        self.python = python or sys.executable
        self._site: Path | None = None

    def info(self) -> CandidateInfo:
        return CandidateInfo(name=self.package.candidate, version=self.package.version,
                             description=self.package.description)

    def capabilities(self) -> frozenset[Capability]:
        return frozenset({Capability.ASYNCIO})

    def open_session(self, context: SessionContext) -> None:
        self._site = self.install()

    def install(self) -> Path:
        """The cache directory holding the pinned library (pip installs it once)."""
        key = (f"{self.package.distribution}-{self.package.version}"
               f"-py{sys.version_info[0]}.{sys.version_info[1]}")
        try:
            return pypi_cache.install_target([self.package.requirement], self.python, key)
        except pypi_cache.PackageUnavailable as exc:
            raise pypi_cache.PackageUnavailable(
                f"cannot install candidate {self.package.candidate!r} "
                f"({self.package.requirement}): {exc}\n`{self.python} -m pip install "
                f"{self.package.requirement}` must work (offline: PIP_NO_INDEX=1 "
                f"PIP_FIND_LINKS=DIR-WITH-ITS-WHEELS); it is installed once into "
                f"{pypi_cache.cache_root() / key}") from exc

    def instance(self, app_id: str) -> InstanceSpec:
        if self._site is None:
            raise RuntimeError(f"{type(self).__name__}.instance() before open_session()")
        return InstanceSpec(
            # -S: no site-packages of the harness; the cache holds the library
            # and every dependency it has.
            argv=[self.python, "-E", "-S", "-s"],
            env={POLICY_ENV: str(POLICY_FILE)},
            bootstrap=self.package.bootstrap,
            pythonpath=self.pythonpath(),
        )

    def pythonpath(self) -> Sequence[str]:
        assert self._site is not None
        return [str(self._site), str(BOOT_DIR)]


class PytestSocketAdapter(EgressGuardAdapter):
    package = GuardPackage(
        "pytest-socket", "pytest-socket", "0.8.1", "egress_guards_boot:install_pytest_socket",
        "pytest-socket's socket_allow_hosts() over socket.socket.connect, allow-list = "
        "everything outside the policy's blocked ranges")


class AdvocateAdapter(EgressGuardAdapter):
    """Also offers advocate.get (its own client, which resolves for itself)."""

    def capabilities(self) -> frozenset[Capability]:
        return super().capabilities() | {Capability.OWN_HTTP_CLIENT}

    package = GuardPackage(
        "advocate", "advocate", "1.0.0", "egress_guards_boot:install_advocate",
        "advocate's AddrValidator judging each resolved address (shared glue)")


class RequestsHardenedAdapter(EgressGuardAdapter):
    """Also offers its hardened session (its own client, which resolves for itself)."""

    def capabilities(self) -> frozenset[Capability]:
        return super().capabilities() | {Capability.OWN_HTTP_CLIENT}

    package = GuardPackage(
        "requests-hardened", "requests-hardened", "1.3.0",
        "egress_guards_boot:install_requests_hardened",
        "requests-hardened's SSRF filter (ip_filter.filter_host) judging each resolved "
        "address (shared glue)")
