"""`python -m fakenet up | shell | check`, run as a user would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from fakenet import namespace

ROOT = Path(__file__).resolve().parents[2]


def fakenet(*args: str, env: dict[str, str] | None = None,
            **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fakenet", *args], cwd=ROOT, text=True,
                          capture_output=True, env={**os.environ, **(env or {})}, timeout=120,
                          check=False, **kwargs)  # type: ignore[call-overload]


def test_check_passes_on_a_healthy_world(core_world_file: Path) -> None:
    done = fakenet("--world", str(core_world_file), "check")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 fault(s)" in done.stdout
    assert "ok     only loopback" in done.stdout
    assert "ok     outside address 11.1.1.1 unreachable" in done.stdout
    assert "ok     getaddrinfo smtp.gmail.com" in done.stdout


def test_shell_runs_a_command_inside(core_world_file: Path) -> None:
    done = fakenet("--world", str(core_world_file), "shell", "-c",
                   "cat /etc/resolv.conf; echo $SSL_CERT_FILE; exit 3")
    assert done.returncode == 3
    assert "nameserver 8.8.8.8" in done.stdout and "ca.pem" in done.stdout


def test_no_namespace_is_a_clear_error_and_exit_2(core_world_file: Path) -> None:
    done = fakenet("--world", str(core_world_file), "check",
                   env={namespace.UNSHARE_ENV: "/bin/false"})
    assert done.returncode == 2
    assert "cannot create the world's namespaces" in done.stderr


def test_up_prints_the_host_table_and_stops_on_sigterm(core_world_file: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "fakenet", "--world", str(core_world_file),
                             "up"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    assert proc.stdout is not None
    lines = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        lines.append(line)
        if not line or "Ctrl-C" in line:
            break
    try:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = "".join(lines)
    assert text.startswith("id ")
    assert "google-dns-a" in text and "8.8.8.8" in text and "world pid" in text
