"""FTP: active mode needs a listening socket, so it fails (FTP-1, MUST); a TCP
connection to 21 is refused (FTP-2, SHOULD: matrices/ports.toml)."""

from __future__ import annotations

import pytest

from conformance.remote import attempt

from .matrix import family, params
from .probes import run_matrix_case

CASES = family("ports", clause_prefix="FTP-")


@pytest.mark.parametrize("case", params(CASES))
def test_port_21(case, instance, verdict, world):
    run_matrix_case(instance, verdict, world, case)


@pytest.mark.clause("FTP-1", "MUST")
def test_active_mode_transfer_fails(instance, verdict):
    """ftplib in active mode: the control connection may or may not open (FTP-2),
    but the transfer, which needs a listening data socket, must fail."""
    ftplib = instance.module("ftplib")
    ftp = ftplib.call("FTP")
    steps = []
    connected = attempt(ftp.call, "connect", "ftp.mailhostingcompany.net", 21, 5)
    steps.append(f"connect: {connected.describe()}")
    transfer = connected
    if connected.ok:
        steps.append(f"login: {attempt(ftp.call, 'login').describe()}")
        ftp.call("set_pasv", False)
        transfer = attempt(ftp.call, "nlst")
        steps.append(f"active NLST: {transfer.describe()}")
    attempt(ftp.call, "close")
    _no_port_command(verdict, transfer, steps)


@pytest.mark.clause("FTP-1", "MUST")
def test_active_mode_data_port_cannot_listen(instance, verdict):
    """What active mode does first: a data socket bound to an ephemeral port and
    listening for the server. With a control connection up, makeport() must raise."""
    ftplib = instance.module("ftplib")
    ftp = ftplib.call("FTP")
    connected = attempt(ftp.call, "connect", "ftp.mailhostingcompany.net", 21, 5)
    if connected.raised:   # no control connection (FTP-2), so no data port either
        _no_port_command(verdict, connected, [f"connect: {connected.describe()}"])
        return
    made = attempt(ftp.call, "makeport")
    attempt(ftp.call, "close")
    _no_port_command(verdict, made, [f"makeport: {made.describe()}"])


def _no_port_command(verdict, tried, steps) -> None:
    """ftplib sends PORT only once its data socket listens; the world's FTP server
    refuses PORT (502) and journals `ftp-active`, so a raise alone proves nothing:
    the PORT must never have been sent."""
    ports = verdict.events(kind="ftp-active")
    verdict.check(tried.raised and not ports, name="active-mode-fails",
                  expected="active mode raises before any PORT/EPRT (no listening data socket)",
                  observed="; ".join(steps) + f"; {len(ports)} PORT/EPRT command(s) journalled "
                           + "; ".join(str(dict(e.detail)) for e in ports))
