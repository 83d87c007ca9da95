"""Creates sent at the same moment (a burst from the plan) each get a distinct id and a correct answer.

Non-atomic id generation, a shared buffer, a lost update: races show only when requests overlap. The plan's
executor releases the burst behind a barrier; each create is judged on its own (unique_ids across the run
catches an id handed out twice, the other checks a wrong answer).
"""
from __future__ import annotations

from harness.plugin.planning import PlannedRunner


def test_overlapping_creates(planned: PlannedRunner, case_id: str) -> None:
    planned.verify(case_id)
