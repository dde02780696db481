"""A candidate that replaces `socket` with its own module (test stand-in).

Works on Python 2.7 and 3. It records whether the real socket module had been
imported before the bootstrap ran, and prints to stdout, which must not
corrupt the protocol.
"""

import sys
import types

SOCKET_WAS_IMPORTED = None


class error(Exception):
    def __init__(self, *args):
        Exception.__init__(self, *args)
        self.errno = args[0] if len(args) == 2 else None


class timeout(error):
    pass


class gaierror(error):
    pass


class NotImplementedSocketError(NotImplementedError, error):
    pass


def gethostbyaddr(address):
    raise NotImplementedSocketError("gethostbyaddr is not implemented")


def refuse():
    import errno
    raise error(errno.EACCES, "Permission denied")


def bootstrap():
    global SOCKET_WAS_IMPORTED
    SOCKET_WAS_IMPORTED = "socket" in sys.modules
    module = types.ModuleType("socket")
    module.error = error
    module.timeout = timeout
    module.gaierror = gaierror
    module.gethostbyaddr = gethostbyaddr
    module.refuse = refuse
    module.AF_INET = 2
    sys.modules["socket"] = module
    sys.stdout.write("candidate chatter on stdout\n")
    sys.stdout.flush()
