"""The status code a request deserves, by what the request was meant to be."""
from __future__ import annotations

from typing import Iterator

from contracts.checks.model import Finding, Received, SentRequest
from contracts.checks.registry import check, on_operation
from contracts.loader import Contract

TOO_MANY_REQUESTS = 429


def documented(contract: Contract, status: int) -> bool:
    """Is `status` one of the operation's documented responses (exact code or `4XX` range)?"""
    for key in contract.operation.get("responses", {}):
        key = str(key).upper()
        if key == str(status) or (len(key) == 3 and key.endswith("XX") and key[0] == str(status)[0]):
            return True
    return False


@check("status_code")
def status_code(contract: Contract, request: SentRequest, response: Received) -> Iterator[Finding]:
    """No server errors; the status is documented, and 200 for valid input."""
    status = response.status
    if status == 501 and not on_operation(contract, request):
        return  # RFC 9110 15.6.2: the right answer to a method the server does not recognise
    if status >= 500:
        yield Finding("status_code", "failure", "", f"server error {status} for a {request.intent} request",
                      expected="a documented status (200 or 4xx)", got=str(status))
        return
    if not on_operation(contract, request):
        return  # another method on the path: the `other_methods` check judges it
    if not documented(contract, status):
        yield Finding("status_code", "failure", "", f"status {status} is not documented for this operation",
                      expected="200 or 4xx", got=str(status))
        return
    if status == TOO_MANY_REQUESTS and request.intent in ("valid", "extreme"):
        # Throttling says nothing about the input; the client's retry policy owns it.
        yield Finding("status_code", "warning", "", "the request was throttled, so the input was not judged",
                      expected="200", got="429")
    elif request.intent == "valid" and status != 200:
        yield Finding("status_code", "failure", "", "valid input was rejected", expected="200", got=str(status))
    elif request.intent == "extreme" and status != 200:
        severity = "warning" if 400 <= status < 500 else "failure"
        yield Finding("status_code", severity, "", "schema-valid input with an extreme value was refused",
                      expected="200 (a clean 4xx is tolerated)", got=str(status))
