"""Each check, judged on hand-made exchanges: it fails what it must, and stays quiet on correct answers.

Correct answers come from two implementations with different defaults (the
reference mock and the independent server), so a check that silently
assumes the mock's choices fails here first.
"""
from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest

from contracts import Contract
from contracts.checks import REGISTRY, Finding, Received, SentRequest, judge_exchange, run_checks
from contracts.checks.invariants import MemoryIndex, current_index, parse_timestamp, use_index
from contracts.checks.semantics_table import load_semantics, parse, problems
from mock.runtime import build_runtime
from tests.selftest.independent_server import _runtime as independent_runtime

KEY = "checks-selftest-key-0042"
URL = "http://127.0.0.1:9/v2/runtimes"


def sent(payload: Any, *, intent: str = "valid", method: str = "POST", auth: str | None = f"Bearer {KEY}") -> SentRequest:
    headers = {"Content-Type": "application/json"} | ({"Authorization": auth} if auth is not None else {})
    if payload is None:
        return SentRequest(method, URL, headers, None, intent=intent)  # type: ignore[arg-type]
    return SentRequest.for_json(method, URL, headers, payload, intent=intent)


def received(status: int, body: Any, headers: dict[str, str] | None = None) -> Received:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Received.build(status, {"Content-Type": "application/json", **(headers or {})}, raw)


def check(contract: Contract, name: str, request: SentRequest, response: Received) -> list[Finding]:
    return list(judge_exchange(contract, request, response, [name]).findings)


def severities(findings: list[Finding]) -> list[str]:
    return [f.severity for f in findings]


def full(contract: Contract) -> dict[str, Any]:
    """Every field the reflection rules look at, with values other than the enums' first ones."""
    enums = {e.pointer: e.values for e in contract.enums_on("request")}
    return {
        "spaceId": str(uuid.uuid4()), "type": enums["/type"][0], "name": "nightly runtime",
        "metadata": {"team": "qa", "n": 1},
        "config": {
            "stealth": enums["/config/stealth"][-1],
            "fingerprint": {"browser": enums["/config/fingerprint/browser"][-1],
                            "locale": enums["/config/fingerprint/locale"][-1]},
            "lifecycle": {"idleTimeoutMinutes": 45},
            "extensions": ["aaaabbbbccccddddeeeeffffgggghhhh", "pppoooonnnnmmmmllllkkkkjjjjiiii"],
            "browser": {"profile": True},
            "proxy": {"mode": "saved", "id": str(uuid.uuid4()).upper()},
        },
    }


@pytest.fixture(autouse=True)
def _fresh_ids() -> Iterator[None]:
    before = current_index()
    use_index(MemoryIndex())
    yield
    use_index(before)


@pytest.mark.parametrize("implementation", [build_runtime, independent_runtime], ids=["mock", "independent"])
def test_correct_answers_raise_nothing(loaded_contract: Contract, implementation: Any) -> None:
    for payload in (full(loaded_contract), {"spaceId": str(uuid.uuid4()), "type": "browser"}):
        request = sent(payload)
        findings = run_checks(loaded_contract, request, received(200, implementation(copy.deepcopy(payload))))
        assert findings == [], [f.line() for f in findings]


# --- response_schema ------------------------------------------------------

def test_schema_reports_every_error_with_its_pointer(loaded_contract: Contract) -> None:
    body = build_runtime(full(loaded_contract))
    body["config"]["fingerprint"]["viewport"]["width"] = "1920"
    body["config"]["stealth"] = "extreme"
    body["config"]["lifecycle"]["lastActivityAt"] = "just now"
    body["id"] = "rt_1"
    del body["status"]
    findings = check(loaded_contract, "response_schema", sent({}), received(200, body))
    assert {f.pointer for f in findings} == {"/config/fingerprint/viewport/width", "/config/stealth",
                                             "/config/lifecycle/lastActivityAt", "/id", ""}
    assert set(severities(findings)) == {"failure"}
    width = next(f for f in findings if f.pointer.endswith("width"))
    assert width.expected == "type: 'integer'" and width.got == "'1920'"


def test_schema_names_a_value_that_fits_no_branch(loaded_contract: Contract) -> None:
    body = build_runtime({"type": "browser"})
    body["metadata"] = "a string"
    [finding] = check(loaded_contract, "response_schema", sent({}), received(200, body))
    assert finding.pointer == "/metadata" and "object" in finding.expected and "null" in finding.expected


