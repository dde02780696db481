"""The errors report readers raise: one class per way an input file can be wrong.

Each message names the file and says what to do, because the CLI prints it
as is and exits 2; nobody should need a traceback to fix a baseline.
"""

from __future__ import annotations


class ReportingError(ValueError):
    """A results or baseline file cannot be used; the message says why and where."""


class ResultsFileError(ReportingError):
    """A results file is missing, truncated, of another schema version, or inconsistent."""


class BaselineError(ReportingError):
    """A baseline file cannot be applied to this run."""


class BaselineMissing(BaselineError):
    """The baseline file does not exist (create one with --update-baseline)."""


class BaselineCorrupt(BaselineError):
    """The baseline file is not valid JSON or not a baseline of a known format version."""


class BaselineMismatch(BaselineError):
    """The baseline belongs to another suite version, candidate, or catalogue."""
