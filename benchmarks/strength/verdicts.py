"""The hand-written verdicts on survivors (verdicts.toml): equivalent (why no
behaviour can change), unspecified (what changes, and why no clause fixes it),
open (a gap in the catalogue, with its clause) or killed since (the case); and on
a kill by NON-STRICT alone, should-level (why the code's only effect is SHOULD-level
behaviour: only such a kill counts, CLAUSES.md's MUST cases would have to see the rest)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

VERDICTS_FILE = Path(__file__).with_name("verdicts.toml")
KINDS = {"equivalent": "why", "unspecified": "why", "open": "clause", "killed-since": "case",
         "should-level": "why"}


@dataclass(frozen=True)
class Verdict:
    key: str
    kind: str       # equivalent | unspecified | open | killed-since | should-level
    note: str       # why it is equivalent, the clause of the gap, or the killing case

    def describe(self) -> str:
        return {"equivalent": "equivalent: ", "unspecified": "unspecified (no clause fixes "
                "this behaviour; not killed): ", "open": "open, clause ",
                "killed-since": "killed since by ",
                "should-level": "SHOULD-level code: "}[self.kind] + self.note


class VerdictFileError(ValueError):
    """verdicts.toml has an entry without a known verdict or its field."""


def load_verdicts(path: Path = VERDICTS_FILE) -> dict[str, Verdict]:
    if not path.exists():
        return {}
    out: dict[str, Verdict] = {}
    for i, entry in enumerate(tomllib.loads(path.read_text()).get("survivor", [])):
        kind = entry.get("verdict")
        if kind not in KINDS or not entry.get("key") or not entry.get(KINDS[kind]):
            raise VerdictFileError(f"{path}: survivor #{i + 1} needs key, a verdict among "
                                   f"{sorted(KINDS)} and its field ({entry!r})")
        if entry["key"] in out:
            raise VerdictFileError(f"{path}: survivor #{i + 1}: a second verdict on "
                                   f"{entry['key']}")
        out[entry["key"]] = Verdict(entry["key"], kind, str(entry[KINDS[kind]]))
    return out
