"""Three views of one DriftReport: text (a terminal), json (a machine), markdown (a PR comment)."""
from __future__ import annotations

import json
from typing import Any

from contracts.drift.model import Change, DriftReport
from contracts.drift.rules import LEVELS, Rules

FORMATS = ("text", "json", "markdown")


def render(report: DriftReport, fmt: str) -> str:
    """The report in `fmt` (text | json | markdown), ending with a newline."""
    return {"text": text, "json": as_json, "markdown": markdown}[fmt](report)


def _pointer(change: Change) -> str:
    return change.subject if change.primary else f"{change.subject} [{change.where}]"


def _counts(report: DriftReport) -> str:
    return ", ".join(f"{report.count(level)} {level}" for level in LEVELS)


def _versions(report: DriftReport) -> str:
    errata = report.overlay_source or "none"
    return (f"OLD {report.old_source} ({report.old_version or 'no version'}) -> "
            f"NEW {report.new_source} ({report.new_version or 'no version'}), errata: {errata}")


def text(report: DriftReport) -> str:
    """One line per change, breaking first; then a summary line and one line per erratum."""
    rows = [(c.level.upper(), c.side, _pointer(c), c.kind, c.message) for c in report.changes]
    widths = [max((len(r[i]) for r in rows), default=0) for i in range(4)]
    lines = ["  ".join([*(cell.ljust(w) for cell, w in zip(row[:4], widths)), row[4]]) for row in rows]
    if not rows:
        lines.append(f"no changes to {report.operation}")
    lines += ["", f"{report.operation}: {len(report.changes)} changes: {_counts(report)}", _versions(report)]
    for erratum in report.errata:
        lines.append(f"erratum {erratum.number} {erratum.id}: {erratum.status} ({erratum.detail}) {erratum.target}")
    return "\n".join(lines) + "\n"


def as_json(report: DriftReport) -> str:
    """{"changes": [...], "summary": {...}, "errata": [...], plus where OLD and NEW came from}."""
    document: dict[str, Any] = {
        "operation": report.operation,
        "old": {"source": report.old_source, "version": report.old_version},
        "new": {"source": report.new_source, "version": report.new_version},
        "errata_overlay": report.overlay_source,
        "changes": [c.as_dict() for c in report.changes],
        "summary": report.summary(),
        "errata": [e.as_dict() for e in report.errata],
    }
    return json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n"


def _cell(value: Any) -> str:
    # A pipe ends a table cell and a newline ends the row, whatever the text says.
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _code(value: str) -> str:
    # Inside a code span a backslash is literal, so only the pipe is escaped (GitHub tables honour `\|`).
    escaped = value.replace("|", "\\|")
    return f"`{escaped}`" if value else ""


def markdown(report: DriftReport) -> str:
    """A PR comment: the summary, a table of changes (breaking first), a table of errata."""
    counts = ", ".join((f"**{report.count(level)} {level}**" if level == "breaking" and report.count(level)
                        else f"{report.count(level)} {level}") for level in LEVELS)
    lines = [f"### Contract drift: `{report.operation}`", "", _cell(_versions(report)), "", counts, ""]
    if report.changes:
        lines += ["| Level | Side | Pointer | Change | For clients | oasdiff |", "|---|---|---|---|---|---|"]
        for c in report.changes:
            level = f"**{c.level}**" if c.level == "breaking" else c.level
            rules = " ".join(_code(r) for r in c.rules)
            lines.append(f"| {level} | {c.side} | {_code(_pointer(c))} | {c.kind} | {_cell(c.message)} | {rules} |")
    else:
        lines.append("No changes to the operation.")
    if report.errata:
        lines += ["", "#### Errata carry-over", "", "| # | Erratum | Status | Target | Note |", "|---|---|---|---|---|"]
        for e in report.errata:
            status = f"**{e.status}**" if e.status != "still needed" else e.status
            lines.append(f"| {e.number} | {_cell(e.id)} | {status} | {_code(e.target)} | {_cell(e.detail)} |")
    return "\n".join(lines) + "\n"


def rules_table(rules: Rules) -> str:
    """The policy as a markdown table: our level beside oasdiff's, and why where they differ."""
    lines = ["| Change | Side | Level | oasdiff rule | oasdiff level | Why we differ |", "|---|---|---|---|---|---|"]
    for rule in rules:
        ids = " ".join(f"`{r}`" for r in rule.oasdiff) or "(none)"
        lines.append(f"| {rule.kind} | {rule.side} | {rule.level} | {ids} | {rule.oasdiff_level or 'same'} "
                     f"| {_cell(rule.why or '')} |")
    return "\n".join(lines) + "\n"
