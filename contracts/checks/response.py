"""Checks on the shape of one response: schema, status code, content type."""
from __future__ import annotations

from typing import Iterator

from jsonschema.exceptions import ValidationError, best_match

from contracts.checks.model import MISSING, Finding, Received, SentRequest
from contracts.checks.registry import check
from contracts.loader import Contract


def _pointer(error: ValidationError) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in error.absolute_path)


def _leaf(error: ValidationError) -> ValidationError:
    # A oneOf/anyOf failure says only "not valid under any"; the branch error
    # that got furthest says what is actually wrong.
    while error.context:
        deeper = best_match(error.context)
        if deeper is None:
            break
        error = deeper
    return error


def _short(value: object, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@check("response_schema")
def response_schema(contract: Contract, request: SentRequest, response: Received) -> Iterator[Finding]:
    """A 200 body validates against the documented response schema, formats checked."""
    if response.status != 200:
        return
    if response.json is MISSING:
        yield Finding("response_schema", "failure", "", "the 200 body is not JSON",
                      expected="a JSON object", got=_short(response.body[:80]))
        return
    seen: set[tuple[str, str]] = set()
    for error in sorted(contract.response_validator().iter_errors(response.json), key=lambda e: list(map(str, e.absolute_path))):
        leaf = _leaf(error)
        key = (_pointer(leaf), leaf.message)
        if key in seen:
            continue
        seen.add(key)
        expected = f"{leaf.validator}: {_short(leaf.validator_value)}"
        yield Finding("response_schema", "failure", _pointer(leaf), leaf.message[:300],
                      expected=expected, got=_short(leaf.instance))


@check("content_type")
def content_type(contract: Contract, request: SentRequest, response: Received) -> Iterator[Finding]:
    """A 200 is served as application/json; a JSON error body says so too."""
    media = response.content_type.split(";", 1)[0].strip().lower()
    is_json_type = media == "application/json" or media.endswith("+json")
    if response.status == 200 and not is_json_type:
        yield Finding("content_type", "failure", "", "the 200 response is not served as application/json",
                      expected="Content-Type: application/json", got=f"Content-Type: {response.content_type or '(none)'}")
    elif response.status != 200 and response.json is not MISSING and response.body.strip() and not is_json_type:
        yield Finding("content_type", "warning", "", "a JSON error body is not labelled application/json",
                      expected="Content-Type: application/json", got=f"Content-Type: {response.content_type or '(none)'}")
