"""Bootstrap of the deny-all candidate: every connect and datagram raises EACCES.

Runs inside an instance, before the agent imports anything else.
"""

import errno
import socket


def _refuse(*_args, **_kwargs):
    raise OSError(errno.EACCES, "deny-all candidate: every destination is blocked")


def install():
    socket.socket.connect = _refuse
    socket.socket.connect_ex = lambda *_a, **_k: errno.EACCES
    socket.socket.sendto = _refuse
