"""Checks on the shape of one response: schema, status code, content type."""
from __future__ import annotations

from typing import Iterator

from jsonschema.exceptions import ValidationError, best_match

from contracts.checks import pointer
from contracts.checks.model import MISSING, Finding, Received, SentRequest, is_json_media_type
from contracts.checks.registry import check, on_operation
from contracts.loader import Contract


def _pointer(error: ValidationError) -> str:
    return pointer.join(error.absolute_path)


def _leaves(error: ValidationError) -> Iterator[ValidationError]:
    """The errors that say what is actually wrong, every one of them.

    A oneOf/anyOf failure only says "not valid under any"; inside it, the
    branch that got furthest (jsonschema's best_match) holds the real errors:
    report all of that branch's errors, descending through nested oneOfs.
    A value that matches no branch at all (e.g. a string where an object or
    null is allowed) stays one error at its own pointer.
    """
    if error.validator not in ("oneOf", "anyOf") or not error.context:
        yield error
        return
    best = best_match(error.context)
    if best is None or not best.relative_schema_path:
        yield error
        return
    branch = best.relative_schema_path[0]
    same_branch = [e for e in error.context if e.relative_schema_path and e.relative_schema_path[0] == branch]
    if all(len(e.absolute_path) <= len(error.absolute_path) and e.validator == "type" for e in same_branch):
        yield error  # wrong type for every branch: one error, at the value itself
        return
    for sub in same_branch:
        yield from _leaves(sub)


def _short(value: object, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _answered_200(contract: Contract, request: SentRequest, response: Received) -> bool:
    return response.status == 200 and on_operation(contract, request)


def _typed_answer(contract: Contract, request: SentRequest, response: Received) -> bool:
    # A 200 must be JSON; any other answer is judged only when its body is JSON.
    return _answered_200(contract, request, response) or (
        response.status != 200 and response.json is not MISSING and bool(response.body.strip()))


@check("response_schema", applies=_answered_200)
def response_schema(contract: Contract, request: SentRequest, response: Received) -> Iterator[Finding]:
    """A 200 body validates against the documented response schema, formats checked."""
    if response.json is MISSING:
        yield Finding("response_schema", "failure", "", "the 200 body is not JSON",
                      expected="a JSON object", got=_short(response.body[:80]))
        return
    seen: set[tuple[str, str]] = set()
    leaves = [leaf for error in contract.response_validator().iter_errors(response.json) for leaf in _leaves(error)]
    for leaf in sorted(leaves, key=lambda e: (_pointer(e), e.validator)):
        key = (_pointer(leaf), leaf.message)
        if key in seen:
            continue
        seen.add(key)
        expected = f"{leaf.validator}: {_short(leaf.validator_value)}"
        if leaf.validator in ("oneOf", "anyOf"):
            kinds = [b.get("type", "object") if isinstance(b, dict) else "?" for b in leaf.validator_value]
            expected = "one of the shapes: " + ", ".join(map(str, kinds))
        yield Finding("response_schema", "failure", _pointer(leaf), leaf.message[:300],
                      expected=expected, got=_short(leaf.instance))


@check("content_type", applies=_typed_answer)
def content_type(contract: Contract, request: SentRequest, response: Received) -> Iterator[Finding]:
    """A 200 is served as application/json; a JSON error body says so too."""
    is_json_type = is_json_media_type(response.content_type)
    if response.status == 200 and on_operation(contract, request) and not is_json_type:
        yield Finding("content_type", "failure", "", "the 200 response is not served as application/json",
                      expected="Content-Type: application/json", got=f"Content-Type: {response.content_type or '(none)'}")
    elif response.status != 200 and response.json is not MISSING and response.body.strip() and not is_json_type:
        yield Finding("content_type", "warning", "", "a JSON error body is not labelled application/json",
                      expected="Content-Type: application/json", got=f"Content-Type: {response.content_type or '(none)'}")
