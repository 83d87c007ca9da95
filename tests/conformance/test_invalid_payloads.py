"""Every named invalid payload (strategies/invalid.py) and every lax JSON body gets a client error: never a 2xx,
never a 5xx.

The checks judge the answer: `negative_data` fails a 2xx for invalid input, `status_code` a 5xx; the label
carries the case id, the pointer it breaks and why, so a failure reads `[missing:/spaceId: 'spaceId' is
required ...]`. Which 4xx is the server's choice (400 and 422 are both fine).
"""
from __future__ import annotations

from harness.plugin.planning import PlannedRunner


def test_rejects_invalid(planned: PlannedRunner, case_id: str) -> None:
    exchange = planned.verify(case_id)
    # The checks already failed a 2xx or 5xx; anything else that is not a 4xx is odd enough to stop here.
    assert exchange.status is not None and 400 <= exchange.status < 500, (
        f"invalid payload {case_id} got {exchange.status}, expected a 4xx")


def test_rejects_lax_json(planned: PlannedRunner, case_id: str) -> None:
    """A body RFC 8259 forbids (NaN, a trailing comma, a comment ...) that a lax parser would read anyway."""
    exchange = planned.verify(case_id)
    assert exchange.status is not None and 400 <= exchange.status < 500, (
        f"lax JSON body {case_id} got {exchange.status}, expected a 4xx")
