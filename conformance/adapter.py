"""The adapter API: the one seam through which every candidate plugs in.

An adapter tells the harness how to start an *instance* of an *app* in the
candidate's runtime. The harness then runs its agent (conformance/agent.py)
in that instance, inside the fake internet's namespace, and talks to it over
stdin/stdout. Bundled candidates (`native`, `reference`) use exactly this
interface, as a third party's would. See docs/adapters.md for a complete
third-party example.
"""

from __future__ import annotations

import abc
import enum
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


class Capability(enum.Enum):
    """Optional abilities a case may need; a case that needs one the adapter
    lacks is UNSUPPORTED, never passed."""

    CLOCK = "clock"              # advance_clock(): a virtual clock for idle reclamation
    BYTE_METER = "byte-meter"    # bytes_metered(): outgoing bytes as billed
    ASYNCIO = "asyncio"          # the instance's Python has asyncio (API-7)
    # the candidate has an HTTP client of its own (a guard library's, which resolves
    # for itself): the instance offers module `own_http_client` with
    # fetch(url, timeout) -> (status, body), the library's path alone (own-client cases)
    OWN_HTTP_CLIENT = "own-http-client"


class Unsupported(Exception):
    """Raised by an adapter method the candidate cannot offer."""


@dataclass(frozen=True)
class CandidateInfo:
    name: str
    version: str
    description: str = ""


@dataclass(frozen=True)
class InstanceSpec:
    """How to start one instance of an app.

    argv: the interpreter and its options, e.g. ["/usr/bin/python2.7", "-S"];
      the harness appends the agent's path.
    env: variables added to the instance's environment (the harness adds
      SSL_CERT_FILE for the world's CA, APP_ID and the agent's own).
    bootstrap: "module:function" the agent imports and calls before anything
      else, so that `import socket` inside the instance yields the
      candidate's module; None for the interpreter's own modules.
    pythonpath: directories put first on the instance's sys.path.
    """

    argv: Sequence[str]
    env: Mapping[str, str] = field(default_factory=dict)
    bootstrap: str | None = None
    pythonpath: Sequence[str] = ()


class WorldAccess(Protocol):
    """What an adapter may use of the running fake internet."""

    ca_bundle: Path

    def enter(self, argv: Sequence[str]) -> list[str]:
        """argv prefixed so that it runs inside the world's namespaces."""
        ...


@dataclass(frozen=True)
class SessionContext:
    """Given to an adapter when a run starts."""

    world: WorldAccess
    profile: str            # "default" unless --profile names another
    workdir: Path           # a private directory for this session's files
    env: Mapping[str, str]  # the base environment instances get
    # what spawn() started: the harness watches them (conformance/health.py)
    spawned: list[tuple[tuple[str, ...], subprocess.Popen[bytes]]] = field(
        default_factory=list, compare=False, repr=False)

    def spawn(self, argv: Sequence[str], **popen: object) -> subprocess.Popen[bytes]:
        """Start a helper process (e.g. the candidate's socket service) inside the world.
        The harness watches it: if it dies, the case is ERROR and the session reopens."""
        proc: subprocess.Popen[bytes] = subprocess.Popen(  # type: ignore[call-overload]
            self.world.enter(argv), env=dict(self.env), **popen)
        self.spawned.append((tuple(argv), proc))
        return proc


class Adapter(abc.ABC):
    """One candidate implementation. Subclass, then register by entry point
    (group `conformance.adapters`) or pass `--adapter module:Class`."""

    #: the profiles this candidate can run under; the first is the default.
    profiles: Sequence[str] = ("default",)

    @abc.abstractmethod
    def info(self) -> CandidateInfo:
        """Name and version, as the results record them."""

    def capabilities(self) -> frozenset[Capability]:
        return frozenset()

    def open_session(self, context: SessionContext) -> None:  # noqa: B027
        """Start whatever the candidate needs once per run (e.g. its service)."""

    @abc.abstractmethod
    def instance(self, app_id: str) -> InstanceSpec:
        """How to start one instance of app `app_id`."""

    def advance_clock(self, seconds: float) -> None:
        """Move the candidate's clock forward (Capability.CLOCK)."""
        raise Unsupported(f"{type(self).__name__} has no virtual clock")

    def bytes_metered(self, app_id: str) -> int:
        """Outgoing bytes billed to `app_id` so far (Capability.BYTE_METER)."""
        raise Unsupported(f"{type(self).__name__} has no byte meter")

    def close_session(self) -> None:  # noqa: B027
        """Stop what open_session started; called even when the run fails."""
