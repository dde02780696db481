"""The resident catalogue's run order: an order, never a filter."""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks.strength import resident


class FakeItem:
    def __init__(self, case: str) -> None:
        self.case = case


def test_ordered_moves_earlier_killers_first_and_keeps_every_case(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(resident.conformance_plugin, "case_id", lambda item: item.case)
    items: list[Any] = [FakeItem(c) for c in ("a", "b", "c", "d")]
    order = resident.ordered(items, ["d", "x", "b"])
    assert [i.case for i in order] == ["d", "b", "a", "c"]
    assert [i.case for i in resident.ordered(items, [])] == ["a", "b", "c", "d"]
