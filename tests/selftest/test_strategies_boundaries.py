"""The boundary catalogue: every field of the request schema (read here independently of strategies/)
gets its edge values, every payload is schema-valid, classified, within the payload limit, and keeps the
run's own values (space id, name prefix, recognisable credentials) where the length allows.
"""
from __future__ import annotations

import collections
import json
import unicodedata
from typing import Any, Iterator

import pytest

from contracts import Contract
from strategies import boundary_cases, classify, load_domains
from strategies.boundaries import TECHNIQUES
from strategies.schema import resolve

SPACE = "3f0c9a52-7d1e-4c1b-9a55-2b7f0e6d1c88"
PROXY_ID = "0d5c4e2a-9b1f-4c3d-8e7a-6f5b4c3d2e1f"
PREFIX = "conformance-selftest-"
MACHINE = [2**31 - 1, 2**31, 2**53, 2**63]


@pytest.fixture(scope="module")
def cases(loaded_contract: Contract) -> dict[str, Any]:
    return {c.id: c for c in boundary_cases(loaded_contract, space_id=SPACE, name_prefix=PREFIX,
                                            saved_proxy_id=PROXY_ID)}


def _walk(node: Any, pointer: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """(pointer, schema) of every declared property and array item, every branch."""
    if not isinstance(node, dict):
        return
    for branch in node.get("oneOf", ()):
        yield from _walk(branch, pointer)
    for name, child in (node.get("properties") or {}).items():
        yield f"{pointer}/{name}", child
        yield from _walk(child, f"{pointer}/{name}")
    if isinstance(node.get("items"), dict):
        yield f"{pointer}/*", node["items"]
        yield from _walk(node["items"], f"{pointer}/*")


def _of(schema: dict[str, Any], kind: str) -> bool:
    return schema.get("type") == kind and "enum" not in schema and "const" not in schema


def test_every_payload_is_schema_valid_classified_and_within_the_payload_limit(
        loaded_contract: Contract, cases: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    validator = loaded_contract.request_validator()
    limit = load_domains().payload_max_bytes
    for case in cases.values():
        assert validator.is_valid(case.payload), (case.id, next(validator.iter_errors(case.payload)).message)
        assert case.classification == classify(case.payload, loaded_contract), case.id
        assert case.intent == ("valid" if case.classification.kind == "ordinary" else "extreme")
        assert len(json.dumps(case.payload).encode()) <= limit, case.id
        assert case.id.startswith("boundary:") and case.technique in TECHNIQUES
        if case.pointer != "/spaceId":
            assert case.payload["spaceId"] == SPACE, case.id
    counts = collections.Counter((c.technique, c.intent) for c in cases.values())
    with capsys.disabled():
        print(f"\nboundary cases: {len(cases)}; " + ", ".join(
            f"{t}: {counts[(t, 'valid')]} ordinary + {counts[(t, 'extreme')]} extreme" for t in TECHNIQUES))


def test_every_integer_field_gets_its_bounds_their_neighbours_and_the_machine_edges(
        loaded_contract: Contract, cases: dict[str, Any]) -> None:
    domains = load_domains()
    integers = [p for p, s in _walk(loaded_contract.request_schema) if _of(s, "integer")]
    assert integers
    for pointer in integers:
        rule = domains.rule(pointer, "integer")
        low, high = rule.minimum, rule.maximum
        wanted = {low - 1, low, low + 1, high - 1, high, high + 1, 0, -1, *MACHINE, *(-v for v in MACHINE)}
        got = {resolve(c.payload, pointer) for c in cases.values() if c.id.startswith(f"boundary:{pointer}=")}
        assert wanted <= got, (pointer, sorted(wanted - got))
        for value in (low, high):
            assert cases[f"boundary:{pointer}={value}"].intent == "valid"
        for value in (low - 1, high + 1, -(2**63)):
            assert cases[f"boundary:{pointer}={value}"].intent == "extreme"
    assert "boundary:/config/proxy/port=65536" in cases and "boundary:/config/proxy/port=65535" in cases


def test_every_free_string_gets_lengths_and_text_classes(loaded_contract: Contract, cases: dict[str, Any]) -> None:
    domains = load_domains()
    own = {domains.role("space_id"), domains.role("saved_proxy_id")}
    strings = [p for p, s in _walk(loaded_contract.request_schema)
               if _of(s, "string") and "format" not in s and p not in own]
    classes = [c["id"] for c in domains.edges["text_classes"]]
    assert len(strings) >= 10 and {"astral", "combining", "bidi", "nul", "controls", "surrounding-whitespace",
                                   "nfc", "nfd"} <= set(classes)
    for pointer in strings:
        rule = domains.rule(pointer, "string")
        longest = rule.max_length
        # A closed list of plausible values: only its length edges; a pattern: no character classes.
        lengths = (0, longest + 1, 60000) if rule.values is not None else (0, 1, longest, longest + 1, 4096, 60000)
        for n in lengths:
            case = cases[f"boundary:{pointer}=len:{n}"]
            assert len(resolve(case.payload, pointer.replace("*", "0"))) == n
            if n > longest:
                assert case.intent == "extreme"
        for name in classes:
            wanted = rule.values is None and rule.pattern is None
            assert (f"boundary:{pointer}=class:{name}" in cases) is wanted, (pointer, name)
    assert cases["boundary:/name=len:255"].intent == cases["boundary:/config/proxy/host=len:253"].intent == "valid"
    nfc, nfd = (cases[f"boundary:/name=class:{k}"].payload["name"].split(" ", 1)[1] for k in ("nfc", "nfd"))
    assert nfc != nfd and unicodedata.normalize("NFC", nfd) == nfc == unicodedata.normalize("NFC", nfc)
    assert cases["boundary:/name=class:bidi"].intent == "extreme"
    assert cases["boundary:/name=class:astral"].intent == "valid"


def test_the_name_keeps_the_prefix_where_it_can_and_says_so_where_it_cannot(cases: dict[str, Any]) -> None:
    for case in cases.values():
        name = case.payload.get("name")
        if case.pointer != "/name":
            assert name.startswith(PREFIX), case.id
        elif name.startswith(PREFIX):
            assert case.note == "", case.id
        else:
            assert "prefix" in case.note, case.id
    assert cases["boundary:/name=len:255"].payload["name"].startswith(PREFIX)
    assert cases["boundary:/name=len:1"].note and cases["boundary:/name=class:surrounding-whitespace"].note


def test_credentials_stay_recognisable(loaded_contract: Contract, cases: dict[str, Any]) -> None:
    domains = load_domains()
    for case in cases.values():
        for field in ("username", "password"):
            pointer = f"/config/proxy/{field}"
            value = resolve(case.payload, pointer)
            if case.pointer != pointer or not isinstance(value, str):
                continue
            prefix = domains.secret_prefix(field)
            if len(value) >= len(prefix) + 8:
                assert prefix in value, case.id
            else:
                assert "too short" in case.note, case.id


def test_arrays_free_form_objects_uuids_and_booleans(loaded_contract: Contract, cases: dict[str, Any]) -> None:
    domains = load_domains()
    for pointer, schema in _walk(loaded_contract.request_schema):
        if schema.get("type") == "array":
            most = domains.rule(pointer, "array").max_items
            for n in (0, 1, most, most + 1):
                assert len(resolve(cases[f"boundary:{pointer}=items:{n}"].payload, pointer)) == n
            items = resolve(cases[f"boundary:{pointer}=items:{most}"].payload, pointer)
            assert len(set(map(json.dumps, items))) == most  # distinct: only the count is at the edge
            assert cases[f"boundary:{pointer}=items:{most}"].intent == "valid"
            first, second = resolve(cases[f"boundary:{pointer}=duplicates"].payload, pointer)
            assert first == second
        if schema.get("type") == "object" and not schema.get("properties"):
            depth = domains.rule(pointer, "object").max_depth
            assert cases[f"boundary:{pointer}=depth:{depth}"].intent == "valid"
            assert cases[f"boundary:{pointer}=depth:{depth + 1}"].intent == "extreme"
            kinds = [resolve(c.payload, pointer)["value"] for c in cases.values()
                     if c.id.startswith(f"boundary:{pointer}=kind:")]
            for falsy in (0, False, "", None, [], {}):
                assert any(type(k) is type(falsy) and k == falsy for k in kinds), falsy
            numbers = [resolve(c.payload, pointer)["value"] for c in cases.values()
                       if c.id.startswith(f"boundary:{pointer}=number:")]
            assert 2**53 in numbers and 2**63 in numbers and 1e308 in numbers
            assert any(str(n) == "-0.0" for n in numbers)
            assert any(not k.isascii() for k in resolve(cases[f"boundary:{pointer}=keys:unicode"].payload, pointer))
        if schema.get("format") == "uuid":
            value = resolve(cases[f"boundary:{pointer}=upper-case"].payload, pointer)
            assert value == value.upper() != value.lower()
        if schema.get("type") == "boolean":
            assert resolve(cases[f"boundary:{pointer}=false"].payload, pointer) is False
    assert cases["boundary:/spaceId=upper-case"].payload["spaceId"] == SPACE.upper()
    assert cases["boundary:/config/proxy/id=upper-case"].payload["config"]["proxy"]["id"] == PROXY_ID.upper()


def test_deterministic_and_selectable(loaded_contract: Contract, cases: dict[str, Any]) -> None:
    again = boundary_cases(loaded_contract, space_id=SPACE, name_prefix=PREFIX, saved_proxy_id=PROXY_ID)
    assert [(c.id, c.payload) for c in again] == [(c.id, c.payload) for c in cases.values()]
    only = boundary_cases(loaded_contract, space_id=SPACE, techniques=("integer",))
    assert only and {c.technique for c in only} == {"integer"}
    with pytest.raises(ValueError, match="unknown boundary technique"):
        boundary_cases(loaded_contract, space_id=SPACE, techniques=("nope",))
