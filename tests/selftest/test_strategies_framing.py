"""Framing cases: data only (no key in them), each body a valid payload, and the reference mock
accepts every accept case and refuses every refuse case with a 4xx.
"""
from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from contracts import Contract
from strategies import classify, framing_cases
from tests.selftest.conftest import SELFTEST_KEY

SPACE = "3f0c9a52-7d1e-4c1b-9a55-2b7f0e6d1c88"
PREFIX = "conformance-selftest-"


@pytest.fixture(scope="module")
def cases(loaded_contract: Contract) -> dict[str, Any]:
    return {c.id: c for c in framing_cases(loaded_contract, space_id=SPACE, name_prefix=PREFIX)}


def test_cases_are_data_with_placeholders_and_valid_bodies(loaded_contract: Contract, cases: dict[str, Any],
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    validator = loaded_contract.request_validator()
    for case in cases.values():
        assert case.id.startswith("framing:") and case.expect in ("accept", "refuse") and case.why
        text = json.dumps(dict(case.headers)) + case.query
        assert SELFTEST_KEY not in text and "{key" in text, case.id
        headers, query = case.render(SELFTEST_KEY)
        assert SELFTEST_KEY in json.dumps(headers) + query or "Basic" in json.dumps(headers)
        body = json.loads(case.body.decode("utf-8"))
        assert body == case.payload and validator.is_valid(body), case.id
        assert classify(body, loaded_contract).kind == "ordinary", case.id
        assert body["name"].startswith(PREFIX)
    accept = sum(c.expect == "accept" for c in cases.values())
    with capsys.disabled():
        print(f"\nframing cases: {accept} accept, {len(cases) - accept} refuse")


def test_the_forms_the_rfcs_name_are_there(cases: dict[str, Any]) -> None:
    accepted = [c for c in cases.values() if c.expect == "accept"]
    content_types = {v for c in accepted for k, v in c.headers.items() if k.lower() == "content-type"}
    assert {"application/json; charset=utf-8", "Application/JSON", "application/json;charset=UTF-8",
            "application/json ; charset=utf-8"} <= content_types
    names = {k for c in accepted for k in c.headers}
    assert {"content-type", "CONTENT-TYPE", "authorization"} <= names
    schemes = {v for c in accepted for k, v in c.headers.items() if k.lower() == "authorization"}
    assert {"bearer {key}", "BEARER {key}", "Bearer  {key}"} <= schemes
    bodies = {c.id.split("=", 1)[1] for c in accepted if c.id.startswith("framing:body=")}
    assert {"pretty-printed", "trailing-newline", "members-reordered"} <= bodies
    assert list(json.loads(cases["framing:body=members-reordered"].body)) == list(reversed(
        list(json.loads(cases["framing:body=trailing-newline"].body))))
    refused = [c for c in cases.values() if c.expect == "refuse"]
    # None of them carries the key as `Bearer <key>` in the Authorization header.
    for case in refused:
        auth = next((v for k, v in case.headers.items() if k.lower() == "authorization"), "")
        assert not (auth.split(" ", 1)[0].lower() == "bearer" and auth.split(" ", 1)[1:] == ["{key}"]), case.id
    assert any(c.query and "{key}" in c.query and not any(k.lower() == "authorization" for k in c.headers)
               for c in refused)
    assert any("X-Api-Key" in c.headers for c in refused)


def test_the_reference_mock_accepts_and_refuses_as_expected(cases: dict[str, Any], runtimes_url: str) -> None:
    wrong = []
    with requests.Session() as session:
        for case in cases.values():
            headers, query = case.render(SELFTEST_KEY)
            answer = session.post(runtimes_url + (f"?{query}" if query else ""), data=case.body, headers=headers,
                                  timeout=10)
            ok = answer.status_code == 200 if case.expect == "accept" else 400 <= answer.status_code < 500
            if not ok:
                wrong.append(f"{case.id}: {answer.status_code}")
            elif case.expect == "accept":
                assert answer.json()["name"] == case.payload["name"], case.id
    assert wrong == []
