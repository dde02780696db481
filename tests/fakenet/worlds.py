"""World files for the core tests: the project's world.toml, cut to the core services.

The mail/web/news services are built separately; these tests check the
runtime, so they serve world.toml with only the core kinds (dns, echo,
sink, blackhole, reset) and an echo over TLS in place of https, so that
the TLS and wrong-host tests do not depend on the HTTP service.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fakenet.world import DEFAULT_WORLD

if TYPE_CHECKING:
    from fakenet import WorldHandle

CORE_KINDS = ("dns", "echo", "sink", "blackhole", "reset")
RENAMED = {"https": "tls-echo", "https-wronghost": "tls-echo-wronghost"}
EXTRA_KINDS = '''
[service.tls-echo]
doc = "echo over implicit TLS (core tests' stand-in for https)"
listen = ["tcp/443"]
tls = "implicit"

[service.tls-echo-wronghost]
doc = "echo over TLS whose certificate names another host"
listen = ["tcp/443"]
tls = "implicit"
certificate_names = ["not-this-host.example.org"]
'''


def _cut(match: re.Match[str]) -> str:
    names = re.findall(r'"([^"]+)"', match.group(1))
    kept = [RENAMED.get(n, n) for n in names if n in CORE_KINDS or n in RENAMED]
    return "services = [" + ", ".join(f'"{n}"' for n in kept) + "]"


def core_world_text() -> str:
    text = DEFAULT_WORLD.read_text(encoding="utf-8")
    text = re.sub(r"^services = \[(.*)\]$", _cut, text, flags=re.MULTILINE)
    return re.sub(r"^\[canary\]$", lambda m: EXTRA_KINDS + "\n" + m.group(0), text,
                  count=1, flags=re.MULTILINE)


def write_core_world(directory: Path) -> Path:
    path = directory / "core-world.toml"
    path.write_text(core_world_text(), encoding="utf-8")
    return path


def run_inside(world: WorldHandle, code: str, *, timeout: float = 30.0,
               python: str | None = None) -> Any:
    """Run `code` in a fresh Python inside the world; return the JSON of its last line."""
    env = {**os.environ, **world.env()}
    argv = world.enter([python or sys.executable, "-c", textwrap.dedent(code)])
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env,
                          check=False)
    if done.returncode != 0:
        raise AssertionError(f"client inside the world failed ({done.returncode}):\n"
                             f"{done.stdout}\n{done.stderr}")
    lines = done.stdout.strip().splitlines()
    if not lines:
        raise AssertionError(f"client printed nothing; stderr:\n{done.stderr}")
    return json.loads(lines[-1])