def test_schema_judges_only_the_operations_200(loaded_contract: Contract) -> None:
    assert check(loaded_contract, "response_schema", sent({}), received(422, {"anything": 1})) == []
    assert check(loaded_contract, "response_schema", sent(None, method="GET"), received(200, [1, 2])) == []
    [finding] = check(loaded_contract, "response_schema", sent({}), received(200, b"<html>"))
    assert "not JSON" in finding.message


# --- content_type ---------------------------------------------------------

def test_content_type(loaded_contract: Contract) -> None:
    body = build_runtime({"type": "browser"})
    plain = Received.build(200, {"Content-Type": "text/plain"}, json.dumps(body).encode())
    assert severities(check(loaded_contract, "content_type", sent({}), plain)) == ["failure"]
    error = Received.build(400, {"Content-Type": "text/html"}, b'{"message": "bad"}')
    assert severities(check(loaded_contract, "content_type", sent({}), error)) == ["warning"]
    problem = Received.build(400, {"Content-Type": "application/problem+json"}, b'{"title": "bad"}')
    assert check(loaded_contract, "content_type", sent({}), problem) == []


# --- status_code, negative_data, auth, other_methods ------------------------

@pytest.mark.parametrize("intent,method,status,expected", [
    ("valid", "POST", 200, []),
    ("valid", "POST", 201, ["failure"]),            # undocumented
    ("valid", "POST", 302, ["failure"]),            # undocumented
    ("valid", "POST", 422, ["failure"]),            # valid input rejected
    ("valid", "POST", 429, ["warning"]),            # throttled: not judged
    ("valid", "POST", 500, ["failure"]),
    ("extreme", "POST", 422, ["warning"]),
    ("extreme", "POST", 503, ["failure"]),
    ("invalid", "POST", 400, []),
    ("invalid", "POST", 422, []),
    ("invalid", "POST", 500, ["failure"]),
    ("unknown", "GET", 501, []),                    # RFC 9110: an unrecognised method
    ("unknown", "GET", 500, ["failure"]),
    ("unknown", "GET", 200, []),                    # other_methods' business
])
def test_status_code(loaded_contract: Contract, intent: str, method: str, status: int, expected: list[str]) -> None:
    request = sent({} if method == "POST" else None, intent=intent, method=method)
    assert severities(check(loaded_contract, "status_code", request, received(status, {}))) == expected


@pytest.mark.parametrize("status,expected", [(200, ["failure"]), (201, ["failure"]), (400, []), (422, []),
                                             (413, []), (415, []), (404, ["warning"]), (401, ["warning"]),
                                             (500, [])])  # 5xx: status_code reports it, once
def test_negative_data(loaded_contract: Contract, status: int, expected: list[str]) -> None:
    findings = check(loaded_contract, "negative_data", sent({"type": "browser"}, intent="invalid"), received(status, {}))
    assert severities(findings) == expected
    # Only invalid input is judged here.
    assert check(loaded_contract, "negative_data", sent({}, intent="valid"), received(200, {})) == []


@pytest.mark.parametrize("status,headers,expected", [
    (401, {"WWW-Authenticate": 'Bearer realm="x"'}, []),
    (403, {}, []),
    (401, {}, ["warning"]),        # no challenge
    (400, {}, ["warning"]),        # RFC 6750 allows it for a malformed header; 401 expected
    (404, {}, ["warning"]),
    (200, {}, ["failure"]),
    (204, {}, ["failure"]),
])
def test_auth(loaded_contract: Contract, status: int, headers: dict[str, str], expected: list[str]) -> None:
    request = sent({"type": "browser"}, intent="unauthenticated", auth=None)
    assert severities(check(loaded_contract, "auth", request, received(status, {}, headers))) == expected


@pytest.mark.parametrize("status,headers,expected", [
    (405, {"Allow": "POST"}, []), (404, {}, []), (401, {}, []), (501, {}, []),
    (405, {}, ["failure"]),        # RFC 9110 15.5.6: a 405 MUST say what is allowed
    (200, {}, ["warning"]),        # the real API may serve GET (a list) here
])
def test_other_methods(loaded_contract: Contract, status: int, headers: dict[str, str], expected: list[str]) -> None:
    request = sent(None, intent="unknown", method="GET")
    assert severities(check(loaded_contract, "other_methods", request, received(status, {}, headers))) == expected
    assert check(loaded_contract, "other_methods", sent({}), received(405, {})) == []


