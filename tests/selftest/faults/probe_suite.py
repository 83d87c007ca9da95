"""A stand-in conformance module for fault runs; run by path, never collected by the selftests.

Twelve independent creates through the `conformance` fixture, so how a run
reacts to a target that dies part-way does not depend on how many tests
tests/conformance holds today, or in which order they run.
"""
from __future__ import annotations

import pytest

from contracts import Contract
from harness.conformance import Conformance
from strategies import minimal_payload

PROBES = 12


@pytest.mark.parametrize("number", range(PROBES))
def test_probe_create(number: int, conformance: Conformance, contract: Contract, space_id: str) -> None:
    conformance.create(minimal_payload(contract.request_schema, spaceId=space_id), label=f"probe-{number}")
