"""Adaptive follow-up: a covering row failing in a way that depends on its payload is narrowed down.

The follow-up requests (strategies/isolate.py: every factor of the row alone,
then every pair; at most k + k(k-1)/2 for a row of k factors) are sent live,
judged and recorded like any other exchange (source `follow-up`), and the
smallest failing combinations become one sentence on the row's failure
("only when /config/fingerprint/browser = edge and /config/stealth = ultra").
Answers are shared between rows by body, so the next row that fails for the
same value costs little; at most ISOLATED_ROWS rows per process are narrowed.
"""
from __future__ import annotations

import threading
from typing import Any

from harness.conformance import Conformance
from harness.plan.cases import PlannedRequest
from harness.verdict import ConformanceFailure
from strategies import classify, isolate, load_domains
from strategies.covering import body_key

ISOLATED_ROWS = 5
# Failures that depend on what was sent (a crash on a value, a value not reflected): worth narrowing down.
PAYLOAD_CHECKS = frozenset({"status_code", "response_schema", "semantics", "content_type", "invariants"})

_lock = threading.Lock()
_answers: dict[tuple[str, frozenset[str]], bool] = {}  # (body, checks) -> reproduced the failure
_isolated = [0]


def isolate_row(run: Any, conformance: Conformance, request: PlannedRequest, failure: ConformanceFailure) -> list[str]:
    """One sentence per minimal failing schema of the row, or none when the failure is not payload-dependent."""
    checks = frozenset(f.check for _, f in failure.failing() if f.check in PAYLOAD_CHECKS)
    if not checks:
        return []
    with _lock:
        if _isolated[0] >= ISOLATED_ROWS:
            return []
        _isolated[0] += 1
    name = load_domains().role("name")
    contract = conformance.contract

    def send(probe: Any) -> bool:
        key = (body_key(probe.payload, name), checks)
        with _lock:
            if key in _answers:
                return _answers[key]
        exchange = conformance.client.create(probe.payload, intent=classify(probe.payload, contract).intent,
                                             label=f"follow-up {probe.id}")
        verdict = conformance.judge.judge(exchange, source="follow-up")
        failed = any(f.severity == "failure" and f.check in checks for f in verdict.findings)
        with _lock:
            _answers[key] = failed
        return failed

    result = isolate(contract, request.row, space_id=run.target.space_id, send=send, name_prefix=run.name_prefix,
                     saved_proxy_id=run.saved_proxy_id)
    return list(result.sentences())
