"""The named invalid payloads: every one fails the request schema (formats checked), and the
catalog holds the kinds of mistake the issue names for every field the contract has.
"""
from __future__ import annotations

import json
from typing import Any, Iterator

import pytest

from contracts import Contract
from strategies import invalid_payloads, lax_json_bodies
from strategies.invalid import load_neighbours

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
               {"missing", "type", "enum", "discriminator", "format", "mix", "credentials", "body"}
               for case in cases.values())


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


JSON_TYPES = {"null": None, "boolean": True, "integer": 42, "number": 1.5, "string": "text", "array": [], "object": {}}


def _allowed(schema: dict[str, Any]) -> set[str]:
    if "oneOf" in schema:
        return set().union(*(_allowed(b) for b in schema["oneOf"]))
    if "enum" in schema:
        return {"string"}
    kind = schema.get("type")
    kinds = {kind} if isinstance(kind, str) else set(kind or ())
    return kinds | ({"integer"} if "number" in kinds else set())


def test_every_field_optional_ones_included_gets_every_wrong_type_and_null(loaded_contract: Contract,
                                                                           cases: dict[str, Any]) -> None:
    missing = []
    for pointer, schema, _ in _walk(loaded_contract.request_schema):
        allowed = _allowed(schema)
        if not allowed:
            continue
        for kind in set(JSON_TYPES) - allowed:
            if not any(c.id.startswith(f"type:{pointer}={kind}") for c in cases.values()):
                missing.append(f"{pointer}={kind}")
    assert missing == []
    assert cases["type:/config/stealth=null"].reason.startswith("null is not allowed here: the field is optional")
    assert "type:/config/proxy=null" not in cases  # the proxy is nullable


def test_the_neighbour_table_names_only_request_enums_of_the_contract(loaded_contract: Contract) -> None:
    pointers = {e.pointer for e in loaded_contract.enums_on("request")}
    table = load_neighbours()
    assert set(table) - pointers == set(), "strategies/neighbours.yaml names pointers the contract does not have"
    assert all(isinstance(why, str) and why for entry in table.values() for why in entry.values())


def test_each_enum_gets_its_neighbours_and_values_of_other_enums(loaded_contract: Contract, cases: dict[str, Any]) -> None:
    table = load_neighbours()
    for entry in loaded_contract.enums_on("request"):
        mine = {c.id.split("=", 1)[1].split("@")[0] for c in cases.values()
                if c.pointer == entry.pointer and c.id.split(":")[0] in ("enum", "discriminator")}
        assert set(table.get(entry.pointer, {})) - set(entry.values) <= mine, entry.pointer
        others = {v for e in loaded_contract.enums_on("request") if e.pointer != entry.pointer for v in e.values}
        cross = [c for c in cases.values() if c.pointer == entry.pointer and " is a value of " in c.reason]
        assert 1 <= len({c.id.split("=", 1)[1].split("@")[0] for c in cross}) <= 4, entry.pointer
        assert all(c.id.split("=", 1)[1].split("@")[0] in others for c in cross)
    for expected in ("discriminator:/config/proxy/mode=direct@proxy=custom", "enum:/config/stealth=low",
                     "enum:/config/fingerprint/browser=firefox", "enum:/config/fingerprint/locale=en_US",
                     "enum:/config/proxy/protocol=socks4", "enum:/config/proxy/overrides/ipFamily=ipv6-only",
                     "enum:/type=desktop"):
        assert expected in cases, expected


def test_credentials_ride_along_with_an_invalid_body(cases: dict[str, Any]) -> None:
    (case,) = [c for c in cases.values() if c.id.startswith("credentials:")]
    proxy = case.payload["config"]["proxy"]
    assert isinstance(proxy.get("password"), str) and isinstance(proxy.get("username"), str)
    assert len(proxy["password"]) >= 8 and case.pointer not in ("/config/proxy/password", "/config/proxy/username")


def _strict(body: bytes) -> Any:
    """RFC 8259 read strictly: UTF-8 only, no NaN/Infinity, no lone surrogates (independent of strategies/)."""
    def refuse(name: str) -> Any:
        raise ValueError(name)

    return json.loads(body.decode("utf-8"), parse_constant=refuse)


def test_lax_json_bodies_are_not_json_by_rfc_8259_and_each_says_why(loaded_contract: Contract,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    raw = lax_json_bodies(loaded_contract, space_id=SPACE, name_prefix=PREFIX)
    ids = [c.id for c in raw]
    assert len(ids) == len(set(ids)) >= 20
    for case in raw:
        with pytest.raises((ValueError, UnicodeDecodeError)):
            _strict(case.body)
        assert "RFC 8259" in case.reason and case.id.startswith("lax-json:")
    for expected in ("nan", "infinity", "trailing-comma-object", "block-comment", "single-quotes", "unquoted-key",
                     "leading-zero", "leading-plus", "hex-number", "raw-tab-in-string", "invalid-utf8"):
        assert f"lax-json:{expected}" in ids
    # RFC 8259 does not forbid these: they are not invalid.
    assert not any(word in i for i in ids for word in ("bom", "duplicate", "lone-surrogate"))
    # What a lax parser would read is a valid payload of the run: Python's json reads a few of them.
    lax = {c.id: json.loads(c.body) for c in raw if c.id in ("lax-json:nan", "lax-json:utf8-encoded-surrogate")}
    assert all(p["spaceId"] == SPACE and p["name"].startswith(PREFIX) for p in lax.values())
    with capsys.disabled():
        print(f"\nlax JSON bodies: {len(raw)}")
