"""The destination truth table, rebuilt from the evidence of matrix cases.

Cases of the destination matrices (DST, EXC, GCE, P25, FTP-2) put one entry
`{"matrix": {"destination", "port", "proto", "expected", "observed"}}` into
their evidence. Rows are world destinations, columns are (port, proto); a
cell is wrong when observed differs from expected. The table is derived
from results only, so it can be drawn for any results file, old or new.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from conformance.model import CaseResult, Outcome

MATRIX_KEY = "matrix"
MATRIX_FIELDS = ("destination", "port", "proto", "expected", "observed")

Column = tuple[str, str]  # (port as text, proto)

# Observed cells that satisfy an expected one: an input the socket module rejects as
# invalid never reached the blocked address either (DST-7; conformance.verdict).
AGREES = {"blocked": ("blocked", "rejected")}


@dataclass(frozen=True)
class Cell:
    """One case's expected and observed verdict for one destination, port and protocol."""

    destination: str
    port: str
    proto: str
    expected: str
    observed: str
    case_id: str
    outcome: Outcome

    @property
    def wrong(self) -> bool:
        return _norm(self.observed) not in AGREES.get(_norm(self.expected),
                                                     (_norm(self.expected),))


@dataclass(frozen=True)
class TruthTable:
    destinations: tuple[str, ...]
    columns: tuple[Column, ...]
    cells: Mapping[tuple[str, Column], tuple[Cell, ...]]

    def at(self, destination: str, column: Column) -> tuple[Cell, ...]:
        return self.cells.get((destination, column), ())

    @property
    def wrong_cells(self) -> tuple[Cell, ...]:
        return tuple(cell for cells in self.cells.values() for cell in cells if cell.wrong)

    def __bool__(self) -> bool:
        return bool(self.cells)


def matrix_entry(entry: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The `matrix` mapping of an evidence entry when it has the agreed shape, else None."""
    value = entry.get(MATRIX_KEY)
    if not isinstance(value, Mapping):
        return None
    if not all(key in value for key in MATRIX_FIELDS):
        return None
    port = value["port"]
    if isinstance(port, bool) or not isinstance(port, (int, str)):
        return None
    if not all(isinstance(value[key], str) for key in MATRIX_FIELDS if key != "port"):
        return None
    return value


def truth_table(results: Iterable[CaseResult]) -> TruthTable:
    cells: dict[tuple[str, Column], list[Cell]] = {}
    for result in results:
        for entry in result.evidence:
            value = matrix_entry(entry)
            if value is None:
                continue
            cell = Cell(
                destination=value["destination"],
                port=str(value["port"]),
                proto=value["proto"].lower(),
                expected=value["expected"],
                observed=value["observed"],
                case_id=result.case_id,
                outcome=result.outcome,
            )
            cells.setdefault((cell.destination, (cell.port, cell.proto)), []).append(cell)
    destinations = sorted({dest for dest, _ in cells}, key=_natural)
    columns = sorted({col for _, col in cells}, key=lambda c: (c[1], _natural(c[0])))
    return TruthTable(
        tuple(destinations),
        tuple(columns),
        {key: tuple(sorted(value, key=lambda c: c.case_id)) for key, value in cells.items()},
    )


def _norm(verdict: str) -> str:
    return verdict.strip().lower()


def _natural(text: str) -> tuple[Any, ...]:
    """Sort '9' before '10' and 'host-2' before 'host-10'."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text))
