"""Run the socket service: `python -m sandbox.service --socket PATH [--ca PEM]`."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import sys
import threading
import time

from ..policy import Policy
from ..ranges import load_google
from .core import Service


def serve(service: Service, path: str) -> socket.socket:
    if os.path.exists(path):
        os.unlink(path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(256)

    def accept_loop() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            service.workers.submit(service.handle, conn)

    def sweep_loop() -> None:
        while True:
            time.sleep(1.0)
            service.table.sweep()

    threading.Thread(target=accept_loop, daemon=True).start()
    threading.Thread(target=sweep_loop, daemon=True).start()
    return listener


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.service")
    parser.add_argument("--socket", required=True, help="unix socket path instances connect to")
    parser.add_argument("--ca", default=None, help="CA bundle urlfetch trusts for https")
    parser.add_argument("--allow-ftp", action="store_true", help="do not refuse TCP port 21")
    args = parser.parse_args()
    policy = Policy(load_google().range_set(), block_ftp=not args.allow_ftp)
    service = Service(policy, cafile=args.ca)
    listener = serve(service, args.socket)
    out = sys.stdout
    out.write(json.dumps({"ready": True, "socket": args.socket, "pid": os.getpid()}) + "\n")
    out.flush()
    for line in sys.stdin:
        try:
            req = json.loads(line)
            if req.get("op") == "stop":
                out.write(json.dumps({"ok": True, "stopped": True}) + "\n")
                out.flush()
                break
            reply = service.admin(req)
        except Exception as exc:  # admin errors are reported, never fatal
            reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        out.write(json.dumps(reply) + "\n")
        out.flush()
    listener.close()
    service.table.close_all()
    with contextlib.suppress(OSError):
        os.unlink(args.socket)
    return 0


if __name__ == "__main__":
    sys.exit(main())
