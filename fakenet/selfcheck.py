"""The `python -m fakenet check` client: run INSIDE a world, standard library only.

Reads a JSON spec of bindings and names on stdin (written by
fakenet/__main__.py), checks each against the world, prints one line per
check and exits 1 if any check failed. Generic on purpose: a binding
"answers" when it accepts (and for implicit TLS completes a verified
handshake); the core endpoints are also checked for their behaviour.
"""

import errno
import hashlib
import json
import os
import socket
import ssl
import struct
import sys
import time

TIMEOUT = 3.0
faults: list = []


def report(ok, what, why=""):
    print(("ok     " if ok else "FAULT  ") + what + (": " + why if why else ""), flush=True)
    if not ok:
        faults.append(what)


def family(address):
    return socket.AF_INET6 if ":" in address else socket.AF_INET


def dns_query(name, qtype=1):
    header = struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
    labels = b"".join(bytes([len(p)]) + p.encode() for p in name.strip(".").split("."))
    return header + labels + b"\x00" + struct.pack("!HH", qtype, 1)


def recv_exact(sock, size):
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            break
        data += chunk
    return data


def check_tcp(kind, tls, address, port, names):
    try:
        sock = socket.create_connection((address, port), timeout=TIMEOUT)
    except ConnectionResetError:
        if kind == "reset":
            return "reset (already during connect)"
        raise
    try:
        if tls == "implicit":
            context = ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
            expected_name = names[0] if names else address
            try:
                sock = context.wrap_socket(sock, server_hostname=expected_name)
            except ssl.SSLCertVerificationError as exc:
                if "wronghost" in kind:
                    return f"certificate rejected as it should be ({exc.verify_message})"
                raise
            if "wronghost" in kind:
                raise AssertionError("a wrong-host certificate verified")
        if kind.startswith("echo") or kind.startswith("tls-echo"):
            sock.sendall(b"ping\n")
            if recv_exact(sock, 5) != b"ping\n":
                raise AssertionError("echo did not echo")
        elif kind == "sink":
            sock.sendall(b"x" * 1000)
            sock.shutdown(socket.SHUT_WR)
            want = b"1000 " + hashlib.sha256(b"x" * 1000).hexdigest().encode() + b"\n"
            if recv_exact(sock, len(want)) != want:
                raise AssertionError("sink digest wrong")
        elif kind == "blackhole":
            sock.settimeout(0.2)
            try:
                data = sock.recv(1)
                raise AssertionError(f"blackhole answered {data!r}")
            except TimeoutError:
                pass
        elif kind == "reset":
            try:
                data = sock.recv(1)
                if data:
                    raise AssertionError("reset endpoint sent data")
                return "closed without RST"
            except ConnectionResetError:
                return "reset"
        elif kind == "dns":
            query = dns_query("dns.google")
            sock.sendall(struct.pack("!H", len(query)) + query)
            (length,) = struct.unpack("!H", recv_exact(sock, 2))
            if recv_exact(sock, length)[:2] != query[:2]:
                raise AssertionError("bad DNS reply")
        return "answers"
    finally:
        sock.close()


def check_udp(kind, address, port):
    sock = socket.socket(family(address), socket.SOCK_DGRAM)
    sock.settimeout(TIMEOUT)
    try:
        payload = dns_query("dns.google") if kind == "dns" else b"ping"
        sock.sendto(payload, (address, port))
        if kind == "blackhole":
            sock.settimeout(0.2)
            try:
                sock.recv(100)
                raise AssertionError("blackhole answered")
            except TimeoutError:
                return "silent"
        reply = sock.recv(65535)
        if kind == "echo" and reply != payload:
            raise AssertionError(f"echo reply {reply!r}")
        if kind == "dns" and reply[:2] != payload[:2]:
            raise AssertionError("bad DNS reply")
        return "answers"
    finally:
        sock.close()


def main():
    spec = json.load(sys.stdin)
    for kind, tls, address, proto, port, names in spec["bindings"]:
        what = f"{kind} {proto} [{address}]:{port}"
        try:
            how = check_tcp(kind, tls, address, port, names) if proto == "tcp" \
                else check_udp(kind, address, port)
            report(True, what, how)
        except Exception as exc:
            report(False, what, f"{type(exc).__name__}: {exc}")
    for name, ipv4, ipv6 in spec["names"]:
        try:
            found = {info[4][0] for info in socket.getaddrinfo(name, 80, 0, socket.SOCK_STREAM)}
            wanted = set(ipv4) | set(ipv6)
            report(found == wanted, f"getaddrinfo {name}",
                   f"{sorted(found)}" if found == wanted
                   else f"got {sorted(found)}, want {sorted(wanted)}")
        except OSError as exc:
            report(False, f"getaddrinfo {name}", str(exc))
    for outside in ("11.1.1.1", "2001:67c::1"):
        sock = socket.socket(family(outside), socket.SOCK_STREAM)
        sock.settimeout(TIMEOUT)
        started = time.monotonic()
        try:
            sock.connect((outside, 80))
            report(False, f"outside address {outside} unreachable", "connected!")
        except OSError as exc:
            took = time.monotonic() - started
            report(exc.errno == errno.ENETUNREACH and took < 1.0,
                   f"outside address {outside} unreachable", f"{exc} after {took:.3f} s")
        finally:
            sock.close()
    names = sorted(name for _, name in socket.if_nameindex())
    report(names == ["lo"], "only loopback", f"interfaces {names}")
    print(f"{len(faults)} fault(s)")
    return 1 if faults else 0


if __name__ == "__main__":
    sys.exit(main())
