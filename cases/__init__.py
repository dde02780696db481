"""The catalogue: the clause list, destination matrices (data) and the
spec-derived cases, each tied to one clause of CLAUSES.md and one level.

Registered as the catalogue `gae-sockets` (entry-point group
`conformance.catalogues`): the harness finds this folder and `load_clauses`
through that entry point, whatever name the package is installed under.
"""

from .clauses import load_clauses
from .never_reached import never_reached


def print_entry_points() -> int:
    """`python -m conformance list --entry-points`: the entry-point table."""
    from .entry_report import main
    return main()


__all__ = ["load_clauses", "never_reached", "print_entry_points"]
