"""The errata overlay: each defect is real in the raw document and fixed in the patched one."""
from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from contracts import Contract, ContractError, apply_overlay, load_contract
from contracts.resolve import inline_refs


def _raw_response_validator(contract: Contract) -> Draft202012Validator:
    op = contract.raw["paths"][contract.path][contract.method]
    schema = inline_refs(op["responses"]["200"]["content"]["application/json"]["schema"], dict(contract.raw))
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _correct_response() -> dict[str, Any]:
    from mock.runtime import build_runtime

    return build_runtime({"spaceId": str(uuid.uuid4()), "type": "browser"})


def test_raw_document_rejects_a_correct_response(loaded_contract: Contract) -> None:
    errors = list(_raw_response_validator(loaded_contract).iter_errors(_correct_response()))
    assert errors and any(e.validator == "oneOf" for e in errors)


def test_patched_document_accepts_a_correct_response(loaded_contract: Contract) -> None:
    assert list(loaded_contract.response_validator().iter_errors(_correct_response())) == []


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("config", "fingerprint", "viewport", "width"), "1920"),
        (("config", "stealth"), "extreme"),
        (("config", "browser"), None),
        (("config", "lifecycle", "lastActivityAt"), "yesterday"),
    ],
    ids=["viewport-width-string", "stealth-extreme", "browser-null", "lastActivityAt-not-date-time"],
)
def test_patched_document_still_rejects_a_broken_config(loaded_contract: Contract, path: tuple[str, ...], value: Any) -> None:
    body = _correct_response()
    node = body
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    assert list(loaded_contract.response_validator().iter_errors(body)), f"{'/'.join(path)}={value!r} passed"


def test_request_body_is_required_only_after_errata(loaded_contract: Contract) -> None:
    raw_op = loaded_contract.raw["paths"][loaded_contract.path][loaded_contract.method]
    assert not raw_op["requestBody"].get("required", False)
    assert loaded_contract.operation["requestBody"]["required"] is True


def test_bearer_auth_is_applied_and_the_ignored_header_parameter_removed(loaded_contract: Contract) -> None:
    raw_op = loaded_contract.raw["paths"][loaded_contract.path][loaded_contract.method]
    assert "security" not in raw_op and "security" not in loaded_contract.raw
    assert any(p["name"] == "Authorization" for p in raw_op["parameters"])
    assert loaded_contract.operation["security"] == [{"bearerAuth": []}]
    assert not any(p["name"] == "Authorization" for p in loaded_contract.operation.get("parameters", []))


def test_errata_carry_their_reasons(loaded_contract: Contract) -> None:
    assert {e.id for e in loaded_contract.errata} >= {"response-config-oneof", "request-body-required",
                                                      "bearer-auth-not-applied", "error-responses-undocumented"}
    assert all(len(e.description) > 80 for e in loaded_contract.errata)


def test_the_upstream_document_is_not_mutated(loaded_contract: Contract) -> None:
    before = copy.deepcopy(dict(loaded_contract.raw))
    load_contract()
    assert dict(loaded_contract.raw) == before


def test_overlay_target_that_matches_nothing_is_an_error(loaded_contract: Contract) -> None:
    overlay = {"overlay": "1.0.0", "info": {}, "actions": [{"target": "$.paths['/nope']", "remove": True}]}
    with pytest.raises(ContractError, match="matches nothing"):
        apply_overlay(dict(loaded_contract.raw), overlay)


def test_overlay_update_merges(loaded_contract: Contract) -> None:
    overlay = {"overlay": "1.0.0", "info": {}, "actions": [{"target": "$.info", "update": {"x-note": "hi"}}]}
    patched, errata = apply_overlay(dict(loaded_contract.raw), overlay)
    assert patched["info"]["x-note"] == "hi" and patched["info"]["title"] == loaded_contract.title
    assert errata[0].action == "update"
