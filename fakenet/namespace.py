"""Make and check the world's private user + network + mount namespaces.

Two halves. Outside (the harness): `world_command` wraps the world process's
argv in util-linux `unshare`, and `enter_command` wraps a candidate's argv in
`nsenter`, so no harness process ever joins the namespace itself. Inside (the
world process, before it opens any socket): `configure` brings up loopback,
puts every world address on it, makes the watched ranges local, routes
broadcast and multicast to lo, and bind-mounts resolv.conf/hosts (and
nsswitch.conf if needed); `verify_isolated` refuses to serve unless lo is the
only interface. Nothing here ever falls back to the host network: every
failure raises NamespaceUnavailable with what failed and how to enable it.
"""

from __future__ import annotations

import contextlib
import ctypes
import ipaddress
import os
import shutil
import socket
import subprocess
from pathlib import Path

from fakenet.world import World

# Overridable so that tests can simulate a host where namespaces cannot be made.
UNSHARE_ENV = "FAKENET_UNSHARE"
NSENTER_ENV = "FAKENET_NSENTER"
IP_ENV = "FAKENET_IP"

_MS_BIND = 4096
_MS_REC = 16384
_MS_PRIVATE = 1 << 18

_HINTS = (
    "Network namespaces are made with `unshare --user --map-root-user --net --mount` "
    "(Debian package util-linux) and configured with `ip` (package iproute2). "
    "If user namespaces are disabled, enable them: "
    "`sysctl -w kernel.unprivileged_userns_clone=1` (Debian kernels), "
    "`sysctl -w user.max_user_namespaces=15000`, and on Ubuntu 24.04+ "
    "`sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`; inside a container "
    "run it with --privileged or a seccomp profile that allows unshare/setns."
)


class NamespaceUnavailable(RuntimeError):
    """The private namespace cannot be made or is not isolated; the message says how to fix it."""


def _binary(env: str, name: str, package: str) -> str:
    path = os.environ.get(env) or shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if not path:
        raise NamespaceUnavailable(
            f"the `{name}` command is missing: install the Debian package {package} "
            f"(or set {env} to its path). {_HINTS}"
        )
    return path


def _sysctl_state() -> str:
    found = []
    for key in ("kernel/unprivileged_userns_clone", "user/max_user_namespaces",
                "kernel/apparmor_restrict_unprivileged_userns"):
        try:
            value = Path("/proc/sys", key).read_text().strip()
        except OSError:
            continue
        found.append(f"{key.replace('/', '.')}={value}")
    return ", ".join(found) or "no user-namespace sysctls readable"


def world_command(argv: list[str]) -> list[str]:
    """`argv` run as root of fresh user, network and mount namespaces."""
    unshare = _binary(UNSHARE_ENV, "unshare", "util-linux")
    return [unshare, "--user", "--map-root-user", "--net", "--mount", "--", *argv]


def enter_command(pid: int, argv: list[str], cwd: str | None = None) -> list[str]:
    """`argv` run inside the namespaces of process `pid`, in directory `cwd`.

    nsenter's setns into a mount namespace resets the working directory to
    /, so the caller's directory (or `cwd`) is passed explicitly.
    """
    nsenter = _binary(NSENTER_ENV, "nsenter", "util-linux")
    where = cwd if cwd is not None else os.getcwd()
    return [nsenter, "-t", str(pid), "-U", "-n", "-m", "--preserve-credentials",
            f"--wd={where}", "--", *argv]


def unavailable(stderr: str, returncode: int | None) -> NamespaceUnavailable:
    """The error for an `unshare` that exited before the world said it was ready."""
    detail = stderr.strip() or f"exit status {returncode}"
    if "failed to execute" in detail:
        # The namespaces exist, but inside them the caller has no capability
        # over host files: the interpreter must be reachable by its own uid
        # (e.g. not under a 0700 /root reached through inherited capabilities).
        return NamespaceUnavailable(
            f"the world's namespaces were made but the world process could not start in them: "
            f"{detail}. Use a Python interpreter and project checkout readable and executable "
            f"by this user without extra capabilities."
        )
    return NamespaceUnavailable(
        f"cannot create the world's namespaces: {detail} ({_sysctl_state()}). {_HINTS}"
    )


# ---- inside the namespace -----------------------------------------------------
def _is_plain_unicast(text: str) -> bool:
    address = ipaddress.ip_address(text)
    return not (address.is_unspecified or address.is_loopback or address.is_multicast
                or text == "255.255.255.255")


def ip_batch(world: World) -> str:
    """The `ip -batch` script that gives the namespace the world's addresses and routes."""
    lines = ["link set lo up"]
    for host in world.hosts:
        for text in host.addresses:
            if _is_plain_unicast(text):
                prefix = 32 if ":" not in text else 128
                lines.append(f"addr add {text}/{prefix} dev lo")
    for net in (*world.watched.ipv4, *world.watched.ipv6):
        lines.append(f"route add local {net} dev lo")
    for text in world.watched.broadcast:
        lines.append(f"route add broadcast {text} dev lo")
    for net in world.watched.multicast:
        # IPv4: a plain route to lo, and receivers join on 127.0.0.1.
        # IPv6: a *local* route (checked on kernel 6.x: with a unicast or
        # `multicast` route the neighbour lookup on lo fails, Ip6OutNoRoutes
        # grows and nothing arrives); receivers join on lo's ifindex.
        kind = "local " if net.version == 6 else ""
        lines.append(f"route add {kind}{net} dev lo")
    return "\n".join(lines) + "\n"


