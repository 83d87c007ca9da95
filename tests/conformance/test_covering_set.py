"""Every request enum value, every oneOf branch, every optional field and every pair of options in every scope,
on every run: the covering set (strategies/covering.py), each payload by its readable id.

Each payload must get a 200 with a schema-valid body that reflects it (every check runs on every answer).
Single-value rows that the pairwise rows already cover are collected but left out (`--all-rows` sends them);
a row that fails in a way that depends on its payload is narrowed down by follow-up requests to the smallest
failing combination of values, named in its failure.
"""
from __future__ import annotations

from harness.plugin.planning import PlannedRunner


def test_accepts_every_enum_value(planned: PlannedRunner, case_id: str) -> None:
    """One request enum value alone on a minimal body: a failure here names the value."""
    planned.verify(case_id)


def test_accepts_every_variant(planned: PlannedRunner, case_id: str) -> None:
    """One oneOf branch (absent and null included), with all its optional fields or none."""
    planned.verify(case_id)


def test_accepts_optional_fields(planned: PlannedRunner, case_id: str) -> None:
    """Every optional field present, none, or only the optional objects (empty)."""
    planned.verify(case_id)


def test_accepts_every_pair(planned: PlannedRunner, case_id: str) -> None:
    """A pairwise row of one scope: passing single values but failing here points at an interaction."""
    planned.verify(case_id)
