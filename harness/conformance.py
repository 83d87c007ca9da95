"""The assertion story of every test: send, run the checks, record, judge."""
from __future__ import annotations

from typing import Any, Iterable

from contracts import Contract
from contracts.checks import Finding, run_checks
from contracts.checks.model import MISSING, Intent
from harness.client import USE_KEY, ApiClient, Exchange
from harness.events import EventLog, exchange_record
from harness.verdict import judge


class Conformance:
    """What a test uses: `create(payload)` sends it and fails the test on any contract violation."""

    def __init__(self, contract: Contract, client: ApiClient, log: EventLog | None, test: str = "",
                 *, strict_warnings: bool = False) -> None:
        self.contract = contract
        self.client = client
        self.log = log
        self.test = test
        self.strict_warnings = strict_warnings

    def for_test(self, test: str) -> "Conformance":
        return Conformance(self.contract, self.client, self.log, test, strict_warnings=self.strict_warnings)

    def findings(self, exchange: Exchange, checks: Iterable[str] | None = None) -> list[Finding]:
        if exchange.response is None:
            return [Finding("transport", "failure", "", f"no HTTP response: {exchange.error}",
                            expected="an HTTP response", got=exchange.error or "")]
        return run_checks(self.contract, exchange.request, exchange.response, checks)

    def record(self, exchange: Exchange, findings: list[Finding]) -> None:
        if self.log is not None:
            self.log.write(exchange_record(exchange, findings, test=self.test, api_key=self.client.api_key))

    def verify(self, exchange: Exchange, checks: Iterable[str] | None = None,
               extra: Iterable[Finding] = ()) -> Exchange:
        findings = self.findings(exchange, checks) + list(extra)
        self.record(exchange, findings)
        judge(exchange, findings, self.client.api_key, strict_warnings=self.strict_warnings)
        return exchange

    def create(self, payload: Any, *, intent: Intent = "valid", label: str = "",
               checks: Iterable[str] | None = None) -> Exchange:
        return self.verify(self.client.create(payload, intent=intent, label=label), checks)

    def send(self, method: str = "POST", *, payload: Any = MISSING, body: bytes | None = None,
             content_type: str | None = "application/json", authorization: Any = USE_KEY,
             headers: dict[str, str] | None = None, intent: Intent = "unknown", label: str = "",
             checks: Iterable[str] | None = None) -> Exchange:
        exchange = self.client.send(method, payload=payload, body=body, content_type=content_type,
                                    authorization=authorization, headers=headers, intent=intent, label=label)
        return self.verify(exchange, checks)