# --- semantics -------------------------------------------------------------

def _reflect(contract: Contract, payload: dict[str, Any], change: Any, intent: str = "valid") -> list[Finding]:
    body = build_runtime(copy.deepcopy(payload))
    change(body)
    return check(contract, "semantics", sent(payload, intent=intent), received(200, body))


@pytest.mark.parametrize("pointer", [r.response for r in load_semantics().reflections if r.compare == "equal"])
def test_every_equal_rule_catches_a_changed_value(loaded_contract: Contract, pointer: str) -> None:
    from contracts.checks import pointer as jp

    payload = full(loaded_contract)
    *parents, leaf = jp.parts(pointer)

    def change(body: dict[str, Any]) -> None:
        node = body
        for part in parents:
            node = node[part]
        value = node[leaf]
        node[leaf] = (not value if isinstance(value, bool) else value + 1 if isinstance(value, int)
                      else {"other": True} if isinstance(value, dict) else "something-else")

    findings = _reflect(loaded_contract, payload, change)
    assert [(f.pointer, f.severity) for f in findings] == [(pointer, "failure")]


def test_semantics_judges_only_what_was_sent(loaded_contract: Contract) -> None:
    minimal = {"spaceId": str(uuid.uuid4()), "type": "browser"}
    body = independent_runtime(minimal)  # stealth 'high', no locale, idle timeout 60, a generated name
    assert check(loaded_contract, "semantics", sent(minimal), received(200, body)) == []


def test_semantics_comparisons(loaded_contract: Contract) -> None:
    payload = full(loaded_contract)

    def lower_uuid(body: dict) -> None:
        body["config"]["proxy"]["id"] = body["config"]["proxy"]["id"].lower()

    assert _reflect(loaded_contract, payload, lower_uuid) == []  # same uuid, other case

    def reorder(body: dict) -> None:
        body["config"]["extensions"] = list(reversed(body["config"]["extensions"])) * 2

    assert _reflect(loaded_contract, payload, reorder) == []  # same set
    other_id = _reflect(loaded_contract, payload, lambda b: b["config"]["proxy"].__setitem__("id", str(uuid.uuid4())))
    assert [f.pointer for f in other_id] == ["/config/proxy/id"]
    dropped = _reflect(loaded_contract, payload, lambda b: b["config"].__setitem__("proxy", None))
    assert {f.pointer for f in dropped} >= {"/config/proxy"}
    absent = _reflect(loaded_contract, payload, lambda b: b["config"].pop("stealth"))
    assert [(f.pointer, f.severity) for f in absent] == [("/config/stealth", "warning")]


def test_semantics_text_is_compared_as_text(loaded_contract: Contract) -> None:
    payload = {"spaceId": str(uuid.uuid4()), "type": "browser", "name": "Cafe\u0301"}
    assert _reflect(loaded_contract, payload, lambda b: b.__setitem__("name", "Caf\u00e9")) == []  # NFC
    trimmed = _reflect(loaded_contract, {**payload, "name": " x "}, lambda b: b.__setitem__("name", "x"))
    assert severities(trimmed) == ["failure"]


def test_semantics_null_proxy_and_empty_metadata(loaded_contract: Contract) -> None:
    payload = {"spaceId": str(uuid.uuid4()), "type": "browser", "metadata": {}, "config": {"proxy": None}}

    def normalise(body: dict) -> None:
        body["metadata"] = None
        body["config"].pop("proxy")

    assert _reflect(loaded_contract, payload, normalise) == []
    given = _reflect(loaded_contract, payload, lambda b: b["config"].__setitem__("proxy", {"name": "x"}))
    assert [(f.pointer, f.severity) for f in given] == [("/config/proxy", "failure")]


def test_extreme_input_excuses_only_free_values(loaded_contract: Contract) -> None:
    payload = full(loaded_contract)
    payload["config"]["lifecycle"]["idleTimeoutMinutes"] = 10 ** 6
    clamped = _reflect(loaded_contract, payload,
                       lambda b: b["config"]["lifecycle"].__setitem__("idleTimeoutMinutes", 1440), intent="extreme")
    assert severities(clamped) == ["warning"]  # a number: a platform may store it with less precision
    payload["name"] = "\ufb01 \uff21"  # compatibility characters: extreme, but text must round-trip
    folded = _reflect(loaded_contract, payload, lambda b: b.__setitem__("name", "fi A"), intent="extreme")
    assert severities(folded) == ["failure"]
    stealth = _reflect(loaded_contract, payload, lambda b: b["config"].__setitem__("stealth", "medium"), intent="extreme")
    assert severities(stealth) == ["failure"]  # an enum member has no excuse


