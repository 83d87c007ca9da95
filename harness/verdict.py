"""Turn findings into a verdict: failures fail the test with a reproduction, warnings warn."""
from __future__ import annotations

import warnings
from types import MappingProxyType
from typing import Any, Iterable, Mapping

from contracts.checks.model import Exchange, Finding


class ConformanceWarning(UserWarning):
    """The server made a choice the contract is silent about; reported, not failed."""


class ConformanceFailure(AssertionError):
    """The server broke the contract (or HTTP); the message is a reproduction.

    Built whole and read-only: the exchange it happened on, every finding of
    that exchange, and which of them a known issue covers (index -> issue id).
    """

    def __init__(self, message: str, *, exchange: Exchange | None, findings: Iterable[Finding],
                 known: Mapping[int, str] | None = None) -> None:
        super().__init__(message)
        self._exchange = exchange
        self._findings = tuple(findings)
        self._known = MappingProxyType(dict(known or {}))

    @property
    def exchange(self) -> Exchange | None:
        return self._exchange

    @property
    def findings(self) -> tuple[Finding, ...]:
        return self._findings

    @property
    def known(self) -> Mapping[int, str]:
        return self._known

    def failing(self, *, strict_warnings: bool = False) -> list[tuple[int, Finding]]:
        """The findings that fail the test (failures; every finding with strict warnings)."""
        return [(i, f) for i, f in enumerate(self._findings) if f.severity == "failure" or strict_warnings]

    def uncovered(self, *, strict_warnings: bool = False) -> list[Finding]:
        """Failing findings no known issue covers: what makes this a new failure."""
        return [f for i, f in self.failing(strict_warnings=strict_warnings) if i not in self._known]


FINDING_FIELDS = ("check", "severity", "pointer", "message", "expected", "got")


def recorded_findings(record: Mapping[str, Any]) -> list[Finding]:
    """The findings of an exchange record, as written (redacted)."""
    return [Finding(**{k: str(f.get(k, "")) for k in FINDING_FIELDS}) for f in record.get("findings") or []]


def describe(record: Mapping[str, Any]) -> str:
    """The reproduction: what failed, the redacted request and response, and a curl line, all from the record."""
    findings = recorded_findings(record)
    request, response = record.get("request") or {}, record.get("response")
    failures = [f for f in findings if f.severity == "failure"]
    head = f"{len(failures)} contract violation(s)" if failures else f"{len(findings)} warning(s)"
    label = f" [{record.get('label')}]" if record.get("label") else ""
    known = {i: f["known_issue"] for i, f in enumerate(record.get("findings") or []) if f.get("known_issue")}
    lines = [f"{head} on {request.get('method')} {request.get('url')}{label}:"]
    lines += [f"  - {f.line()}" + (f" (known issue {known[i]})" if i in known else "") for i, f in enumerate(findings)]
    lines += ["", "request:", *("  " + line for line in str(request.get("text", "")).splitlines())]
    if response is not None:
        lines += ["", "response:", *("  " + line for line in str(response.get("text", "")).splitlines())]
    else:
        lines += ["", f"response: none ({record.get('error')})"]
    lines += ["", "reproduce (reads the key from $BCTRL_API_KEY):", "  " + str(record.get("curl", ""))]
    return "\n".join(lines)


def judge(exchange: Exchange, findings: Iterable[Finding], record: Mapping[str, Any], *,
          known: Mapping[int, str] | None = None, strict_warnings: bool = False) -> None:
    """Raise ConformanceFailure on any failure (or any finding, with strict_warnings); warn otherwise.

    `record` is the exchange as recorded (redacted): every text shown is built from it.
    """
    findings = tuple(findings)
    if any(f.severity == "failure" or strict_warnings for f in findings):
        raise ConformanceFailure(describe(record), exchange=exchange, findings=findings, known=known)
    for finding in recorded_findings(record):
        warnings.warn(ConformanceWarning(f"{finding.line()} [{record.get('label') or exchange.request.method}]"),
                      stacklevel=3)
