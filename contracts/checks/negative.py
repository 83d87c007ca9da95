"""Answers to requests that must be refused: invalid input, missing credentials, other methods.

Server errors (5xx) are the `status_code` check's: each problem is reported once.
"""
from __future__ import annotations

from typing import Iterator

from contracts.checks.model import Finding, Received, SentRequest
from contracts.checks.registry import check, on_operation
from contracts.checks.semantics_table import load_semantics
from contracts.loader import Contract


def _invalid_input(contract: Contract, request: SentRequest, response: Received) -> bool:
    return request.intent == "invalid" and on_operation(contract, request)


def _unauthenticated(contract: Contract, request: SentRequest, response: Received) -> bool:
    return request.intent == "unauthenticated"


def _other_method(contract: Contract, request: SentRequest, response: Received) -> bool:
    return not on_operation(contract, request)


@check("negative_data", applies=_invalid_input)
def negative_data(contract: Contract, request: SentRequest, response: Received) -> Iterator[Finding]:
    """Invalid input (schema, JSON or media type) gets a client error, never a 2xx."""
    status = response.status
    usual = load_semantics().usual("invalid_input")
    if 200 <= status < 300:
        yield Finding("negative_data", "failure", "", "invalid input was accepted",
                      expected="a 4xx client error (400 or 422 are both fine)", got=str(status))
    elif 400 <= status < 500 and status not in usual:
        yield Finding("negative_data", "warning", "", f"invalid input got an unusual client error {status}",
                      expected=" or ".join(map(str, sorted(usual))), got=str(status))


@check("auth", applies=_unauthenticated)
def auth(contract: Contract, request: SentRequest, response: Received) -> Iterator[Finding]:
    """A request without valid credentials gets 401 (or 403), never a 2xx; a 401 says how to authenticate."""
    status = response.status
    usual = load_semantics().usual("unauthenticated")
    if 200 <= status < 300:
        yield Finding("auth", "failure", "", "a request without valid credentials was accepted",
                      expected="401 (or 403)", got=str(status))
    elif status == 401 and not response.headers.get("www-authenticate"):
        # RFC 9110 asks for the challenge, but the contract documents no error
        # responses at all, and many APIs leave it out: worth knowing, not failing.
        yield Finding("auth", "warning", "", "a 401 without a WWW-Authenticate challenge",
                      expected="WWW-Authenticate: Bearer ...", got="(no WWW-Authenticate header)")
    elif 400 <= status < 500 and status not in usual:
        # e.g. 400 for a malformed header (RFC 6750 allows it) or a 404 hiding the resource.
        yield Finding("auth", "warning", "", f"missing or invalid credentials got {status}",
                      expected="401 (or 403)", got=str(status))


@check("other_methods", applies=_other_method)
def other_methods(contract: Contract, request: SentRequest, response: Received) -> Iterator[Finding]:
    """Another method on the path is refused with a 4xx (405 with Allow expected); never a 5xx."""
    status = response.status
    if 200 <= status < 300:
        # The document describes one operation; the real API may serve others on
        # this path (a list, say), so a 2xx is reported, not failed.
        yield Finding("other_methods", "warning", "", f"{request.method} on the path answered {status}",
                      expected="405 (the contract documents only " + contract.method.upper() + ")", got=str(status))
    elif status == 405 and not response.headers.get("allow"):
        yield Finding("other_methods", "failure", "", "405 without an Allow header (RFC 9110 section 15.5.6)",
                      expected="Allow: " + contract.method.upper(), got="(no Allow header)")
