"""`native`: the interpreter's own, unrestricted socket module.

The baseline candidate: it implements no policy at all, so it must FAIL every
blocked-path MUST while passing the API cases. That makes it the check that
the catalogue's "blocked" verdicts have teeth. `native-py27` runs the same
under Python 2.7 (the App Engine SDK's runtime), so the agent and the cases
are exercised there too.
"""

from __future__ import annotations

import os
import subprocess
import sys
from functools import cache

from conformance.adapter import Adapter, CandidateInfo, Capability, InstanceSpec
from conformance.adapters.python27 import find_python27


class NativeAdapter(Adapter):
    """The unrestricted socket module of one Python interpreter.

    The interpreter is, in order: the constructor's `python`, the environment
    variable CONFORMANCE_NATIVE_PYTHON, or the harness's own sys.executable.
    """

    name = "native"

    def __init__(self, python: str | None = None) -> None:
        self.python = python or os.environ.get("CONFORMANCE_NATIVE_PYTHON") or sys.executable

    def info(self) -> CandidateInfo:
        return CandidateInfo(name=self.name, version=_python_version(self.python),
                             description=f"unrestricted socket module of {self.python}")

    def capabilities(self) -> frozenset[Capability]:
        major = _python_version(self.python).split(".")[0]
        return frozenset({Capability.ASYNCIO}) if major == "3" else frozenset()

    def instance(self, app_id: str) -> InstanceSpec:
        # -s: no user site-packages; -E is avoided on purpose: the agent's own
        # CONFORMANCE_* variables travel in the environment.
        return InstanceSpec(argv=[self.python, "-s"])


class NativePy27Adapter(NativeAdapter):
    """`native` under Python 2.7."""

    name = "native-py27"

    def __init__(self, python: str | None = None) -> None:
        super().__init__(python or find_python27())


@cache
def _python_version(python: str) -> str:
    if python == sys.executable:
        return ".".join(str(n) for n in sys.version_info[:3])
    try:
        out = subprocess.run(
            [python, "-c", "import sys; print('%d.%d.%d' % tuple(sys.version_info[:3]))"],
            capture_output=True, text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"unknown ({exc})"
    return out.stdout.strip()
