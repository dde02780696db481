"""The command line: `python -m conformance run|list|candidates|diff|compare`.

`run` is pytest over the catalogue with the conformance plugin; every pytest
option after the known ones passes through (`-n 2`, `-k`, `-x`, ...).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from conformance import catalogue, preflight, registry, shards


def cases_dir() -> Path:
    """The registered catalogue's folder (conformance.catalogue)."""
    return catalogue.registered().directory


def _plugin_args() -> list[str]:
    return ["-p", "conformance.plugin"]


def _isolation_args(path: str) -> list[str]:
    """The catalogue is its own pytest root: no ini file or conftest of the
    working directory's project applies, and node ids do not depend on it."""
    root = Path(path).resolve()
    return ["--rootdir", str(root if root.is_dir() else root.parent), "-c", os.devnull]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m conformance",
                                     description="Conformance suite for sandboxes implementing "
                                                 "App Engine's outbound socket policy.")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the catalogue against a candidate",
                         epilog="Other arguments are passed to pytest (e.g. -n 2, -k NAME, -x).")
    run.add_argument("--candidate", help="registered candidate (see `candidates`)")
    run.add_argument("--adapter", metavar="MODULE:CLASS", help="an Adapter class by import path")
    run.add_argument("--profile", help="candidate profile")
    run.add_argument("--strict", action="store_true", help="NON-STRICT fails the run")
    run.add_argument("--clause", action="append", default=[], metavar="ID",
                     help="only this clause (DST-1) or family (DST); repeatable")
    run.add_argument("--report", metavar="DIR", help="write results and reports to DIR")
    run.add_argument("--baseline", metavar="FILE", help="compare with this baseline")
    run.add_argument("--update-baseline", action="store_true",
                     help="write this run's results as the baseline")
    run.add_argument("--world", metavar="FILE", help="world file for the fake internet")
    run.add_argument("--cases", metavar="PATH", help="catalogue to run (default: cases/)")
    run.add_argument("--shard", metavar="K/N",
                     help="run only part K of N of the catalogue (for a CI matrix; "
                          "join the parts with `merge`)")
    # for the harness's own tests: "module:function" returning a world stand-in
    run.add_argument("--conformance-world", help=argparse.SUPPRESS)

    lst = sub.add_parser("list", help="list the catalogue's cases")
    lst.add_argument("--clauses", action="store_true",
                     help="per clause: its level(s) and number of cases")
    lst.add_argument("--cases", metavar="PATH", help="catalogue to list (default: cases/)")
    lst.add_argument("--entry-points", action="store_true",
                     help="the entry-point table: entry points x blocked operations, "
                          "cases per cell, and why each empty cell is empty")

    sub.add_parser("candidates", help="list registered candidates")

    merge = sub.add_parser("merge", help="join the results of `run --shard K/N` into one run")
    merge.add_argument("dirs", nargs="+", metavar="DIR", help="a shard's --report directory")
    merge.add_argument("--report", metavar="DIR", required=True,
                       help="write the merged results and reports to DIR")
    merge.add_argument("--baseline", metavar="FILE", help="compare the merged run with FILE")

    diff = sub.add_parser("diff", help="compare two results files (or a baseline and a run)",
                          add_help=False)
    diff.add_argument("rest", nargs=argparse.REMAINDER)

    compare = sub.add_parser("compare", help="candidates side by side (HTML and Markdown page)",
                             add_help=False)
    compare.add_argument("rest", nargs=argparse.REMAINDER)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except catalogue.CatalogueNotFound as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["diff"]:
        return _diff(args_list[1:])
    if args_list[:1] == ["compare"]:
        side_by_side = importlib.import_module("conformance.reporting.side_by_side")
        return int(side_by_side.main(args_list[1:]))
    parser = build_parser()
    args, rest = parser.parse_known_args(args_list)
    if args.command != "run" and rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if args.command == "run":
        return cmd_run(args, rest)
    if args.command == "list":
        return cmd_list(args)
    if args.command == "candidates":
        return cmd_candidates()
    if args.command == "merge":
        from conformance import merge
        return merge.main(args.dirs, Path(args.report),
                          Path(args.baseline) if args.baseline else None)
    return 2


def _diff(argv: list[str]) -> int:
    diff = importlib.import_module("conformance.reporting.diff")
    return int(diff.main(argv))


