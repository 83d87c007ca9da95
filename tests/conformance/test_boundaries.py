"""The boundary catalogue (strategies/boundaries.py): every field at its edges, one schema-valid value each.

Integers at the plausible bounds, bounds +- 1, 0, -1 and the machine edges; strings at lengths 0, 1, the
domain's max, max + 1 and far beyond, and in awkward character classes; arrays at 0, 1, max, max + 1 items
and with duplicates; free-form objects deep, of every JSON kind, with unicode keys and large numbers. An
ordinary value must be accepted (a refusal fails); an extreme one may be refused with a clean 4xx (a warning);
a 5xx fails either way.
"""
from __future__ import annotations

from harness.plugin.planning import PlannedRunner


def test_boundary_value(planned: PlannedRunner, case_id: str) -> None:
    planned.verify(case_id)