# --- invariants and unique_ids ------------------------------------------------

@pytest.mark.parametrize("text,ok", [("2026-01-01T12:00:00Z", True), ("2026-01-01T12:00:00.123456+00:00", True),
                                     ("2026-01-01 12:00:00+02:00", True), ("2026-01-01t12:00:00z", True),
                                     ("2026-01-01 12:00:00", False), ("2026-01-01T12:00:00", False),
                                     ("2026-13-01T12:00:00Z", False), ("today", False), ("2026-01-01", False),
                                     ("1767268800", False), ("", False)])
def test_parse_timestamp(text: str, ok: bool) -> None:
    assert (parse_timestamp(text) is not None) is ok


def test_invariants(loaded_contract: Contract) -> None:
    def findings(change: Any) -> list[tuple[str, str]]:
        body = build_runtime({"type": "browser"})
        change(body)
        return [(f.pointer, f.severity) for f in check(loaded_contract, "invariants", sent({}), received(200, body))]

    assert findings(lambda b: None) == []
    assert findings(lambda b: b.__setitem__("createdAt", "today")) == [("/createdAt", "failure")]
    assert findings(lambda b: b.__setitem__("updatedAt", "2000-01-01T00:00:00Z")) == [("/updatedAt", "failure")]
    assert findings(lambda b: b.__setitem__("activeRunId", "run-1")) == [("/activeRunId", "failure")]
    assert findings(lambda b: b.__setitem__("activeRunId", str(uuid.uuid4()))) == []
    assert findings(lambda b: b.pop("createdAt")) == []  # response_schema's business


def test_a_fresh_resource_was_created_now(loaded_contract: Contract) -> None:
    """Well-formed timestamps that are wrong as time: 1970, next year, an hour off the client's clock."""
    import time as clock

    def findings(stamp: str | None = None, **shift: float) -> list[tuple[str, str]]:
        body = build_runtime({"type": "browser"})
        if stamp is not None:
            body["createdAt"] = body["updatedAt"] = stamp
        now = clock.time()
        request = SentRequest.for_json("POST", URL, {"Authorization": f"Bearer {KEY}"}, {}, intent="valid",
                                       sent_at=now + shift.get("sent", 0.0))
        answer = Received.build(200, {"Content-Type": "application/json"}, json.dumps(body).encode(),
                                received_at=now + shift.get("received", 0.0))
        return [(f.pointer, f.severity) for f in check(loaded_contract, "invariants", request, answer)]

    assert findings() == []
    assert ("/createdAt", "failure") in findings("1970-01-01T00:00:00.000Z")
    assert ("/updatedAt", "failure") in findings("2099-01-01T00:00:00Z")
    assert findings(sent=-3600, received=-3599) != [], "an hour off the client's clock"
    assert findings(sent=-60, received=-59) == [], "a minute of clock skew is tolerated"


def test_unique_ids(loaded_contract: Contract) -> None:
    body = build_runtime({"type": "browser"})
    first = received(200, body)
    assert check(loaded_contract, "unique_ids", sent({}), first) == []
    assert check(loaded_contract, "unique_ids", sent({}), first) == []  # the same answer judged twice
    again = received(200, {**body, "id": body["id"].upper()})
    assert severities(check(loaded_contract, "unique_ids", sent({}), again)) == ["failure"]
    assert REGISTRY["unique_ids"].stateful


def test_unique_ids_is_not_fooled_by_a_reused_address(loaded_contract: Contract) -> None:
    """CPython hands a freed object's address to the next one: an answer's identity must not be its id().

    Each round frees the first answer before the second (same size, same type)
    is built, which makes CPython reuse the address almost every time; a check
    keyed by id(response) took the duplicate for "the same answer judged twice".
    """
    body = build_runtime({"type": "browser"})
    raw, headers, request = json.dumps(body).encode(), {"content-type": "application/json"}, sent({})
    reused = missed = 0
    for _ in range(200):
        use_index(MemoryIndex())
        first = Received(200, headers, raw, json=body)
        address = id(first)
        check(loaded_contract, "unique_ids", request, first)
        del first
        second = Received(200, headers, raw, json=body)
        reused += id(second) == address
        missed += not check(loaded_contract, "unique_ids", request, second)
    assert reused > 100, f"the test no longer provokes address reuse ({reused}/200)"
    assert missed == 0, f"{missed}/200 duplicates missed"


