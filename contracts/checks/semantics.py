"""The 200 body reflects what was sent, by the rules in contracts/semantics.yaml."""
from __future__ import annotations

import json
import unicodedata
import uuid
from typing import Any, Iterator

from contracts.checks import pointer
from contracts.checks.model import MISSING, Finding, Received, SentRequest
from contracts.checks.registry import check, on_operation
from contracts.checks.semantics_table import Reflection, load_semantics
from contracts.loader import Contract


def _short(value: Any, limit: int = 120) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str) if value is not MISSING else "(absent)"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _hashable(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _as_uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _same(rule: Reflection, sent: Any, got: Any) -> bool:
    if rule.empty_is_null and sent in ({}, []) and got is None:
        return True
    if rule.compare == "same_set":
        return isinstance(got, list) and {_hashable(v) for v in sent} == {_hashable(v) for v in got}
    if rule.compare == "same_uuid":
        sent_id, got_id = _as_uuid(sent), _as_uuid(got)
        return sent_id is not None and sent_id == got_id if sent_id is not None else sent == got
    if rule.compare == "nullness":
        return (got is None) if sent is None else isinstance(got, dict)
    return _equal(sent, got)


def _equal(a: Any, b: Any) -> bool:
    # JSON equality: 1 == 1.0, but True is not 1 and "1" is not 1; strings compared as NFC.
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, str) and isinstance(b, str):
        # Canonically equivalent text is the same text: a server may store NFC.
        return unicodedata.normalize("NFC", a) == unicodedata.normalize("NFC", b)
    return a == b and (isinstance(a, (int, float)) == isinstance(b, (int, float)))


def _numeric_drift(contract: Contract, rule: Reflection, sent: Any) -> bool:
    """A number sent where the value is free (no enum): a platform may store it with less precision."""
    if rule.compare in ("same_uuid", "nullness"):
        return False
    schemas = pointer.schemas_at(contract.request_schema, rule.request)
    if schemas and all("enum" in s or s.get("type") == "boolean" for s in schemas):
        return False
    return _only_numbers_differ(sent)


def _only_numbers_differ(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return True
    if isinstance(value, dict):
        return any(_only_numbers_differ(v) for v in value.values())
    if isinstance(value, list):
        return any(_only_numbers_differ(v) for v in value)
    return False


def _applies(rule: Reflection, payload: Any) -> bool:
    if pointer.resolve(payload, rule.request) is MISSING:
        return False
    return all(_equal(pointer.resolve(payload, ptr), value) for ptr, value in rule.when.items())


def _reflecting(contract: Contract, request: SentRequest, response: Received) -> bool:
    # A body that is not an object is the response_schema check's to report.
    return (response.status == 200 and on_operation(contract, request) and isinstance(request.payload, dict)
            and isinstance(response.json, dict))


@check("semantics", applies=_reflecting)
def semantics(contract: Contract, request: SentRequest, response: Received) -> Iterator[Finding]:
    """What was sent comes back: name, type, metadata, stealth, fingerprint, lifecycle, extensions, proxy."""
    for rule in load_semantics().reflections:
        if not _applies(rule, request.payload):
            continue
        sent = pointer.resolve(request.payload, rule.request)
        got = pointer.resolve(response.json, rule.response)
        if got is MISSING:
            if rule.compare == "nullness" and sent is None:
                continue  # no proxy sent, none described: absent says the same as null
            yield Finding("semantics", rule.if_absent, rule.response,
                          f"{rule.name} was sent but the response leaves it out",
                          expected=_short(sent), got="(absent)")
        elif not _same(rule, sent, got):
            # Every value the response reflects round-trips exactly, text included: no trimming, no case
            # change, no compatibility folding (canonically equivalent text is the same text, see _equal).
            # The one leeway: an extreme request (outside the plausible domains) holding numbers where the
            # value is free, which a platform may store with less precision (2**63 in metadata, say).
            drift = request.intent == "extreme" and _numeric_drift(contract, rule, sent) and _same_but_numbers(sent, got)
            mismatch = "warning" if drift else "failure"
            how = {"same_set": "the same items", "same_uuid": "the same uuid",
                   "nullness": "null" if sent is None else "a proxy object"}.get(rule.compare, _short(sent))
            yield Finding("semantics", mismatch, rule.response, f"{rule.name} does not reflect the request "
                          f"({rule.request} sent as {_short(sent)})", expected=how, got=_short(got))


def _same_but_numbers(sent: Any, got: Any) -> bool:
    """The same JSON value but for the numbers in it (their kind kept)."""
    if isinstance(sent, bool) or isinstance(got, bool):
        return type(sent) is type(got) and sent == got
    if isinstance(sent, (int, float)) and isinstance(got, (int, float)):
        return True
    if isinstance(sent, dict) and isinstance(got, dict):
        return sent.keys() == got.keys() and all(_same_but_numbers(sent[k], got[k]) for k in sent)
    if isinstance(sent, list) and isinstance(got, list):
        return len(sent) == len(got) and all(_same_but_numbers(x, y) for x, y in zip(sent, got))
    return _equal(sent, got)
