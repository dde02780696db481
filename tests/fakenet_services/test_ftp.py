"""FTP control protocol object, no socket: the data channel is driven by hand."""

from __future__ import annotations

from fakenet.protocols.ftp import FILES, FtpControl, OpenPassive, Transfer
from tests.fakenet_services.conftest import binding_for, drive, feed


def logged_in(world_data, family: str = "ipv4"):
    protocol = FtpControl(world_data, binding_for(world_data, "public-mail", "ftp", family))
    out = drive(protocol, b"USER anonymous\r\nPASS anonymous@\r\n")
    assert out.lines()[:3] == [b"220 fakenet FTP service ready", b"331 send the password",
                               b"230 logged in"]
    return protocol, out


def test_pasv_list_transfer(world_data) -> None:
    protocol, out = logged_in(world_data)
    assert feed(protocol, out, b"SYST\r\n") == b"215 UNIX Type: L8\r\n"
    assert feed(protocol, out, b"PWD\r\n") == b'257 "/" is the current directory\r\n'
    assert feed(protocol, out, b"TYPE A\r\n").startswith(b"200")
    assert feed(protocol, out, b"PASV\r\n") == b""
    assert out.other == [OpenPassive(extended=False)]
    out.add(protocol.passive_opened("93.184.215.14", 40001))
    assert out.sent.endswith(b"227 Entering Passive Mode (93,184,215,14,156,65)\r\n")
    assert feed(protocol, out, b"LIST\r\n") == b"150 opening data connection for LIST\r\n"
    transfer = out.other[-1]
    assert isinstance(transfer, Transfer) and b" README\r\n" in transfer.data
    assert transfer.command == "LIST"
    out.add(protocol.transfer_done(True))
    assert out.sent.endswith(b"226 transfer complete\r\n")
    # each PASV serves one transfer
    assert feed(protocol, out, b"LIST\r\n") == b"425 use PASV or EPSV first\r\n"


def test_epsv_retr_and_failures(world_data) -> None:
    protocol, out = logged_in(world_data, "ipv6")
    assert feed(protocol, out, b"PASV\r\n").startswith(b"522")
    feed(protocol, out, b"EPSV\r\n")
    assert out.other == [OpenPassive(extended=True)]
    assert feed(protocol, out, b"EPSV\r\n").startswith(b"425")  # still opening
    out.add(protocol.passive_opened("2606:2800:21f:cb07:6820:80da:af6b:8b2c", 40002))
    assert out.sent.endswith(b"229 Entering Extended Passive Mode (|||40002|)\r\n")
    assert feed(protocol, out, b"SIZE README\r\n") == f"213 {len(FILES['README'])}\r\n".encode()
    assert feed(protocol, out, b"RETR nope\r\n").startswith(b"550")
    feed(protocol, out, b"RETR README\r\n")
    assert out.other[-1] == Transfer(FILES["README"], "RETR")
    out.add(protocol.transfer_done(False))
    assert out.sent.endswith(b"425 no data connection arrived\r\n")
    feed(protocol, out, b"EPSV\r\n")
    out.add(protocol.passive_failed())
    assert out.sent.endswith(b"425 cannot open a passive data connection\r\n")


def test_active_mode_is_journalled_and_refused(world_data) -> None:
    protocol, out = logged_in(world_data)
    assert feed(protocol, out, b"PORT 127,0,0,1,200,10\r\n").startswith(b"502 active mode")
    assert feed(protocol, out, b"EPRT |1|127.0.0.1|51210|\r\n").startswith(b"502")
    assert [(n.kind, n.detail["command"], n.detail["argument"]) for n in out.notes[-2:]] == [
        ("ftp-active", "PORT", "127,0,0,1,200,10"),
        ("ftp-active", "EPRT", "|1|127.0.0.1|51210|")]


def test_login_rules_and_order(world_data) -> None:
    protocol = FtpControl(world_data, binding_for(world_data, "public-mail", "ftp"))
    out = drive(protocol, b"PASS x\r\nLIST\r\nPASV\r\nUSER alice@mailhostingcompany.net\r\n"
                          b"PASS correct horse battery staple\r\nFEAT\r\nXYZZY\r\n\r\n")
    codes = [line[:3] for line in out.lines()[1:] if line and line[3:4] == b" "]
    assert codes == [b"503", b"530", b"530", b"331", b"530", b"211", b"502", b"500"]
    assert out.notes[-1].detail == {"user": "alice@mailhostingcompany.net", "ok": False}
    assert not out.other


def test_over_long_line_quit_and_eof(world_data) -> None:
    protocol, out = logged_in(world_data)
    assert feed(protocol, out, b"L" * 5000) == b"500 line too long\r\n"
    assert feed(protocol, out, b"\r\nNOOP\r\n") == b"200 NOOP ok\r\n"
    assert feed(protocol, out, b"QUIT\r\n") == b"221 goodbye\r\n" and out.closed
    protocol, out = logged_in(world_data)
    out.add(protocol.data_received(b"CW"))
    out.add(protocol.eof_received())
    assert out.sent.endswith(b"500 connection closed in the middle of a command\r\n")
    assert out.closed
