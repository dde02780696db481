"""Near-miss candidates for DST-8: each judges the destination of a by-name call,
but not on the answer it then uses. Every rebinding case must fail against at
least one of them or against `native` (tests/catalogue/test_rebinding_can_fail.py);
a case none of them fails could not tell a rebinding-safe sandbox from these.
"""

from __future__ import annotations

from pathlib import Path

from tests.catalogue.near_miss import NearMissAdapter


class _Rebinder(NearMissAdapter):
    folder = Path(__file__).parent


class ResolveAgainAdapter(_Rebinder):
    bootstrap = "rebinders_boot:resolve_again"
    summary = "judges the name's first answer, then lets the call resolve it again"


class JudgeTwiceAdapter(_Rebinder):
    bootstrap = "rebinders_boot:judge_twice"
    summary = "judges two resolutions of the name, then lets the call resolve a third time"


class CachedAnswerAdapter(_Rebinder):
    bootstrap = "rebinders_boot:cached_answer"
    summary = "judges a fresh resolution but connects to the name's first answer, cached"
