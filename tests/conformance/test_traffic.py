"""Recorded traffic (`pytest --traffic=PATH`): every exchange of the contract's path in a HAR recording, judged by
every check of the registry with the same severities, nothing sent (harness/plugin/traffic.py)."""
from __future__ import annotations

import pytest

from harness.plugin.context import RunContext
from harness.traffic import RecordedExchange
from harness.verdict import judge


def test_recorded_exchange(recorded: RecordedExchange, run: RunContext) -> None:
    outcome = run.traffic_judge.judge_recorded(recorded)
    if outcome.verdict is None:
        pytest.skip(outcome.reason)  # "not judged: ..." (harness/traffic/judging.py)
    verdict = outcome.verdict
    judge(verdict.exchange, verdict.findings, verdict.record, known=verdict.known,
          strict_warnings=run.strict_warnings)
