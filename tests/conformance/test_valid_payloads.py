"""Any valid body, weighted toward the edges (strategies/valid.py), classified by strategies/domains.yaml.

Ordinary payloads must get a 200 (a 4xx is valid input rejected); extreme
ones a 200 or a clean 4xx (a warning); a 5xx fails either. The number of
examples follows the Hypothesis profile (`--hypothesis-profile dev|ci|nightly`);
`--hypothesis-seed N` replays a run; a failure is shrunk and its payload printed.
"""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts import Contract
from harness.conformance import Conformance
from strategies import classify, runtime_payloads
from tests.conformance.test_covering_set import saved_proxy_id

_strategies: dict[tuple[int, str, str, str | None], st.SearchStrategy] = {}


def _payloads(contract: Contract, space_id: str, name_prefix: str, saved_proxy_id: str | None) -> st.SearchStrategy:
    key = (id(contract), space_id, name_prefix, saved_proxy_id)
    if key not in _strategies:
        _strategies[key] = runtime_payloads(contract, space_id=space_id, name_prefix=name_prefix,
                                            saved_proxy_id=saved_proxy_id)
    return _strategies[key]


@given(data=st.data())
def test_accepts_valid_payloads(data: st.DataObject, conformance: Conformance, space_id: str, name_prefix: str,
                                request: pytest.FixtureRequest) -> None:
    # The contract comes from `conformance`, not a fixture argument: Hypothesis prints every
    # argument of a failing example, and the contract's repr runs to tens of kB.
    contract = conformance.contract
    strategy = _payloads(contract, space_id, name_prefix, saved_proxy_id(request))
    payload = data.draw(strategy, label="payload")
    verdict = classify(payload, contract)
    conformance.create(payload, intent=verdict.intent, label=verdict.label("generated"))
