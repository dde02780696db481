"""Project tests: the hermetic guard is on for the whole test process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests import hermetic


@pytest.fixture(autouse=True, scope="session")
def _hermetic_guard() -> Iterator[None]:
    undo = hermetic.install()
    yield
    undo()
