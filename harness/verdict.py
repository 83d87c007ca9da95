"""Turn findings into a verdict: failures fail the test with a reproduction, warnings warn."""
from __future__ import annotations

import warnings

from contracts.checks.model import Finding
from harness import render
from harness.client import Exchange


class ConformanceWarning(UserWarning):
    """The server made a choice the contract is silent about; reported, not failed."""


class ConformanceFailure(AssertionError):
    """The server broke the contract (or HTTP); the message is a reproduction."""

    exchange: Exchange | None = None
    findings: list[Finding] = []


def describe(exchange: Exchange, findings: list[Finding], api_key: str | None) -> str:
    request = exchange.request
    failures = [f for f in findings if f.severity == "failure"]
    head = f"{len(failures)} contract violation(s)" if failures else f"{len(findings)} warning(s)"
    label = f" [{request.label}]" if request.label else ""
    lines = [f"{head} on {request.method} {request.url}{label}:"]
    lines += [f"  - {f.line()}" for f in findings]
    lines += ["", "request:", *("  " + line for line in render.request_text(request).splitlines())]
    if exchange.response is not None:
        lines += ["", "response:", *("  " + line for line in render.response_text(exchange.response).splitlines())]
    else:
        lines += ["", f"response: none ({exchange.error})"]
    lines += ["", "reproduce (reads the key from $BCTRL_API_KEY):", "  " + render.curl(request, api_key)]
    return render.redact.text("\n".join(lines))


def judge(exchange: Exchange, findings: list[Finding], api_key: str | None, *, strict_warnings: bool = False) -> None:
    """Raise ConformanceFailure on any failure (or any finding, with strict_warnings); warn otherwise."""
    failures = [f for f in findings if f.severity == "failure" or strict_warnings]
    if failures:
        failure = ConformanceFailure(describe(exchange, findings, api_key))
        # Kept for the plugin: known issues are matched on the findings, not on the message text.
        failure.exchange, failure.findings = exchange, list(findings)
        raise failure
    for finding in findings:
        warnings.warn(ConformanceWarning(render.redact.text(
            f"{finding.line()} [{exchange.request.label or exchange.request.method}]")), stacklevel=3)