def cmd_run(args: argparse.Namespace, rest: list[str]) -> int:
    import pytest
    try:   # a wrong setup is refused here, in one line, before any case runs
        shard = shards.Shard.parse(args.shard) if args.shard else None
        if shard is not None:
            shards.check_available()
            if args.update_baseline:
                raise shards.ShardError("--update-baseline with --shard would write a "
                                        "baseline of part of the catalogue: run it unsharded")
        preflight.check(preflight.Setup(
            candidate=args.candidate, adapter=args.adapter, profile=args.profile,
            world=args.world, report=args.report,
            world_factory=registry.load_callable(args.conformance_world)
            if args.conformance_world else None))
    except preflight.SetupError as exc:
        print(exc.render(), file=sys.stderr)
        return 2
    except (shards.ShardError, LookupError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    where = args.cases or str(cases_dir())
    # no hypothesis plugin: no case uses it, and importing it costs each worker ~0.5 s
    pytest_args = [where, *_isolation_args(where), *_plugin_args(), "-p", "no:cacheprovider",
                   "-p", "no:hypothesispytest"]
    for option, value in (("--candidate", args.candidate), ("--adapter", args.adapter),
                          ("--profile", args.profile), ("--report", args.report),
                          ("--baseline", args.baseline), ("--world", args.world),
                          ("--conformance-world", args.conformance_world)):
        if value:
            pytest_args += [option, value]
    for clause in args.clause:
        pytest_args += ["--clause", clause]
    if args.strict:
        pytest_args.append("--conformance-strict")
    if args.update_baseline:
        pytest_args.append("--update-baseline")
    if shard is not None:
        pytest_args += shard.pytest_args(cases_dir())
    code = int(pytest.main(pytest_args + _console_args(rest) + rest))
    if shard is not None and args.report:
        shard.write_marker(Path(args.report))
    return code


def _console_args(rest: list[str]) -> list[str]:
    """A readable run (conformance.console): no percentages after rows of
    letters and, unless -v or --tb asks for them, no failure blocks (the
    roll-up by clause and the reports hold them)."""
    args = ["-o", "console_output_style=classic"]
    if not any(a.startswith("-r") for a in rest):
        args.append("-rN")   # no line per failed case either; -rA brings them back
    asked = any(a.startswith(("--tb", "-v", "--verbose")) for a in rest)
    return args if asked else [*args, "--tb=no"]


class _Collector:
    """Collects (case id, clause id, level) without running anything."""

    def __init__(self) -> None:
        self.cases: list[tuple[str, str, str]] = []

    def pytest_collection_finish(self, session: Any) -> None:
        for item in session.items:
            marker = item.get_closest_marker("clause")
            if marker is not None:
                clause_id = str(marker.args[0]) if marker.args else "?"
                level = str(marker.args[1]).upper() if len(marker.args) > 1 else "?"
                self.cases.append((catalogue.case_id(item, catalogue.registered_directory()),
                                   clause_id, level))


def collect_cases(path: str | None = None) -> tuple[int, list[tuple[str, str, str]], str]:
    import pytest
    collector = _Collector()
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        where = path or str(cases_dir())
        code = pytest.main([where, *_isolation_args(where), "--collect-only", "-q",
                            "-p", "no:cacheprovider", *_plugin_args()], plugins=[collector])
    return int(code), collector.cases, buffer.getvalue()


def cmd_list(args: argparse.Namespace) -> int:
    if args.entry_points:
        found = catalogue.registered().print_entry_points
        if found is None:
            print("error: the catalogue has no entry-point table", file=sys.stderr)
            return 2
        return found()
    code, cases, output = collect_cases(args.cases)
    if code not in (0, 5):
        print(output, file=sys.stderr)
        print(f"error: collecting the catalogue failed (pytest exit {code})", file=sys.stderr)
        return 2
    if not args.clauses:
        for nodeid, clause_id, level in cases:
            print(f"{clause_id:<8} {level:<7} {nodeid}")
        print(f"{len(cases)} cases")
        return 0
    clauses = catalogue.registered().load_clauses()
    counts: dict[tuple[str, str], int] = {}
    for _, clause_id, level in cases:
        counts[(clause_id, level)] = counts.get((clause_id, level), 0) + 1
    for clause in clauses.values():
        parts = [f"{lv.value} {counts.get((clause.id, lv.value), 0)}" for lv in clause.levels]
        total = sum(counts.get((clause.id, lv.value), 0) for lv in clause.levels)
        print(f"{clause.id:<8} {total:>4} cases  ({', '.join(parts)})")
    unknown = sorted({c for _, c, _ in cases if c not in clauses})
    if unknown:
        print(f"cases naming unknown clauses: {', '.join(unknown)}", file=sys.stderr)
        return 1
    return 0


def cmd_candidates() -> int:
    for name, entry in sorted(registry.available().items()):
        try:
            adapter = registry.load_class(entry.target)()
            info = adapter.info()
            about = f"{info.name} {info.version}" + (f": {info.description}"
                                                     if info.description else "")
        except Exception as exc:
            about = f"unavailable ({type(exc).__name__}: {exc})"
        print(f"{name:<14} {entry.target:<48} [{entry.origin}] {about}")
    return 0
