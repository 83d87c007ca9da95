"""Protocol robustness (strategies/protocol.py): bodies that are not a JSON object, wrong media types, a 5 MB
body, other methods.

Each gets a client error, never a 5xx and never a hang (the client's read timeout, --request-timeout, turns a
hang into a failure). Which 4xx is the server's choice: 400, 413, 415 and 422 are all fine (`negative_data`
warns only about unusual ones, e.g. 404). Where the contract is silent, a 2xx is a warning, not a failure: a
valid JSON body sent as text/plain is still valid data, and another method on the path may be another
operation of the API.
"""
from __future__ import annotations

import warnings

from contracts.checks import Finding
from harness.plugin.planning import PlannedRunner
from harness.verdict import ConformanceWarning


def test_refuses_malformed_body(planned: PlannedRunner, case_id: str) -> None:
    exchange = planned.verify(case_id)
    assert exchange.response is not None


def test_wrong_media_type_is_refused_or_warned(planned: PlannedRunner, case_id: str) -> None:
    """A 4xx (415 expected) passes; a 2xx is a warning (the data is valid JSON, the contract silent); a 5xx fails."""
    request = planned.request(case_id)
    exchange = planned.fetch(request)
    extra = []
    if exchange.response is not None and 200 <= exchange.response.status < 300:
        extra.append(Finding("negative_data", "warning", "", "a body outside the documented media type "
                             "(application/json) was accepted", expected="415 (any 4xx)",
                             got=str(exchange.response.status)))
    planned.conformance.verify(exchange, extra=extra)


def test_oversize_body_is_refused_or_handled(planned: PlannedRunner, case_id: str) -> None:
    """5 MB of schema-valid JSON (a padded free-form object): 413 or any 4xx, or 200; never a 5xx or a hang."""
    exchange = planned.fetch(planned.request(case_id))
    if exchange.response is None and exchange.error and "timeout" not in exchange.error:
        # RFC 9110 (15.5.14) lets a server close the connection on a too-large
        # body, and then the client cannot read any answer: worth a note, no more.
        note = Finding("transport", "warning", "", "the connection was closed before an answer to the oversize body",
                       expected="413 (or any 4xx)", got=exchange.error)
        planned.conformance.judge.judge(exchange, findings=[note], source="plan")
        warnings.warn(ConformanceWarning(f"{note.line()} [oversize]"))
        return
    planned.conformance.verify(exchange)


def test_other_methods_get_no_server_error(planned: PlannedRunner, case_id: str) -> None:
    """No 5xx (501 excepted) and a 405 carries Allow; a 2xx is a warning: the real API may serve this method here."""
    exchange = planned.verify(case_id)
    assert exchange.response is not None
