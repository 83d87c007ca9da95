"""Every named invalid payload (strategies/invalid.py) gets a client error: never a 2xx, never a 5xx.

The checks judge the answer: `negative_data` fails a 2xx for invalid input,
`status_code` a 5xx; the label carries the case id, the pointer it breaks
and why, so a failure reads `[missing:/spaceId: 'spaceId' is required ...]`.
"""
from __future__ import annotations

import pytest

from contracts import Contract
from harness.conformance import Conformance
from harness.plugin.keys import contract_of
from strategies import InvalidCase, invalid_payloads

_ID_SPACE = "00000000-0000-4000-8000-000000000000"
_built: dict[tuple[int, str, str], dict[str, InvalidCase]] = {}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.function.__name__ == "test_rejects_invalid":
        ids = [case.id for case in invalid_payloads(contract_of(metafunc.config), space_id=_ID_SPACE)]
        metafunc.parametrize("case_id", ids, ids=ids)


def test_rejects_invalid(conformance: Conformance, contract: Contract, space_id: str, name_prefix: str,
                         case_id: str) -> None:
    key = (id(contract), space_id, name_prefix)
    if key not in _built:
        _built[key] = {c.id: c for c in invalid_payloads(contract, space_id=space_id, name_prefix=name_prefix)}
    case = _built[key][case_id]
    exchange = conformance.create(case.payload, intent="invalid", label=f"{case.label} (breaks {case.pointer or 'the body'})")
    # The checks above already failed a 2xx or 5xx; anything else that is not a 4xx is odd enough to stop here.
    assert exchange.status is not None and 400 <= exchange.status < 500, (
        f"invalid payload {case.id} ({case.reason}) got {exchange.status}, expected a 4xx")
