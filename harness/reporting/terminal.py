"""The run's facts as the few lines that end the terminal output (and a CI job page)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping


def terminal_lines(data: Mapping[str, Any], written: list[Path]) -> list[str]:
    req, counts = data["requests"], data["coverage"]["counts"]
    lines = ["", "=" * 30 + " bctrl conformance " + "=" * 30]
    target = data["target"]["base_url"] or "embedded reference mock"
    lines.append(f"target {target}; {req['sent']} requests sent ({req['exchanges']} judged, {req['throttled_429']} "
                 f"answered 429 and retried, {req['connection_retries']} connection retries, "
                 f"{req['budget_refusals']} refused by the budget)")
    verdicts = []
    for c in data["checks"]:
        extra = f" {c['failures']}" if c["failures"] else f" {c['warnings']}" if c["verdict"] == "warning" else ""
        verdicts.append(f"{c['check']} {c['verdict'].upper() if c['verdict'] == 'failed' else c['verdict']}{extra}")
    lines.append("checks: " + ", ".join(verdicts))
    missing = counts["never_exercised"]
    lines.append(f"coverage: {counts['enum_values_exercised']}/{counts['enum_values']} request enum values, "
                 f"{counts['branches_exercised']}/{counts['branches']} oneOf branches"
                 + (f"; never exercised: {', '.join(missing[:8])}{' ...' if len(missing) > 8 else ''}" if missing else ""))
    if data.get("cut_short"):
        lines.append(f"NOT TESTED: {data['tests']['skipped']} test(s) cut short: " + "; ".join(data["cut_short"]))
    for issue in data["known_issues"]:
        lines.append(f"known issue {issue['id']} ({issue['check']}): {issue['status']} - {issue['ticket']}")
    if "cleanup" in data:
        lines.append(f"cleanup: {data['cleanup']['succeeded']}/{data['cleanup']['attempted']} runtimes removed "
                     f"with '{data['cleanup']['template']}'")
    if written:
        lines.append("wrote " + ", ".join(str(p) for p in written))
    return lines
