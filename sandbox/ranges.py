"""Google's and Compute Engine's IP ranges: dated data files and the command that rebuilds them.

The policy needs "Google's ranges minus its cloud customer ranges" (DST-5,
GCE-1). Google publishes both lists as JSON (goog.json and cloud.json, each
with `syncToken`, `creationTime` and `prefixes` of `ipv4Prefix`/`ipv6Prefix`).
This module keeps the result in `sandbox/data/` with its provenance, and

    python -m sandbox.ranges refresh --goog goog.json --cloud cloud.json

rebuilds the files from copies a user supplies (the sandbox never downloads).
"""

from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .policy import RangeSet

DATA_DIR = Path(__file__).with_name("data")
GOOGLE_FILE = DATA_DIR / "google-ranges.json"
CLOUD_FILE = DATA_DIR / "cloud-ranges.json"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class RangeFileError(Exception):
    """A ranges file is missing, not JSON, or not in the published format."""


@dataclass(frozen=True)
class RangeTable:
    """One data file: its networks and where they came from."""

    source: str
    date: str
    note: str
    networks: tuple[str, ...]

    def range_set(self) -> RangeSet:
        return RangeSet.from_cidrs(self.networks)


def load(path: Path) -> RangeTable:
    try:
        doc = json.loads(path.read_text())
        prov = doc["provenance"]
        return RangeTable(prov["source"], prov["date"], prov.get("note", ""),
                          tuple(doc["ipv4"]) + tuple(doc["ipv6"]))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RangeFileError(f"{path}: not a sandbox ranges file ({exc})") from exc


def load_google() -> RangeTable:
    return load(GOOGLE_FILE)


def load_cloud() -> RangeTable:
    return load(CLOUD_FILE)


def read_published(path: Path) -> tuple[dict[str, str], list[Network]]:
    """Parse a goog.json/cloud.json file as Google publishes it."""
    try:
        doc = json.loads(Path(path).read_text())
        nets: list[Network] = []
        for entry in doc["prefixes"]:
            cidr = entry.get("ipv4Prefix") or entry.get("ipv6Prefix")
            if cidr is None:
                raise KeyError("ipv4Prefix/ipv6Prefix")
            nets.append(ipaddress.ip_network(cidr))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise RangeFileError(f"{path}: not a published ranges file ({exc})") from exc
    meta = {"syncToken": str(doc.get("syncToken", "")),
            "creationTime": str(doc.get("creationTime", ""))}
    return meta, nets


def subtract(minuend: Iterable[Network], subtrahend: Iterable[Network]) -> list[Network]:
    """Every address of `minuend` not in `subtrahend`, as collapsed networks."""
    result: list[Network] = []
    cut = list(subtrahend)
    for net in minuend:
        pieces = [net]
        for other in cut:
            if other.version != net.version:
                continue
            nxt: list[Network] = []
            for piece in pieces:
                if piece.subnet_of(other):  # type: ignore[arg-type]
                    continue
                if other.subnet_of(piece):  # type: ignore[arg-type]
                    nxt.extend(piece.address_exclude(other))  # type: ignore[arg-type]
                else:
                    nxt.append(piece)
            pieces = nxt
        result.extend(pieces)
    return collapse(result)


def collapse(nets: Iterable[Network]) -> list[Network]:
    """The fewest networks covering `nets`, IPv4 first."""
    nets = list(nets)
    v4 = ipaddress.collapse_addresses(n for n in nets if n.version == 4)
    v6 = ipaddress.collapse_addresses(n for n in nets if n.version == 6)
    return [*v4, *v6]


def _write(path: Path, source: str, date: str, note: str, nets: Sequence[Network]) -> None:
    doc = {
        "provenance": {"source": source, "date": date, "note": note},
        "ipv4": [str(n) for n in nets if n.version == 4],
        "ipv6": [str(n) for n in nets if n.version == 6],
    }
    path.write_text(json.dumps(doc, indent=1) + "\n")


def refresh(goog: Path, cloud: Path, out_dir: Path = DATA_DIR, note: str = "") -> None:
    """Rebuild both data files: Google = goog minus cloud; Compute Engine = cloud."""
    goog_meta, goog_nets = read_published(goog)
    cloud_meta, cloud_nets = read_published(cloud)
    today = dt.date.today().isoformat()
    _write(out_dir / GOOGLE_FILE.name,
           f"https://www.gstatic.com/ipranges/goog.json (syncToken {goog_meta['syncToken']}, "
           f"created {goog_meta['creationTime']}) minus cloud.json", today,
           note or f"refreshed from {goog.name} and {cloud.name}",
           subtract(goog_nets, cloud_nets))
    _write(out_dir / CLOUD_FILE.name,
           f"https://www.gstatic.com/ipranges/cloud.json (syncToken {cloud_meta['syncToken']}, "
           f"created {cloud_meta['creationTime']})", today,
           note or f"refreshed from {cloud.name}", collapse(cloud_nets))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.ranges", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    ref = sub.add_parser("refresh", help="rebuild the data files from goog.json and cloud.json")
    ref.add_argument("--goog", type=Path, required=True, help="Google's goog.json")
    ref.add_argument("--cloud", type=Path, required=True, help="Google's cloud.json")
    ref.add_argument("--out", type=Path, default=DATA_DIR, help="output directory")
    ref.add_argument("--note", default="", help="provenance note to record")
    show = sub.add_parser("show", help="print the provenance of the data files")
    show.add_argument("--dir", type=Path, default=DATA_DIR)
    args = parser.parse_args(argv)
    try:
        if args.command == "refresh":
            refresh(args.goog, args.cloud, args.out, args.note)
            print(f"wrote {args.out / GOOGLE_FILE.name} and {args.out / CLOUD_FILE.name}")
        else:
            for name in (GOOGLE_FILE.name, CLOUD_FILE.name):
                t = load(args.dir / name)
                print(f"{name}: {len(t.networks)} networks, {t.date}, {t.source}\n  {t.note}")
    except RangeFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
