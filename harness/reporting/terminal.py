"""The run's facts as the few lines that end the terminal output (and a CI job page).

The verdict first (facts.verdict(), the words the HTML banner uses), one line
per distinct defect, then the per-check and coverage lines. Short on purpose:
the HTML report has the examples; pytest's own failure output stays above.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from harness.reporting.facts import verdict

DEFECT_LINES = 8  # then "... and N more"
WARNING_LINES = 3
TITLE = 110


def _short(text: str, limit: int = TITLE) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def defect_line(d: Mapping[str, Any]) -> str:
    """`[check] pointer: title (k requests, t tests; only when ...)`, the trend first when compared."""
    counts = "about the run" if d.get("run_level") else f"{d['exchanges']} request{'s' * (d['exchanges'] != 1)}, " \
        f"{d['tests']} test{'s' * (d['tests'] != 1)}"
    when = f"; {d['only_when']}" if d.get("only_when") else \
        f"; isolated to {' or '.join(d['isolated_to'])}" if d.get("isolated_to") else ""
    trend = f"{d['trend'].upper()} " if d.get("trend") else ""
    return (f"  {d['id']} {trend}[{', '.join(d['checks'])}] {d['pointer'] or '(whole response)'}: "
            f"{_short(d['title'])} ({counts}{when})")


def _listed(items: list[Mapping[str, Any]], cap: int) -> list[str]:
    lines = [defect_line(d) for d in items[:cap]]
    if len(items) > cap:
        lines.append(f"  ... and {len(items) - cap} more (see the HTML report or summary.json)")
    return lines


def terminal_lines(data: Mapping[str, Any], written: list[Path]) -> list[str]:
    req, counts = data["requests"], data["coverage"]["counts"]
    lines = ["", "=" * 30 + " bctrl conformance " + "=" * 30]
    v = verdict(data)
    lines.append(v["lines"][0])
    lines += _listed(list(data.get("defects") or []), DEFECT_LINES)
    lines += v["lines"][1:]
    for fixed in (data.get("trend") or {}).get("fixed") or ():
        lines.append(f"  FIXED [{', '.join(fixed.get('checks') or [str(fixed.get('check'))])}] "
                     f"{fixed.get('pointer') or '(whole response)'}: "
                     f"{_short(str(fixed.get('title') or ''))}")
    drift = data.get("drift")
    if drift:
        from harness.reporting.html import drift_line

        lines.append(f"contract drift: {drift_line(drift)}")
        for p in drift["probes"]:
            if p["verdict"] == "not implemented":
                lines.append(f"  NOT IMPLEMENTED {p['subject']} ({p['kind']}): {_short(p['reason'])}")
    warnings = list(data.get("warning_groups") or [])
    if warnings:
        lines.append(f"{len(warnings)} warning group(s), where the contract is silent:")
        lines += _listed(warnings, WARNING_LINES)
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
    for issue in data["known_issues"]:
        lines.append(f"known issue {issue['id']} ({issue['check']}): {issue['status']} - {issue['ticket']}")
    if "cleanup" in data:
        lines.append(f"cleanup: {data['cleanup']['succeeded']}/{data['cleanup']['attempted']} runtimes removed "
                     f"with '{data['cleanup']['template']}'")
    if written:
        lines.append("wrote " + ", ".join(str(p) for p in written))
    return lines
