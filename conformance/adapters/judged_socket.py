# mypy: ignore-errors
# (patches C socket types at run time, inside the instance; nothing to type-check usefully)
"""Glue: turn a library's address judge into the instance's socket module.

Runs INSIDE a candidate instance (standard library only). A third-party
egress guard that offers a judgement "may this program reach (ip, port,
proto)?" becomes a candidate by `install(judge, name)`, the same way for
every library, so that a finding is the library's and not this glue's:

* every IP destination is resolved once, here, with the interpreter's own
  getaddrinfo (a name, an IP literal in any spelling the resolver takes,
  `'<broadcast>'`); each answer is judged in order and the socket is
  connected to (or sends to) the first answer the judge allows, *by that
  answer's address*, so nothing is resolved again between judgement and use
  (what advocate's own connection code does);
* no allowed answer raises `OSError(EACCES)` (connect_ex returns EACCES);
* the guard sits on every way out: `connect`, `connect_ex`, `sendto` and
  `sendmsg` of `socket.socket` itself (so `SocketType`, `ssl.SSLSocket`,
  asyncio and every stdlib client inherit it), and of the `_socket` module's
  type (`_socket.socket`, `socket.SocketType`), replaced by a guarded
  subclass for programs that bypass `socket.py`.

Non-IP families (AF_UNIX, ...) are not the policy's business and pass
through unjudged. What the glue cannot reach: the C type's own methods
called unbound on a socket (`_socket.socket.connect(sock, address)`, taken
before `install`), since a C type cannot be patched; a case that goes that
way finds the glue, not the library. Whatever the judge raises (other than returning False)
reaches the program unchanged: that is the library's behaviour.
"""

import _socket
import contextlib
import errno
import socket as _socket_py

#: The C type's own methods, taken before anything is patched.
_REAL = {name: getattr(_socket.socket, name)
         for name in ("connect", "connect_ex", "sendto", "sendmsg")}
_REAL_TYPE = _socket.socket
_REAL_GETADDRINFO = _socket.getaddrinfo
_IP_FAMILIES = (_socket.AF_INET, _socket.AF_INET6)
#: Non-zero while `bypassed()` is active: the guards step aside.
_BYPASS = [0]


class Refused(OSError):
    """The judge allowed none of the destination's addresses."""


def _proto(sock):
    return "tcp" if sock.type == _socket.SOCK_STREAM else "udp"


def _answers(sock, address):
    """The sockaddrs `address` resolves to for this socket, in resolver order."""
    host, port = address[0], address[1]
    if host == "<broadcast>":
        host = "255.255.255.255"
    socktype = sock.type if sock.type in (_socket.SOCK_STREAM, _socket.SOCK_DGRAM) else 0
    seen = []
    for info in _REAL_GETADDRINFO(host, port, sock.family, socktype):
        sockaddr = info[4]
        if sock.family == _socket.AF_INET6 and len(address) == 4 and not sockaddr[3]:
            sockaddr = (sockaddr[0], sockaddr[1], address[2], address[3])
        if sockaddr not in seen:
            seen.append(sockaddr)
    return seen


def _judged(sock, address, judge, name, proto):
    """The first answer for `address` that `judge` allows; Refused if none."""
    answers = _answers(sock, address)
    for sockaddr in answers:
        ip = str(sockaddr[0]).split("%", 1)[0]
        if judge(ip, int(sockaddr[1]), proto):
            return sockaddr
    shown = ", ".join(str(s[0]) for s in answers) or "no address"
    raise Refused(errno.EACCES, f"{name} refuses {address[0]!r} port {address[1]}/{proto} "
                                f"({shown})")


def _guards(judge, name):
    """The guarded methods, shared by every guarded class."""

    def target(sock, address):
        """The judged sockaddr; the protocol is the socket's own, so a TCP Fast Open
        `sendto`/`sendmsg` (a TCP connection without `connect`) is judged as TCP."""
        if _BYPASS[0] or sock.family not in _IP_FAMILIES or not isinstance(address, tuple):
            return address
        return _judged(sock, address, judge, name, _proto(sock))

    def connect(self, address):
        return _REAL["connect"](self, target(self, address))

    def connect_ex(self, address):
        try:
            judged = target(self, address)
        except Refused as exc:
            return exc.errno
        return _REAL["connect_ex"](self, judged)

    def sendto(self, data, *args):
        if len(args) not in (1, 2):
            return _REAL["sendto"](self, data, *args)   # let the C method say what is wrong
        *flags, address = args
        return _REAL["sendto"](self, data, *flags, target(self, address))

    def sendmsg(self, buffers, ancdata=(), flags=0, address=None):
        if address is None:
            return _REAL["sendmsg"](self, buffers, ancdata, flags)
        return _REAL["sendmsg"](self, buffers, ancdata, flags, target(self, address))

    return {"connect": connect, "connect_ex": connect_ex,
            "sendto": sendto, "sendmsg": sendmsg}


@contextlib.contextmanager
def bypassed():
    """The glue steps aside: for driving a library's own connection path alone
    (its own HTTP client), so that what it lets through is its own doing."""
    _BYPASS[0] += 1
    try:
        yield
    finally:
        _BYPASS[0] -= 1


def install(judge, name):
    """Make the interpreter's socket modules consult `judge(ip, port, proto) -> bool`.

    `name` names the library in refusals. Idempotent per interpreter.
    """
    if getattr(_socket_py, "_conformance_judged_by", None):
        return
    guards = _guards(judge, name)
    for method, function in guards.items():
        setattr(_socket_py.socket, method, function)
    guarded_type = type("socket", (_REAL_TYPE,), dict(guards, __module__="_socket"))
    _socket.socket = _socket.SocketType = guarded_type
    _socket_py.SocketType = guarded_type
    _socket_py._conformance_judged_by = name

