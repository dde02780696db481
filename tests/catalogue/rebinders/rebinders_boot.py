"""Bootstraps of the near-miss rebinding candidates (runs inside an instance).

Each guards connect, sendto and create_connection by resolving the name and
refusing a non-global answer, the way a hurried egress guard does, and each
then uses an answer it did not judge:

- resolve_again: judge the 1st answer, the call resolves again (2nd);
  create_connection connects the 2nd resolution's answers unguarded.
- judge_twice: judge two answers, the call resolves a 3rd time.
- cached_answer: remember every name's first answer (from getaddrinfo too);
  judge a fresh answer, connect to the remembered one.
"""

import errno
import ipaddress
import socket

_connect = socket.socket.connect
_sendto = socket.socket.sendto
_getaddrinfo = socket.getaddrinfo


def _answers(host, port, family=0):
    return [info[4][0] for info in _getaddrinfo(host, port, family)]


def _check(host, answers):
    """EACCES unless every answer is a global address."""
    for text in answers:
        address = ipaddress.ip_address(text.split("%")[0])
        mapped = getattr(address, "ipv4_mapped", None)
        if not (mapped or address).is_global:
            raise OSError(errno.EACCES, f"rebinder: {host} resolves to {text}")


def _judge(host, port, family=0):
    """One resolution of `host`, judged."""
    _check(host, _answers(host, port, family))


def _open(infos, timeout):
    """create_connection's loop over answers already judged, with the unguarded connect."""
    error = OSError(errno.EHOSTUNREACH, "no answer")
    for family, kind, proto, _name, sockaddr in infos:
        sock = socket.socket(family, kind, proto)
        sock.settimeout(timeout if isinstance(timeout, (int, float)) else None)
        try:
            _connect(sock, sockaddr)
            return sock
        except OSError as exc:
            sock.close()
            error = exc
    raise error


def _guard(judgements):
    """connect/sendto/create_connection that judge `judgements` resolutions and then
    hand the name itself to the real call, which resolves it once more."""

    def connect(self, address):
        for _ in range(judgements):
            _judge(address[0], address[1], self.family)
        return _connect(self, address)

    def sendto(self, data, *args):
        address = args[-1]
        for _ in range(judgements):
            _judge(address[0], address[1], self.family)
        return _sendto(self, data, *args)

    def create_connection(address, timeout=None, *_args, **_kwargs):
        for _ in range(judgements):
            _judge(address[0], address[1])
        # "the name was judged": the answers of this resolution connect unguarded
        return _open(_getaddrinfo(address[0], address[1], 0, socket.SOCK_STREAM), timeout)

    socket.socket.connect = connect
    socket.socket.sendto = sendto
    socket.create_connection = create_connection


def resolve_again():
    _guard(1)


def judge_twice():
    _guard(2)


def cached_answer():
    first = {}

    def remembered(host, port, family):
        fresh = _answers(host, port, family)
        _check(host, fresh)
        return first.setdefault(str(host).lower(), fresh[0])

    def getaddrinfo(host, *args, **kwargs):
        infos = _getaddrinfo(host, *args, **kwargs)
        if infos and host is not None:
            first.setdefault(str(host).lower(), infos[0][4][0])
        return infos

    def connect(self, address):
        return _connect(self, (remembered(address[0], address[1], self.family), *address[1:]))

    def sendto(self, data, *args):
        address = args[-1]
        target = (remembered(address[0], address[1], self.family), *address[1:])
        return _sendto(self, data, *args[:-1], target)

    def create_connection(address, timeout=None, *_args, **_kwargs):
        text = remembered(address[0], address[1], 0)
        return _open(_getaddrinfo(text, address[1], 0, socket.SOCK_STREAM), timeout)

    socket.getaddrinfo = getaddrinfo
    socket.socket.connect = connect
    socket.socket.sendto = sendto
    socket.create_connection = create_connection
