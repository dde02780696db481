"""Headless Chromium for the HTML report tests, plus a tiny DOM reader.

Chromium phones home at start-up (updates, sync, QUIC probes). The flags
turn most of that off, and Chromium runs in a network namespace of its own
(no interface up, not even loopback), so no packet of it can leave: the
report is a file:// page that needs no network. Where no namespace can be
made, the test skips saying so; it never falls back to the host network.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest

NAMES = ("chromium", "chromium-browser")
NO_NETWORK = ("unshare", "--user", "--map-root-user", "--net")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def find_chromium() -> str | None:
    return next((path for name in NAMES if (path := shutil.which(name))), None)


@functools.cache
def no_network_problem() -> str | None:
    """Why Chromium cannot be started without a network, or None if it can."""
    if shutil.which(NO_NETWORK[0]) is None:
        return "unshare is not installed (Debian: util-linux)"
    try:
        done = subprocess.run([*NO_NETWORK, "true"], capture_output=True, text=True,
                              timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"`{' '.join(NO_NETWORK)} true` failed: {exc}"
    if done.returncode != 0:
        return f"`{' '.join(NO_NETWORK)} true` failed: {done.stderr.strip()[-300:]}"
    return None


def usable_chromium() -> str:
    """Chromium's path, if it can run here without a network; else the test skips,
    saying what is missing."""
    binary = find_chromium()
    if binary is None:
        pytest.skip("chromium is not installed (Debian: apt-get install -y chromium)")
    problem = no_network_problem()
    if problem is not None:
        pytest.skip(f"cannot run chromium without a network (a namespace of its own): {problem}")
    return binary


def dump_dom(page: Path, profile_dir: Path, timeout: float = 60.0) -> str:
    binary = usable_chromium()
    proc = subprocess.run(
        [*NO_NETWORK, binary, *FLAGS, f"--user-data-dir={profile_dir}",
         "--dump-dom", page.resolve().as_uri()],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert proc.returncode == 0, f"chromium failed ({proc.returncode}): {proc.stderr[-2000:]}"
    assert "<html" in proc.stdout, f"chromium printed no DOM: {proc.stderr[-2000:]}"
    return proc.stdout


VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text for c in self.children)

    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def iter(self, tag: str | None = None):
        if tag is None or self.tag == tag:
            yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.iter(tag)

    def find_all(self, tag: str | None = None, **attrs: str) -> list[Node]:
        found = []
        for node in self.iter(tag):
            if all(node.attrs.get(k.rstrip("_").replace("_", "-")) == v for k, v in attrs.items()):
                found.append(node)
        return found

    def by_id(self, ident: str) -> Node:
        found = self.find_all(id=ident)
        assert len(found) == 1, f"expected one element #{ident}, found {len(found)}"
        return found[0]


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_endtag(self, tag):
        for index in range(len(self.stack) - 1, 0, -1):
            if self.stack[index].tag == tag:
                del self.stack[index:]
                return

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def parse_dom(text: str) -> Node:
    builder = _Builder()
    builder.feed(text)
    builder.close()
    return builder.root


def screenshot(page: Path, out: Path, profile_dir: Path, *, width: int, height: int,
               timeout: float = 60.0) -> Path:
    """A PNG of `page` as Chromium renders it in a window of width x height."""
    binary = usable_chromium()
    proc = subprocess.run(
        [*NO_NETWORK, binary, *FLAGS, f"--user-data-dir={profile_dir}", "--hide-scrollbars",
         f"--window-size={width},{height}", f"--screenshot={out}", page.resolve().as_uri()],
        capture_output=True, text=True, timeout=timeout, check=False)
    assert proc.returncode == 0 and out.is_file(), (
        f"chromium took no screenshot ({proc.returncode}): {proc.stderr[-2000:]}")
    return out
