"""The loader reads everything from the document: catalogs, schemas, checksum, errors."""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from contracts import DEFAULT_CONTRACT, Contract, ContractError, load_contract


def _nodes(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        yield value
        for child in value.values():
            yield from _nodes(child)
    elif isinstance(value, list):
        for child in value:
            yield from _nodes(child)


def test_every_enum_in_the_document_is_in_the_catalog(loaded_contract: Contract) -> None:
    # Independent count: every `enum` keyword anywhere in the raw document.
    document = yaml.safe_load(DEFAULT_CONTRACT.read_text(encoding="utf-8"))
    enum_nodes = [n["enum"] for n in _nodes(document) if isinstance(n.get("enum"), list)]
    assert len(loaded_contract.enums) == len(enum_nodes)
    assert sorted(sum((list(e.values) for e in loaded_contract.enums), [])) == sorted(sum(enum_nodes, []))


def test_every_oneof_in_the_document_is_in_the_catalog(loaded_contract: Contract) -> None:
    document = yaml.safe_load(DEFAULT_CONTRACT.read_text(encoding="utf-8"))
    one_ofs = [n["oneOf"] for n in _nodes(document) if isinstance(n.get("oneOf"), list)]
    assert len(loaded_contract.variants) == len(one_ofs)
    # The errata remove one branch of the response config; every other branch is catalogued.
    assert sum(len(v.labels) for v in loaded_contract.variants) == sum(len(b) for b in one_ofs) - 1


def test_catalog_names_instance_pointers(loaded_contract: Contract) -> None:
    pointers = {(e.side, e.pointer) for e in loaded_contract.enums}
    assert ("request", "/config/fingerprint/locale") in pointers
    saved = [e for e in loaded_contract.enums if e.pointer == "/config/proxy/overrides/affinity/strategy"]
    assert {e.values for e in saved} == {("rotate",), ("sticky",)}
    assert all("/config/proxy=saved" in e.branches for e in saved)


def test_schemas_are_resolved(loaded_contract: Contract) -> None:
    assert "$ref" not in repr(loaded_contract.request_schema)
    assert "$ref" not in repr(loaded_contract.response_schema)


def test_sha256_is_of_the_upstream_bytes(loaded_contract: Contract) -> None:
    assert loaded_contract.sha256 == hashlib.sha256(DEFAULT_CONTRACT.read_bytes()).hexdigest()


def test_upstream_file_is_the_seed_block_byte_for_byte() -> None:
    seed = Path(__file__).resolve().parents[3] / "shared" / "seed" / "create-runtime.openapi.md"
    if not seed.exists():
        pytest.skip("shared/seed is not beside this checkout")
    text = seed.read_text(encoding="utf-8")
    start = text.index("```yaml\n") + len("```yaml\n")
    assert DEFAULT_CONTRACT.read_text(encoding="utf-8") == text[start:text.index("```", start)]


def test_a_new_enum_value_needs_no_code_change() -> None:
    document = yaml.safe_load(DEFAULT_CONTRACT.read_text(encoding="utf-8"))
    schemas = document["components"]["schemas"]
    locale = next(s for name, s in schemas.items() if name.endswith("FingerprintLocale"))
    locale["enum"].append("is-IS")
    contract = load_contract(document)
    entry = next(e for e in contract.enums if e.pointer == "/config/fingerprint/locale")
    assert "is-IS" in entry.values


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("openapi: [unclosed", "not valid YAML"),
        ("title: not openapi", "not an OpenAPI 3.x document"),
        ("openapi: 3.1.0\npaths: {}", "has no 'POST /v2/runtimes' operation"),
    ],
)
def test_bad_contracts_give_one_readable_error(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "contract.yaml"
    path.write_text(text)
    with pytest.raises(ContractError, match=fragment):
        load_contract(path)


def test_missing_contract_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(ContractError, match="not found"):
        load_contract(tmp_path / "absent.yaml")
