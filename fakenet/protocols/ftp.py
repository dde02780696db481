"""FTP control connection (RFC 959, RFC 2428) server side: what ftplib needs.

Login (anonymous, or a world account whose services list "ftp"), SYST, PWD,
CWD, TYPE, FEAT, PASV/EPSV, LIST/NLST/RETR of one read-only directory, QUIT.
Active mode (PORT, EPRT) is what clause FTP-1 says a sandbox cannot do: each
attempt is journalled as an `ftp-active` note and answered 502.

Passive data connections need I/O the protocol cannot do, so it asks for it
with two extra actions and is told the result through two extra inputs:

    OpenPassive  -> the I/O layer listens on the control connection's local
                    address and calls passive_opened(host, port), or
                    passive_failed() if it cannot;
    Transfer     -> the I/O layer sends the bytes on the next accepted data
                    connection, closes it, and calls transfer_done(ok).

Both actions appear only where the preceding Sends are already flushed, so
the I/O layer can carry out a list of actions strictly in order.
"""

from __future__ import annotations

from dataclasses import dataclass

from fakenet.protocols.accounts import authenticate
from fakenet.protocols.lines import CommandLineServer, LineBuffer
from fakenet.sansio import Action, Close, Note, Send
from fakenet.world import Binding, World

LINE_LIMIT = 512

# The one directory the server shows. It is protocol furniture, not world
# data: nothing in the catalogue depends on its content beyond its digest.
FILES = {"README": b"fakenet FTP: passive mode works, active mode is journalled and refused.\r\n"}
LISTING_DATE = "Jan 01  2024"


@dataclass(frozen=True)
class OpenPassive:
    """Listen for one data connection; `extended` selects the EPSV reply form."""

    extended: bool


@dataclass(frozen=True)
class Transfer:
    """Send `data` on the data connection, close it, then call transfer_done()."""

    data: bytes
    command: str = ""


FtpAction = Action | OpenPassive | Transfer


def reply(code: int, text: str) -> Send:
    return Send(f"{code} {text}\r\n".encode())


def listing(names_only: bool) -> bytes:
    if names_only:
        return b"".join(name.encode() + b"\r\n" for name in FILES)
    return b"".join(
        f"-r--r--r--   1 ftp      ftp      {len(data):8d} {LISTING_DATE} {name}\r\n".encode()
        for name, data in FILES.items()
    )


