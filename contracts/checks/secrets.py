"""No credential that was sent comes back: proxy usernames and passwords, the API key."""
from __future__ import annotations

from typing import Any, Iterator

from contracts.checks import pointer
from contracts.checks.model import MISSING, Finding, Received, SentRequest
from contracts.checks.registry import check
from contracts.credentials import credential_pointers, forms, header_credentials, searchable
from contracts.loader import Contract


def _strings(value: Any, path: str = "", skip: frozenset[str] = frozenset()) -> Iterator[str]:
    """Every string in a JSON value (keys too), except at the pointers in `skip`."""
    if path in skip:
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item, f"{path}/{pointer.escape(key)}", skip)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}/{index}", skip)


def secret_pointers(contract: Contract) -> tuple[str, ...]:
    """Where the request schema declares a credential (e.g. /config/proxy/password), from the contract.

    Only declared fields count: a free-form object (metadata) may carry a key
    named "password", and it must be reflected, not hidden.
    """
    return credential_pointers(contract.request_schema)


def credentials(request: SentRequest, contract: Contract) -> dict[str, str]:
    """What the request sent that must never come back, by a readable name (long enough to search for)."""
    found = dict(header_credentials(request.headers))
    if request.payload is not MISSING:
        declared = {ptr: pointer.resolve(request.payload, ptr) for ptr in secret_pointers(contract)}
        declared = {ptr: value for ptr, value in declared.items() if isinstance(value, str)}
        # Strings sent in ordinary fields may legitimately come back (a name equal to a password).
        innocent = list(_strings(request.payload, skip=frozenset(declared)))
        for ptr, value in declared.items():
            if not any(value in text for text in innocent):
                found[f"the proxy {ptr.rsplit('/', 1)[-1]} ({ptr})"] = value
    return {name: value for name, value in found.items() if value in searchable([value])}


def _forms(secret: str) -> set[bytes]:
    """The ways a secret can appear on the wire (contracts/credentials.py), long enough to search for."""
    return {form.encode("utf-8") for form in searchable(forms(secret))}


def _carries_credentials(contract: Contract, request: SentRequest, response: Received) -> bool:
    return bool(credentials(request, contract))


@check("secrets", applies=_carries_credentials)
def secrets(contract: Contract, request: SentRequest, response: Received) -> Iterator[Finding]:
    """No sent credential (API key, proxy username or password) appears in the response body or headers."""
    for name, secret in credentials(request, contract).items():
        wire = _forms(secret)
        for header, value in response.headers.items():
            if any(form in value.encode("utf-8", "replace") for form in wire):
                yield Finding("secrets", "failure", f"header {header}", f"{name} comes back in a response header",
                              expected="no credential in the response", got=f"{header}: ***")
        if any(form in response.body for form in wire):
            where = _json_pointer_of(response.json, wire) if response.json is not MISSING else ""
            yield Finding("secrets", "failure", where, f"{name} comes back in the response body",
                          expected="no credential in the response", got="*** (redacted)")


def _json_pointer_of(document: Any, forms: set[bytes]) -> str:
    texts = {f.decode("utf-8") for f in forms}

    def visit(value: Any, path: str) -> str | None:
        if isinstance(value, str):
            return path if any(t in value for t in texts) else None
        items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        for key, item in items:
            key_text = pointer.escape(key)
            if isinstance(value, dict) and any(t in str(key) for t in texts):
                return f"{path}/{key_text}"
            hit = visit(item, f"{path}/{key_text}")
            if hit is not None:
                return hit
        return None

    return visit(document, "") or ""
