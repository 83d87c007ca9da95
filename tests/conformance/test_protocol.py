"""Protocol robustness: bodies that are not a JSON object, wrong media types, huge bodies, other methods.

Each gets a client error, never a 5xx and never a hang (the client's read
timeout, --request-timeout, turns a hang into a failure). Which 4xx is the
server's choice: 400, 413, 415 and 422 are all fine (`negative_data` warns
only about unusual ones, e.g. 404). Where the contract is silent, a 2xx is a
warning, not a failure: a valid JSON body sent as text/plain is still valid
data, and another method on the path may be another operation of the API.
"""
from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from typing import Any, Callable

import pytest

from contracts import Contract
from contracts.checks import MISSING, Finding
from harness.transport import ApiClient
from harness.conformance import Conformance
from harness.verdict import ConformanceWarning
from strategies.builder import Builder
from strategies.domains import load_domains

OVERSIZE_BYTES = 5 * 1024 * 1024


def _payload(contract: Contract, space_id: str, name_prefix: str, label: str) -> dict[str, Any]:
    builder = Builder(contract, space_id=space_id, name_prefix=name_prefix)
    name = load_domains().role("name")
    return builder.build({name: builder.name_for(label)} if name else {}, seed=label)


@dataclass(frozen=True)
class BadBody:
    body: Callable[[dict[str, Any]], bytes]  # from a valid payload
    content_type: str | None = "application/json"
    why: str = ""


# Bodies that are not a JSON object of the documented media type: each must be refused.
MALFORMED: dict[str, BadBody] = {
    "json=truncated": BadBody(lambda p: json.dumps(p).encode()[:-3], why="not JSON: cut short"),
    "json=trailing-garbage": BadBody(lambda p: json.dumps(p).encode() + b"}", why="not JSON: a stray brace"),
    "json=single-quotes": BadBody(lambda p: json.dumps(p).replace('"', "'").encode(), why="not JSON: single quotes"),
    "json=invalid-utf8": BadBody(lambda p: b'{"name": "\xff\xfe"}', why="not UTF-8"),
    "json=array": BadBody(lambda p: json.dumps([p]).encode(), why="a JSON array, not an object"),
    "json=string": BadBody(lambda p: json.dumps(json.dumps(p)).encode(), why="a JSON string, not an object"),
    "json=null": BadBody(lambda p: b"null", why="JSON null, not an object"),
    "body=empty": BadBody(lambda p: b"", why="no body; the errata mark the body required"),
}

# Valid data under a wrong or missing media type: a 4xx (415) is expected, a 2xx only warned about.
WRONG_MEDIA_TYPE: dict[str, BadBody] = {
    "content-type=text/plain": BadBody(lambda p: json.dumps(p).encode(), "text/plain"),
    "content-type=form": BadBody(lambda p: json.dumps(p).encode(), "application/x-www-form-urlencoded"),
    "content-type=missing": BadBody(lambda p: json.dumps(p).encode(), None),
}

# Methods the document does not list for the path (HEAD and OPTIONS are the HTTP stack's business).
OTHER_METHODS = ("GET", "PUT", "PATCH", "DELETE")


@pytest.mark.parametrize("label", list(MALFORMED))
def test_refuses_malformed_body(conformance: Conformance, contract: Contract, space_id: str, name_prefix: str,
                                label: str) -> None:
    case = MALFORMED[label]
    body = case.body(_payload(contract, space_id, name_prefix, f"protocol-{label}"))
    exchange = conformance.send(body=body, content_type=case.content_type, intent="invalid",
                                label=f"{label} ({case.why})")
    assert exchange.response is not None


@pytest.mark.parametrize("label", list(WRONG_MEDIA_TYPE))
def test_wrong_media_type_is_refused_or_warned(conformance: Conformance, client: ApiClient, contract: Contract,
                                               space_id: str, name_prefix: str, label: str) -> None:
    """A 4xx (415 expected) passes; a 2xx is a warning (the data is valid JSON, the contract silent); a 5xx fails."""
    case = WRONG_MEDIA_TYPE[label]
    body = case.body(_payload(contract, space_id, name_prefix, f"protocol-{label}"))
    exchange = client.send(body=body, content_type=case.content_type, intent="unknown", label=label)
    extra = []
    if exchange.response is not None and 200 <= exchange.response.status < 300:
        extra.append(Finding("negative_data", "warning", "", "a body outside the documented media type "
                             "(application/json) was accepted", expected="415 (any 4xx)",
                             got=str(exchange.response.status)))
    conformance.verify(exchange, extra=extra)


def test_oversize_body_is_refused_or_handled(conformance: Conformance, client: ApiClient, contract: Contract,
                                             space_id: str, name_prefix: str) -> None:
    """5 MB of schema-valid JSON (a padded free-form object): 413 or any 4xx, or 200; never a 5xx or a hang."""
    payload = _payload(contract, space_id, name_prefix, "protocol-oversize")
    field = _free_form_object(contract.request_schema)
    if field is None:
        pytest.skip("the request schema has no free-form object to pad")
    payload[field] = {"padding": "x" * OVERSIZE_BYTES}
    body = json.dumps(payload).encode()
    exchange = client.send(body=body, intent="unknown", label=f"oversize ({len(body) // 1024} KiB)")
    if exchange.response is None and exchange.error and "timeout" not in exchange.error:
        # RFC 9110 (15.5.14) lets a server close the connection on a too-large
        # body, and then the client cannot read any answer: worth a note, no more.
        note = Finding("transport", "warning", "", "the connection was closed before an answer to the oversize body",
                       expected="413 (or any 4xx)", got=exchange.error)
        conformance.judge.judge(exchange, findings=[note], source="suite")
        warnings.warn(ConformanceWarning(f"{note.line()} [oversize]"))
        return
    conformance.verify(exchange)


def _free_form_object(schema: dict[str, Any]) -> str | None:
    """A top-level property declared as an object without properties (e.g. metadata)."""
    for name, sub in (schema.get("properties") or {}).items():
        if sub.get("type") == "object" and not sub.get("properties"):
            return name
    return None


@pytest.mark.parametrize("method", OTHER_METHODS)
def test_other_methods_get_no_server_error(conformance: Conformance, contract: Contract, space_id: str,
                                          name_prefix: str, method: str) -> None:
    """No 5xx (501 excepted) and a 405 carries Allow; a 2xx is a warning: the real API may serve this method here."""
    body = _payload(contract, space_id, name_prefix, f"protocol-{method}") if method in ("PUT", "PATCH") else None
    exchange = conformance.send(method, payload=body if body is not None else MISSING,
                                intent="unknown", label=f"method={method}")
    assert exchange.response is not None