def test_unique_ids_across_processes(tmp_path: Path) -> None:
    """Two processes (as two xdist workers) share one index: the second to see an id is told the first's label."""
    import multiprocessing

    from harness.recording import FileIdIndex

    context = multiprocessing.get_context("fork")
    with context.Pool(2) as pool:
        answers = pool.starmap(_claim, [(str(tmp_path), "answer-a", "gw0"), (str(tmp_path), "answer-b", "gw1")])
    assert sorted(a is None for a in answers) == [False, True], answers
    assert set(answers) - {None} <= {"gw0", "gw1"}
    assert FileIdIndex(tmp_path).first("/id=x", "answer-a", "again") in (None, "gw1")  # same answer: not a duplicate
    assert _claim(str(tmp_path), "answer-c", "late") in ("gw0", "gw1")


def _claim(folder: str, answer: str, label: str) -> str | None:
    from harness.recording import FileIdIndex

    return FileIdIndex(Path(folder)).first("/id=x", answer, label)


# --- secrets -------------------------------------------------------------------

def _proxy_payload(password: str, username: str = "user-0123456789") -> dict[str, Any]:
    return {"spaceId": str(uuid.uuid4()), "type": "browser", "name": "n",
            "config": {"proxy": {"mode": "custom", "host": "h.example", "port": 8080, "protocol": "http",
                                 "username": username, "password": password}}}


def test_secrets_in_body_and_headers(loaded_contract: Contract) -> None:
    payload = _proxy_payload("pw-3f9a1c7d2e8b")
    body = build_runtime(copy.deepcopy(payload))
    assert check(loaded_contract, "secrets", sent(payload), received(200, body)) == []
    body["config"]["proxy"]["password"] = payload["config"]["proxy"]["password"]
    [leak] = check(loaded_contract, "secrets", sent(payload), received(200, body))
    assert leak.pointer == "/config/proxy/password" and "pw-3f9a1c7d2e8b" not in leak.line()
    echoed = received(401, {"message": "bad"}, {"X-Debug": f"token={KEY}"})
    [header] = check(loaded_contract, "secrets", sent({}, auth=f"Token {KEY}"), echoed)
    assert header.pointer == "header x-debug" and "API key" in header.message


def test_secrets_found_in_other_encodings(loaded_contract: Contract) -> None:
    payload = _proxy_payload("pässwörd-🙂-42")
    escaped = received(400, b'{"echo": "p\\u00e4ssw\\u00f6rd-\\ud83d\\ude42-42"}')
    assert severities(check(loaded_contract, "secrets", sent(payload), escaped)) == ["failure"]


def test_secrets_avoid_false_alarms(loaded_contract: Contract) -> None:
    short = _proxy_payload("abc", username="bob")
    body = build_runtime(copy.deepcopy(short))
    body["note"] = "abc bob"
    assert check(loaded_contract, "secrets", sent(short), received(200, body)) == []  # under 8 characters
    same_as_name = _proxy_payload("nightly runtime")
    same_as_name["name"] = "nightly runtime"
    body = build_runtime(copy.deepcopy(same_as_name))
    assert check(loaded_contract, "secrets", sent(same_as_name), received(200, body)) == []  # legitimately echoed
    # Only fields the contract declares as credentials: metadata is the caller's and must come back.
    free_form = {"spaceId": str(uuid.uuid4()), "type": "browser", "metadata": {"password": "not-a-real-secret-1"}}
    body = build_runtime(copy.deepcopy(free_form))
    assert check(loaded_contract, "secrets", sent(free_form), received(200, body)) == []


# --- the table -------------------------------------------------------------------

def test_semantics_table_matches_the_contract(loaded_contract: Contract) -> None:
    assert problems(load_semantics(), loaded_contract) == []


def test_semantics_table_refuses_unknown_pointers(loaded_contract: Contract) -> None:
    table = parse({"reflections": [{"name": "ghost", "request": "/config/ghost", "response": "/config/ghost"},
                                   {"name": "mode", "request": "/config/proxy/id", "response": "/config/proxy/id",
                                    "when": {"/config/proxy/mode": "teleport"}}],
                   "invariants": {"unique": ["/nope"]}})
    found = problems(table, loaded_contract)
    assert len(found) == 4, found  # ghost twice (request, response), the mode value, /nope
