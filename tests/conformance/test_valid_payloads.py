"""Any valid body, weighted toward the edges (strategies/valid.py), classified by strategies/domains.yaml.

Ordinary payloads must get a 200 (a 4xx is valid input rejected); extreme
ones a 200 or a clean 4xx (a warning); a 5xx fails either. The number of
examples follows the Hypothesis profile (`--hypothesis-profile dev|ci|nightly`);
`--hypothesis-seed N` replays a run; a failure is shrunk and its payload printed.
Exploratory: it runs after the plan's deterministic cases and gets what is left
of the budget; on a slow target its requests are sent ahead from a dry pass of
the same seeded generator (harness/plugin/exploration.py).
"""
from __future__ import annotations

import json
from typing import Any, Callable

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from contracts import Contract
from harness.conformance import Conformance
from harness.plugin import exploration
from harness.plugin.context import RunContext
from strategies import classify, runtime_payloads

pytestmark = pytest.mark.exploratory

_strategies: dict[tuple[int, str, str, str | None], st.SearchStrategy] = {}


def _payloads(contract: Contract, space_id: str, name_prefix: str, saved_proxy_id: str | None) -> st.SearchStrategy:
    key = (id(contract), space_id, name_prefix, saved_proxy_id)
    if key not in _strategies:
        _strategies[key] = runtime_payloads(contract, space_id=space_id, name_prefix=name_prefix,
                                            saved_proxy_id=saved_proxy_id)
    return _strategies[key]


def _explore(strategy: st.SearchStrategy, body: Callable[[Any], None]) -> None:
    """One Hypothesis run over `strategy` (the profile's settings, the run's seed) calling `body(payload)`."""

    @given(payload=strategy)
    def explore(payload: Any) -> None:
        body(payload)

    explore()


def test_accepts_valid_payloads(conformance: Conformance, run: RunContext, pytestconfig: pytest.Config) -> None:
    # The contract comes from `conformance`, not a fixture argument: Hypothesis prints every
    # argument of a failing example, and the contract's repr runs to tens of kB.
    contract = conformance.contract
    strategy = _payloads(contract, run.target.space_id, run.name_prefix, run.saved_proxy_id)
    client = conformance.client
    if exploration.should_prefetch(pytestconfig, run):
        drawn: list[Any] = []
        _explore(strategy, drawn.append)  # the same seed draws the same payloads again below
        headers = {"Authorization": f"Bearer {client.api_key}", "Content-Type": "application/json"}
        exploration.send_ahead(run, client.session, [client.session.prepare_request(requests.Request(
            "POST", client.url, headers=headers, data=json.dumps(p).encode("utf-8"))) for p in drawn])

    def create(payload: Any) -> None:
        verdict = classify(payload, contract)
        conformance.create(payload, intent=verdict.intent, label=verdict.label("generated"))

    _explore(strategy, create)
    exploration.judge_leftovers(run, conformance.judge)
