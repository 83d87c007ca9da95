"""The assertion story of every test: send, judge with the checks, record once, then pass or fail.

`Judge` is shared by everything that judges an exchange in a process (our own
tests, the schemathesis bridge, recorded traffic): it runs the registry's
checks, matches known issues (once, here, on the request as sent), writes the
exchange record (redacted, once) and remembers what the running test found,
so a test cut short afterwards (budget, throttling, a dead target) still
reports it. `Conformance` is what a test uses: `create`, `send`, `verify`.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable

from contracts import Contract
from contracts.checks import Exchange, Finding, judge_exchange
from contracts.checks.model import MISSING, Intent
from harness import known_issues
from harness.recording import EventWriter
from harness.transport import USE_KEY, ApiClient
from harness.verdict import judge


@dataclass
class TestState:
    """What the test running in this process has found so far."""

    test: str = ""
    failures: list[dict[str, Any]] = field(default_factory=list)  # records with uncovered failing findings

    def start(self, test: str) -> None:
        self.test = test
        self.failures = []


@dataclass(frozen=True)
class Verdict:
    """One exchange judged: its findings, which a known issue covers (index -> id), and its record."""

    exchange: Exchange
    findings: tuple[Finding, ...]
    known: dict[int, str]
    record: dict[str, Any]

    @property
    def failed(self) -> bool:
        return any(f.severity == "failure" for f in self.findings)


class Judge:
    """Judges exchanges for one process: checks, known issues, one record each (see the module doc)."""

    def __init__(self, contract: Contract, writer: EventWriter | None, *, known: tuple[known_issues.KnownIssue, ...] = (),
                 target: str = "embedded", strict_warnings: bool = False) -> None:
        self.contract = contract
        self.writer = writer
        self.known = known
        self.target = target
        self.strict_warnings = strict_warnings
        self.state = TestState()
        self.covered: Counter[str] = Counter()  # known issue id -> findings it covered in this process

    def findings(self, exchange: Exchange, checks: Iterable[str] | None = None,
                 extra: Iterable[Finding] = ()) -> tuple[tuple[Finding, ...], tuple[str, ...]]:
        """The findings of the applicable checks (or of those named) plus `extra`, and which checks applied."""
        if exchange.response is None:
            lost = Finding("transport", "failure", "", f"no HTTP response: {exchange.error}",
                           expected="an HTTP response", got=exchange.error or "")
            return (lost, *extra), ()
        judged = judge_exchange(self.contract, exchange.request, exchange.response, checks)
        return (*judged.findings, *extra), judged.applied

    def judge(self, exchange: Exchange, *, source: str, checks: Iterable[str] | None = None,
              extra: Iterable[Finding] = (), findings: Iterable[Finding] | None = None,
              applied: Iterable[str] | None = None) -> Verdict:
        """Judge one exchange and record it; does not raise (see `Conformance.verify` for that).

        Pass `findings` (and `applied`) when they were computed elsewhere (the
        schemathesis bridge collects its own); otherwise the checks run here.
        """
        if findings is None:
            found, ran = self.findings(exchange, checks, extra)
        else:
            found, ran = (*findings, *extra), tuple(applied or ())
        test = self.state.test
        known = known_issues.match(self.known, found, exchange.request, test=test, target=self.target)
        self.covered.update(known.values())
        record = (self.writer.exchange(exchange, found, test=test, checks=ran, source=source, known=known)
                  if self.writer is not None else _unrecorded(exchange, found))
        failing = [i for i, f in enumerate(found) if f.severity == "failure" or self.strict_warnings]
        if any(i not in known for i in failing):
            self.state.failures.append(record)
        return Verdict(exchange, found, known, record)

    def verify(self, exchange: Exchange, *, source: str = "suite", checks: Iterable[str] | None = None,
               extra: Iterable[Finding] = ()) -> Verdict:
        """Judge, record, and fail (ConformanceFailure with the reproduction) on any failure; warnings warn."""
        verdict = self.judge(exchange, source=source, checks=checks, extra=extra)
        judge(exchange, verdict.findings, verdict.record, known=verdict.known, strict_warnings=self.strict_warnings)
        return verdict


def _unrecorded(exchange: Exchange, findings: Iterable[Finding]) -> dict[str, Any]:
    """A minimal record for a judge without an event log (selftests): enough for the failure message."""
    from harness.recording import text

    request, response = exchange.request, exchange.response
    return {"label": request.label, "request": {"method": request.method, "url": request.url,
                                                 "text": text.request_text(request)},
            "response": None if response is None else {"text": text.response_text(response)},
            "error": exchange.error, "curl": text.curl(request, None),
            "findings": [{**f.__dict__, "known_issue": None} for f in findings]}


class Conformance:
    """What a test uses: send a request to the target and fail the test on any contract violation."""

    def __init__(self, judge: Judge, client: ApiClient) -> None:
        self.judge = judge
        self.client = client
        self.contract = judge.contract

    def verify(self, exchange: Exchange, checks: Iterable[str] | None = None,
               extra: Iterable[Finding] = ()) -> Exchange:
        """Judge an exchange already sent (with `client.send`): run the checks, record it, fail on a violation.

        `checks` limits the checks to those named; `extra` adds findings the test
        itself made (e.g. a warning where the contract is silent).
        """
        self.judge.verify(exchange, checks=checks, extra=extra)
        return exchange

    def create(self, payload: Any, *, intent: Intent = "valid", label: str = "",
               checks: Iterable[str] | None = None) -> Exchange:
        """POST `payload` with the configured key, then `verify` the answer. `intent` says what answer is due."""
        return self.verify(self.client.create(payload, intent=intent, label=label), checks)

    def send(self, method: str = "POST", *, payload: Any = MISSING, body: bytes | None = None,
             content_type: str | None = "application/json", authorization: Any = USE_KEY,
             headers: dict[str, str] | None = None, intent: Intent = "unknown", label: str = "",
             checks: Iterable[str] | None = None) -> Exchange:
        """Send any request to the operation's path (see `ApiClient.send`), then `verify` the answer."""
        exchange = self.client.send(method, payload=payload, body=body, content_type=content_type,
                                    authorization=authorization, headers=headers, intent=intent, label=label)
        return self.verify(exchange, checks)
