"""Every request enum value, every oneOf branch, every optional field and every pair of config values,
on every run: the covering set (strategies/covering.py), each payload by its readable id.

Each payload must get a 200 with a schema-valid body (every check runs on every answer).
"""
from __future__ import annotations

import pytest

from contracts import Contract
from harness.conformance import Conformance
from harness.plugin.keys import contract_of
from strategies import CoveringCase, classify, covering_set

# Ids do not depend on the space; the payloads are rebuilt with the real one in the test.
_ID_SPACE = "00000000-0000-4000-8000-000000000000"
_GROUPS = {
    "test_accepts_every_enum_value": "enum",
    "test_accepts_every_variant": "variant",
    "test_accepts_optional_fields": "fields",
    "test_accepts_every_pair": "pairwise",
}
_built: dict[tuple[int, str, str, str | None], dict[str, CoveringCase]] = {}


def _cases(contract: Contract, space_id: str, name_prefix: str = "", proxy: str | None = None) -> dict[str, CoveringCase]:
    """The covering set by id, built once per (contract, space, prefix, saved proxy)."""
    key = (id(contract), space_id, name_prefix, proxy)
    if key not in _built:
        _built[key] = {c.id: c for c in covering_set(contract, space_id=space_id, name_prefix=name_prefix,
                                                     saved_proxy_id=proxy)}
    return _built[key]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    group = _GROUPS.get(metafunc.function.__name__)
    if group is not None:
        contract = contract_of(metafunc.config)
        ids = [case.id for case in _cases(contract, _ID_SPACE).values() if case.group == group]
        metafunc.parametrize("case_id", ids, ids=ids)


def saved_proxy_id(request: pytest.FixtureRequest) -> str | None:
    """A saved proxy that exists on the target, if the run names one (a `saved_proxy_id` fixture)."""
    try:
        return request.getfixturevalue("saved_proxy_id")
    except pytest.FixtureLookupError:
        return None  # an example uuid: fine for the mock, a real server may answer 4xx for it


def _send(conformance: Conformance, contract: Contract, space_id: str, name_prefix: str, case_id: str,
          request: pytest.FixtureRequest) -> None:
    case = _cases(contract, space_id, name_prefix, saved_proxy_id(request))[case_id]
    verdict = classify(case.payload, contract)  # covering payloads are ordinary; a selftest holds us to it
    conformance.create(case.payload, intent=verdict.intent, label=verdict.label(case.id))


def test_accepts_every_enum_value(conformance: Conformance, contract: Contract, space_id: str, name_prefix: str,
                                  case_id: str, request: pytest.FixtureRequest) -> None:
    """One request enum value alone on a minimal body: a failure here names the value."""
    _send(conformance, contract, space_id, name_prefix, case_id, request)


def test_accepts_every_variant(conformance: Conformance, contract: Contract, space_id: str, name_prefix: str,
                               case_id: str, request: pytest.FixtureRequest) -> None:
    """One oneOf branch (absent and null included), with all its optional fields or none."""
    _send(conformance, contract, space_id, name_prefix, case_id, request)


def test_accepts_optional_fields(conformance: Conformance, contract: Contract, space_id: str, name_prefix: str,
                                 case_id: str, request: pytest.FixtureRequest) -> None:
    """Every optional field present, none, or only the optional objects (empty)."""
    _send(conformance, contract, space_id, name_prefix, case_id, request)


def test_accepts_every_pair(conformance: Conformance, contract: Contract, space_id: str, name_prefix: str,
                            case_id: str, request: pytest.FixtureRequest) -> None:
    """A pairwise row: passing single values but failing here points at an interaction."""
    _send(conformance, contract, space_id, name_prefix, case_id, request)
