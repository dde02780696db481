"""The results of a mutation run on disk (JSON lines under /tmp), so a stopped
run resumes where it stopped and a survivor can be run again after a case lands.

One line per judged mutant; the last line for a key wins, and the first
recorded status is kept beside it, so a mutant that survived once and is
killed now reads "killed since".
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class MutantResult:
    key: str
    module: str
    status: str
    killers: tuple[str, ...]
    detail: str
    seconds: float
    source_hash: str            # the unmutated module the mutant was made from
    diff: str
    phases: int = 1
    first_status: str = ""      # the status of its first run, when it was run again

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, line: str) -> MutantResult:
        data = json.loads(line)
        data["killers"] = tuple(data.get("killers", ()))
        return cls(**data)


@dataclass
class Session:
    path: Path
    results: dict[str, MutantResult] = field(default_factory=dict)

    @classmethod
    def open(cls, path: Path) -> Session:
        session = cls(path)
        if path.exists():
            for line in path.read_text().splitlines():
                if line.strip():
                    result = MutantResult.from_json(line)
                    session.results[result.key] = result
        return session

    def current(self, key: str, source_hash: str) -> MutantResult | None:
        """The result for this mutant of this very source, or None (a changed module
        makes its old results stale)."""
        result = self.results.get(key)
        return result if result is not None and result.source_hash == source_hash else None

    def record(self, result: MutantResult) -> MutantResult:
        previous = self.results.get(result.key)
        if previous is not None and previous.source_hash == result.source_hash:
            first = previous.first_status or previous.status
            result = MutantResult(**{**asdict(result), "first_status": first})
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a") as handle:
            handle.write(result.to_json() + "\n")
        self.results[result.key] = result
        return result
