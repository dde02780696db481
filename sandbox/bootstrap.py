"""Inside an instance: make `import socket` yield the sandbox's module.

`install` runs before the app imports anything. The real `socket` and `ssl`
are imported first, so OpenSSL's socket class stays the standard one; then
the sandbox module takes the name `socket`, `ssl` learns to wrap sandbox
sockets, and http.client is routed through urlfetch (unless switched off).
"""

from __future__ import annotations

import sys

CLIENT_MODULES = ("http.client", "smtplib", "poplib", "imaplib", "nntplib", "ftplib",
                  "urllib.request", "asyncio.base_events")


def install() -> None:
    import socket as real
    import ssl

    from .app import aio, httpfetch, tls
    from .app import socket as sandboxed

    if sys.modules.get("socket") is sandboxed:
        return
    tls.install()
    ssl.create_connection = sandboxed.create_connection  # type: ignore[attr-defined]
    sys.modules["socket"] = sandboxed
    aio.install(sandboxed, real)
    for name in CLIENT_MODULES:
        mod = sys.modules.get(name)
        if mod is not None and getattr(mod, "socket", None) is real:
            mod.socket = sandboxed  # type: ignore[attr-defined]
    httpfetch.install()
