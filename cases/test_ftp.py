"""FTP: active mode needs a listening socket, so it fails (FTP-1, MUST); a TCP
connection to 21 is refused (FTP-2, SHOULD: matrices/ports.toml)."""

from __future__ import annotations

import pytest

from cases.matrix import family, params
from cases.probes import run_matrix_case
from conformance.remote import attempt

CASES = family("ports", clause_prefix="FTP-")


@pytest.mark.parametrize("case", params(CASES))
def test_port_21(case, request, instance, verdict, world):
    run_matrix_case(request, instance, verdict, world, case)


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
    verdict.check(transfer.raised, name="active-mode-fails",
                  expected="the active-mode transfer (or the connection before it) raises",
                  observed="; ".join(steps))


@pytest.mark.clause("FTP-1", "MUST")
def test_active_mode_data_port_cannot_listen(instance, verdict):
    """What active mode does first: a data socket bound to an ephemeral port and
    listening for the server. With a control connection up, makeport() must raise."""
    ftplib = instance.module("ftplib")
    ftp = ftplib.call("FTP")
    connected = attempt(ftp.call, "connect", "ftp.mailhostingcompany.net", 21, 5)
    if connected.raised:
        verdict.check(True, name="active-mode-fails", expected="no active-mode data port",
                      observed=f"the control connection itself failed: {connected.describe()}")
        return
    made = attempt(ftp.call, "makeport")
    attempt(ftp.call, "close")
    verdict.raised(made)
