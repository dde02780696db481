"""Report files on disk: atomic writes, and JSON reads that fail with a clear message.

A run killed while writing must not leave a truncated results file that a
later `diff` or baseline update would choke on (or, worse, half-trust); a
file that is missing or truncated anyway is named, with what to do, in a
ReportingError the CLI prints as is.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from conformance.reporting.errors import ReportingError


def atomic_write_text(path: Path, text: str) -> None:
    """Write `text` (UTF-8) to `path` via a temporary file in the same directory."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # backslashreplace: a lone surrogate from evidence becomes a JSON-valid \uXXXX
        # escape instead of losing the whole report.
        with os.fdopen(
            fd, "w", encoding="utf-8", errors="backslashreplace", newline="\n"
        ) as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def read_json(
    path: Path,
    *,
    what: str,
    error: type[ReportingError],
    missing: type[ReportingError] | None = None,
    if_missing: str = "",
    if_corrupt: str,
) -> Any:
    """The parsed JSON of `path`. Raises `missing` (default `error`) when there is
    no such file, `error` when it cannot be read or is not JSON; `what` names the
    kind of file, `if_missing` and `if_corrupt` end the messages (what to do)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise (missing or error)(f"{path}: no such {what}{if_missing}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{path}: cannot read {what}: {exc}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(
            f"{path}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}); "
            f"{if_corrupt}"
        ) from None