class FtpControl(CommandLineServer):
    """One FTP control session."""

    def __init__(self, world: World, binding: Binding) -> None:
        self.world = world
        self.binding = binding
        self.lines = LineBuffer(LINE_LIMIT)
        self.user: str | None = None
        self.logged_in = False
        self.passive = False        # a data listener is open and unused
        self.opening: str | None = None  # the PASV/EPSV verb awaiting passive_opened
        self.transferring = False
        self.closed = False

    def connection_made(self) -> list[FtpAction]:
        return [reply(220, "fakenet FTP service ready")]

    def error_reply(self, text: str) -> Send:
        return reply(500, text)

    # ---- inputs from the I/O layer ------------------------------------------
    def passive_opened(self, host: str, port: int) -> list[FtpAction]:
        verb, self.opening = self.opening, None
        self.passive = True
        note = Note("ftp-passive", {"command": verb, "port": port})
        if verb == "EPSV":
            return [note, reply(229, f"Entering Extended Passive Mode (|||{port}|)")]
        numbers = ",".join([*host.split("."), str(port >> 8), str(port & 0xFF)])
        return [note, reply(227, f"Entering Passive Mode ({numbers})")]

    def passive_failed(self) -> list[FtpAction]:
        self.opening = None
        return [reply(425, "cannot open a passive data connection")]

    def transfer_done(self, ok: bool) -> list[FtpAction]:
        self.transferring = False
        if ok:
            return [reply(226, "transfer complete")]
        return [reply(425, "no data connection arrived")]

    # ---- commands ------------------------------------------------------------
    def command(self, line: bytes) -> list[FtpAction]:
        verb, _, arg = line.decode("utf-8", "replace").strip().partition(" ")
        verb = verb.upper()
        if not verb:
            return [reply(500, "empty command")]
        if verb == "QUIT":
            self.closed = True
            return [reply(221, "goodbye"), Close()]
        if verb in ("PORT", "EPRT"):
            note = Note("ftp-active", {"command": verb, "argument": arg[:200],
                                       "logged_in": self.logged_in})
            return [note, reply(502, "active mode is not available here, use PASV or EPSV")]
        if verb in ANY_STATE:
            return ANY_STATE[verb](self, arg)
        if verb == "USER":
            self.user, self.logged_in = arg, False
            return [reply(331, "send the password")]
        if verb == "PASS":
            return self.password(arg)
        if verb not in LOGGED_IN:
            return [reply(502, f"{verb[:20]} is not implemented")]
        if not self.logged_in:
            return [reply(530, "log in with USER and PASS first")]
        return LOGGED_IN[verb](self, arg)

    def password(self, arg: str) -> list[FtpAction]:
        if self.user is None:
            return [reply(503, "send USER first")]
        user = self.user
        anonymous = user.lower() in ("anonymous", "ftp")
        ok = anonymous or authenticate(self.world, self.binding, user, arg) is not None
        note = Note("ftp-login", {"user": user, "ok": ok})
        if not ok:
            self.user = None
            return [note, reply(530, "login incorrect")]
        self.logged_in = True
        return [note, reply(230, "logged in")]

    def syst(self, arg: str) -> list[FtpAction]:
        return [reply(215, "UNIX Type: L8")]

    def feat(self, arg: str) -> list[FtpAction]:
        return [Send(b"211-Features:\r\n EPSV\r\n PASV\r\n SIZE\r\n UTF8\r\n211 End\r\n")]

    def noop(self, arg: str) -> list[FtpAction]:
        return [reply(200, "NOOP ok")]

    def help_(self, arg: str) -> list[FtpAction]:
        return [reply(214, "USER PASS SYST FEAT PWD CWD TYPE PASV EPSV LIST NLST RETR SIZE QUIT")]

    def opts(self, arg: str) -> list[FtpAction]:
        if arg.upper().startswith("UTF8"):
            return [reply(200, "UTF8 is always on")]
        return [reply(501, "unknown option")]

    def pwd(self, arg: str) -> list[FtpAction]:
        return [reply(257, '"/" is the current directory')]

    def cwd(self, arg: str) -> list[FtpAction]:
        if arg.strip() in ("/", ".", "", ".."):
            return [reply(250, "directory is /")]
        return [reply(550, "no such directory")]

    def cdup(self, arg: str) -> list[FtpAction]:
        return [reply(250, "directory is /")]

    def type_(self, arg: str) -> list[FtpAction]:
        if arg.upper().split()[:1] in (["A"], ["I"], ["L"]):
            return [reply(200, f"type set to {arg.upper()[:10]}")]
        return [reply(504, "type not supported")]

    def mode(self, arg: str) -> list[FtpAction]:
        return [reply(200, "mode S")] if arg.upper() == "S" else [reply(504, "only mode S")]

    def stru(self, arg: str) -> list[FtpAction]:
        return [reply(200, "structure F")] if arg.upper() == "F" else [reply(504, "only F")]

    def pasv(self, arg: str) -> list[FtpAction]:
        if ":" in self.binding.address:
            return [reply(522, "PASV is IPv4 only here, use EPSV (2)")]
        return self.open_passive("PASV")

    def epsv(self, arg: str) -> list[FtpAction]:
        if arg.upper() == "ALL":
            return [reply(200, "EPSV ALL ok")]
        if arg and arg not in ("1", "2"):
            return [reply(522, "network protocol not supported, use (1,2)")]
        return self.open_passive("EPSV")

    def open_passive(self, verb: str) -> list[FtpAction]:
        if self.transferring or self.opening:
            return [reply(425, "a data transfer is already in progress")]
        self.opening = verb
        return [OpenPassive(extended=verb == "EPSV")]

    def transfer(self, what: str, data: bytes) -> list[FtpAction]:
        if not self.passive:
            return [reply(425, "use PASV or EPSV first")]
        self.passive, self.transferring = False, True
        return [reply(150, f"opening data connection for {what}"), Transfer(data, what)]

    def list_(self, arg: str) -> list[FtpAction]:
        return self.transfer("LIST", listing(names_only=False))

    def nlst(self, arg: str) -> list[FtpAction]:
        return self.transfer("NLST", listing(names_only=True))

    def retr(self, arg: str) -> list[FtpAction]:
        data = FILES.get(arg.strip().lstrip("/"))
        if data is None:
            return [reply(550, "no such file")]
        return self.transfer("RETR", data)

    def size(self, arg: str) -> list[FtpAction]:
        data = FILES.get(arg.strip().lstrip("/"))
        return [reply(213, str(len(data)))] if data is not None else [reply(550, "no such file")]

    def read_only(self, arg: str) -> list[FtpAction]:
        return [reply(550, "permission denied: this server is read-only")]

    def abor(self, arg: str) -> list[FtpAction]:
        return [reply(225, "no transfer to abort")]


ANY_STATE = {
    "SYST": FtpControl.syst, "FEAT": FtpControl.feat, "NOOP": FtpControl.noop,
    "HELP": FtpControl.help_, "OPTS": FtpControl.opts,
}
LOGGED_IN = {
    "PWD": FtpControl.pwd, "XPWD": FtpControl.pwd, "CWD": FtpControl.cwd,
    "CDUP": FtpControl.cdup, "TYPE": FtpControl.type_, "MODE": FtpControl.mode,
    "STRU": FtpControl.stru, "PASV": FtpControl.pasv, "EPSV": FtpControl.epsv,
    "LIST": FtpControl.list_, "NLST": FtpControl.nlst, "RETR": FtpControl.retr,
    "SIZE": FtpControl.size, "STOR": FtpControl.read_only, "APPE": FtpControl.read_only,
    "DELE": FtpControl.read_only, "MKD": FtpControl.read_only, "RMD": FtpControl.read_only,
    "ABOR": FtpControl.abor,
}
