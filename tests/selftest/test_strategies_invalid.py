"""The named invalid payloads: every one fails the request schema (formats checked), and the
catalog holds the kinds of mistake the issue names for every field the contract has.
"""
from __future__ import annotations

from typing import Any, Iterator

import pytest

from contracts import Contract
from strategies import invalid_payloads

SPACE = "3f0c9a52-7d1e-4c1b-9a55-2b7f0e6d1c88"
PREFIX = "conformance-selftest-"


@pytest.fixture(scope="module")
def cases(loaded_contract: Contract) -> dict[str, Any]:
    return {c.id: c for c in invalid_payloads(loaded_contract, space_id=SPACE, name_prefix=PREFIX)}


def _walk(node: Any, pointer: str = "") -> Iterator[tuple[str, dict[str, Any], bool]]:
    """(pointer, schema, required) of every declared property, every branch (independent of strategies/)."""
    if not isinstance(node, dict):
        return
    for branch in node.get("oneOf", ()):
        yield from _walk(branch, pointer)
    required = set(node.get("required", ()))
    for name, child in (node.get("properties") or {}).items():
        yield f"{pointer}/{name}", child, name in required
        yield from _walk(child, f"{pointer}/{name}")


def test_every_case_fails_the_request_schema(loaded_contract: Contract, cases: dict[str, Any]) -> None:
    validator = loaded_contract.request_validator()
    accepted = [case_id for case_id, case in cases.items() if validator.is_valid(case.payload)]
    assert accepted == []
    assert all(case.reason and case.id.split(":", 1)[0] in
               {"missing", "type", "enum", "discriminator", "format", "mix", "body"} for case in cases.values())


def test_each_required_field_has_a_missing_case(loaded_contract: Contract, cases: dict[str, Any]) -> None:
    required = {p for p, _, req in _walk(loaded_contract.request_schema) if req}
    covered = {c.pointer for c in cases.values() if c.id.startswith("missing:")}
    assert required - covered == set()


def test_each_typed_field_has_a_wrong_type_and_bool_is_not_an_integer(loaded_contract: Contract, cases: dict[str, Any]) -> None:
    typed = {p for p, schema, _ in _walk(loaded_contract.request_schema) if "type" in schema or "oneOf" in schema}
    covered = {c.pointer for c in cases.values() if c.id.startswith("type:")}
    assert typed - covered == set()
    integers = {p for p, schema, _ in _walk(loaded_contract.request_schema) if schema.get("type") == "integer"}
    assert integers and all(any(c.id.startswith(f"type:{p}=boolean") for c in cases.values()) for p in integers)


def test_each_enum_has_a_case_variant_and_an_unknown_value(loaded_contract: Contract, cases: dict[str, Any]) -> None:
    for entry in loaded_contract.enums_on("request"):
        mine = [c for c in cases.values() if c.pointer == entry.pointer and c.id.split(":")[0] in ("enum", "discriminator")]
        wrong = {c.id.split("=", 1)[1].split("@")[0] for c in mine}
        assert any(w.lower() in {str(v).lower() for v in entry.values} for w in wrong), (entry.pointer, wrong)
        assert any(w.lower() not in {str(v).lower() for v in entry.values} for w in wrong), (entry.pointer, wrong)
    assert "enum:/config/fingerprint/browser=Chrome" in cases
    assert any(i.startswith("discriminator:/config/proxy/mode=") for i in cases)
    assert any(i.startswith("discriminator:/config/proxy/overrides/affinity/strategy=") for i in cases)


def test_each_uuid_field_has_non_uuids_and_non_objects_are_there(loaded_contract: Contract, cases: dict[str, Any]) -> None:
    uuids = {p for p, schema, _ in _walk(loaded_contract.request_schema) if schema.get("format") == "uuid"}
    assert uuids == {c.pointer for c in cases.values() if c.id.startswith("format:")}
    bodies = [c for c in cases.values() if c.id.startswith("body:")]
    assert bodies and all(not isinstance(c.payload, dict) for c in bodies)


def test_test_ids_read_like_the_catalog_and_payloads_carry_space_and_prefix(cases: dict[str, Any]) -> None:
    assert "missing:/spaceId" in cases and "type:/config/proxy/port=boolean" in cases
    for case in cases.values():
        if isinstance(case.payload, dict) and not case.pointer.startswith("/spaceId"):
            assert case.payload["spaceId"] == SPACE, case.id
        if isinstance(case.payload, dict) and isinstance(case.payload.get("name"), str):
            assert case.payload["name"].startswith(PREFIX), case.id