def _mount(source: str | None, target: str, flags: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p,
                           ctypes.c_ulong, ctypes.c_void_p]
    if libc.mount(source.encode() if source else None, target.encode(), None, flags, None) != 0:
        err = ctypes.get_errno()
        raise NamespaceUnavailable(
            f"mount {source or '(none)'} on {target} failed: {os.strerror(err)}. {_HINTS}"
        )


def _bind_file(source: Path, target: str) -> None:
    real = os.path.realpath(target)
    if not os.path.exists(real):
        # A dangling symlink (e.g. to a resolver stub that is not running):
        # the bind needs an existing mount point.
        raise NamespaceUnavailable(
            f"cannot bind-mount over {target}: it resolves to {real}, which does not exist "
            f"(is the service that writes it, e.g. systemd-resolved, stopped?); the world "
            f"covers that file with its own and needs it to exist"
        )
    _mount(str(source), real, _MS_BIND)


def resolv_conf(world: World) -> str:
    servers = [a for h in world.hosts if "dns" in h.services for a in h.addresses]
    preferred = [a for a in servers if a in ("8.8.8.8", "2001:4860:4860::8888")] or servers[:2]
    return "".join(f"nameserver {a}\n" for a in preferred) + "options timeout:1 attempts:2\n"


def nsswitch_needs_override(text: str) -> bool:
    """True when the hosts line names a source other than files and dns (nscd, resolve, mdns)."""
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if words and words[0] == "hosts:":
            return any(w not in ("files", "dns") and not w.startswith("[") for w in words[1:])
    return False


def in_fresh_user_namespace() -> bool:
    """False in the initial user namespace, whose uid_map maps all 2**32-1 ids."""
    try:
        lines = Path("/proc/self/uid_map").read_text().split()
    except OSError:
        return False
    return lines[:3] != ["0", "0", "4294967295"]


def configure(world: World, workdir: Path) -> None:
    """Run inside fresh namespaces: addresses, routes, resolv.conf, hosts, nsswitch.

    Refuses to touch anything unless this process is in a user namespace of
    its own and sees only lo, so that a world started by hand outside
    `unshare` can never reconfigure the host.
    """
    if not in_fresh_user_namespace():
        raise NamespaceUnavailable(
            "refusing to configure the network: this process is in the host's user namespace "
            "(start worlds through fakenet.WorldHandle or `python -m fakenet up`)"
        )
    verify_isolated()
    ip = _binary(IP_ENV, "ip", "iproute2")
    done = subprocess.run([ip, "-batch", "-"], input=ip_batch(world), text=True,
                          capture_output=True, check=False)
    if done.returncode != 0:
        raise NamespaceUnavailable(
            f"configuring the namespace with `ip -batch` failed: {done.stderr.strip()}"
        )
    # Only matters for a mapped non-root user; root binds port 25 anyway.
    with contextlib.suppress(OSError):
        Path("/proc/sys/net/ipv4/ip_unprivileged_port_start").write_text("0\n")
    _mount(None, "/", _MS_REC | _MS_PRIVATE)
    etc = workdir / "etc"
    etc.mkdir(parents=True, exist_ok=True)
    (etc / "resolv.conf").write_text(resolv_conf(world))
    (etc / "hosts").write_text("127.0.0.1 localhost\n::1 localhost ip6-localhost\n")
    _bind_file(etc / "resolv.conf", "/etc/resolv.conf")
    _bind_file(etc / "hosts", "/etc/hosts")
    try:
        nsswitch = Path("/etc/nsswitch.conf").read_text()
    except OSError:
        nsswitch = ""
    if nsswitch and nsswitch_needs_override(nsswitch):
        lines = ["hosts: files dns" if line.split()[:1] == ["hosts:"] else line
                 for line in nsswitch.splitlines()]
        (etc / "nsswitch.conf").write_text("\n".join(lines) + "\n")
        _bind_file(etc / "nsswitch.conf", "/etc/nsswitch.conf")
    for nscd in ("/run/nscd", "/var/run/nscd"):
        if os.path.exists(os.path.join(nscd, "socket")):
            empty = workdir / "empty-nscd"
            empty.mkdir(exist_ok=True)
            _mount(str(empty), os.path.realpath(nscd), _MS_BIND)


def verify_isolated() -> None:
    """Refuse to serve unless loopback is the only interface this process can see.

    socket.if_nameindex() asks the kernel for the caller's network namespace;
    /sys/class/net would show the host's view through the inherited sysfs mount.
    """
    names = sorted(name for _, name in socket.if_nameindex())
    if names != ["lo"]:
        raise NamespaceUnavailable(
            f"the world's network namespace is not isolated: interfaces {names}, expected only lo"
        )
