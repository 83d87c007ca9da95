"""The mock under load: concurrent creates are all answered, all stored, ids unique.

A smaller run than the 10,000-create script (`python -m benchmarks.load`), so it
stays within a few seconds; the same code path and the same verdict.
"""
from __future__ import annotations

import itertools
from typing import Any

from benchmarks.load import run

CREATES, CONCURRENCY = 2_000, 32


def test_concurrent_creates_are_all_answered_stored_and_unique() -> None:
    result = run(CREATES, CONCURRENCY)
    print(result.summary())  # the figures, for `pytest -s`
    assert result.clean, result.summary() + f"; first errors: {result.error_samples}"


def test_the_load_verdict_catches_a_store_that_loses_creates() -> None:
    """A store that silently drops every 100th runtime must fail the verdict (lost > 0)."""

    def lossy(app: Any) -> None:
        store, counter = app.state.store, itertools.count(1)
        original = store.add
        store.add = lambda runtime: None if next(counter) % 100 == 0 else original(runtime)

    result = run(300, 8, tamper=lossy)
    assert not result.clean and result.lost == 3 and result.stored == 297, result.summary()
