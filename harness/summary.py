"""The run's facts, built once from the event log: the HTML summary and summary.json show this.

Built by the controller only (never an xdist worker), after every worker has
closed its event file, so `pytest -n N` gives one summary of the whole run.
"""
from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from contracts import Contract
from contracts.checks import REGISTRY, Finding
from harness import coverage, redact
from harness.known_issues import KnownIssue

SCHEMA_VERSION = 1
EXAMPLES_PER_GROUP = 3  # findings with the same check, pointer and message: show a few, count all


@dataclass
class Outcomes:
    """Final outcome per test, as the controller saw the reports (xdist forwards them)."""

    by_test: dict[str, str] = field(default_factory=dict)
    known: dict[str, tuple[str, str]] = field(default_factory=dict)  # test -> (issue ids, outcome)

    def add(self, report: Any) -> None:
        nodeid, when = report.nodeid, report.when
        xfail = hasattr(report, "wasxfail")
        if when == "call":
            self.by_test[nodeid] = ("xfailed" if report.skipped else "xpassed") if xfail else report.outcome
        elif report.failed:  # an error in setup or teardown
            self.by_test[nodeid] = "error"
        elif report.skipped and when == "setup":
            self.by_test[nodeid] = "xfailed" if xfail else "skipped"
        props = dict(getattr(report, "user_properties", ()) or ())
        if "known_issue" in props:
            self.known[nodeid] = (str(props["known_issue"]), str(props.get("known_issue_outcome", "")))

    def counts(self) -> dict[str, int]:
        counted = Counter(self.by_test.values())
        return {k: counted.get(k, 0) for k in ("passed", "failed", "error", "skipped", "xfailed", "xpassed")}


def _request_like(exchange: Mapping[str, Any]) -> Any:
    class _Sent:  # what KnownIssue.covers reads: the label and the (redacted) payload
        label = exchange.get("label") or ""
        payload = (exchange.get("request") or {}).get("payload")
    return _Sent()


def _known_for(issues: Iterable[KnownIssue], target: str, test: str) -> list[KnownIssue]:
    return [i for i in issues if i.applies_to(test, target)]


def _findings(events: list[Mapping[str, Any]], issues: tuple[KnownIssue, ...], target: str) -> list[dict[str, Any]]:
    """Every finding with its exchange's reproduction, tagged with the known issue that covers it."""
    found = []
    for event in events:
        if event.get("kind") != "exchange" or not event.get("findings"):
            continue
        request, response = event.get("request") or {}, event.get("response")
        applicable = _known_for(issues, target, event.get("test", ""))
        for raw in event["findings"]:
            finding = Finding(**{k: raw.get(k, "") for k in ("check", "severity", "pointer", "message", "expected", "got")})
            known = [i.id for i in applicable if i.covers(finding, _request_like(event))]
            found.append({
                **raw, "test": event.get("test", ""), "label": event.get("label", ""), "intent": event.get("intent"),
                "request": request.get("text", ""), "response": response.get("text", "") if response else
                f"(no response: {event.get('error')})", "curl": event.get("curl", ""),
                "known_issue": known[0] if known else None,
            })
    return found


def _group(findings: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, dict[tuple[str, str, str], dict[str, Any]]] = defaultdict(dict)
    for f in findings:
        key = (f["severity"], f["pointer"], f["message"])
        group = groups[f["check"]].setdefault(key, {
            "check": f["check"], "severity": f["severity"], "pointer": f["pointer"], "message": f["message"],
            "count": 0, "tests": [], "examples": []})
        group["count"] += 1
        if f["test"] not in group["tests"]:
            group["tests"].append(f["test"])
        if len(group["examples"]) < EXAMPLES_PER_GROUP:
            group["examples"].append({k: f[k] for k in ("test", "label", "expected", "got", "request", "response",
                                                         "curl")})
    order = {"failure": 0, "warning": 1}
    return {check: sorted(g.values(), key=lambda g: (order.get(g["severity"], 2), -g["count"], g["pointer"]))
            for check, g in sorted(groups.items())}


def _checks(events: list[Mapping[str, Any]], findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    exchanges = [e for e in events if e.get("kind") == "exchange" and e.get("response") is not None]
    names = list(REGISTRY) + sorted({f["check"] for f in findings} - set(REGISTRY))
    rows = []
    for name in names:
        mine = [f for f in findings if f["check"] == name]
        if name in REGISTRY:
            # A record may say which checks ran on it (a test can pick a subset); if it does not, all did.
            judged = sum(1 for e in exchanges if not e.get("checks") or name in e["checks"])
        else:  # another tool's check (schemathesis): judged the exchanges of the tests it reported in
            tests = {f["test"] for f in mine}
            judged = sum(1 for e in exchanges if e.get("test") in tests)
        new_failures = sum(1 for f in mine if f["severity"] == "failure" and not f["known_issue"])
        known = sum(1 for f in mine if f["severity"] == "failure" and f["known_issue"])
        warnings = sum(1 for f in mine if f["severity"] == "warning")
        verdict = ("failed" if new_failures else "known-issue" if known else "warning" if warnings
                   else "passed" if judged else "not run")
        summary = REGISTRY[name].summary if name in REGISTRY else ""
        rows.append({"check": name, "summary": summary, "verdict": verdict, "judged": judged,
                     "failures": new_failures, "known_failures": known, "warnings": warnings})
    return rows


def _known_issues(issues: tuple[KnownIssue, ...], outcomes: Outcomes, target: str) -> list[dict[str, Any]]:
    rows = []
    for issue in issues:
        tests = {t: o for t, (ids, o) in outcomes.known.items() if issue.id in ids.split(",")}
        if issue.target is not None and not issue.applies_to(issue.test, target) and not tests:
            status = "other target"
        elif not tests:
            status = "not run"
        elif any(o == "stale" for o in tests.values()) and not any(o == "xfailed" for o in tests.values()):
            status = "stale"
        elif any(o == "xfailed" for o in tests.values()):
            status = "still failing"
        else:
            status = "new failures beside it"
        rows.append({"id": issue.id, "check": issue.check, "reason": issue.reason, "ticket": issue.ticket,
                     "select": {"test": issue.test, "label": issue.label, "pointer": issue.pointer,
                                "payload": dict(issue.payload), "target": issue.target},
                     "status": status, "tests": tests})
    return rows


def build(contract: Contract, events: list[Mapping[str, Any]], outcomes: Outcomes, run: Mapping[str, Any],
          issues: tuple[KnownIssue, ...] = ()) -> dict[str, Any]:
    """Everything the summary says, as plain JSON-able data."""
    target_key = run.get("target", {}).get("base_url") or "embedded"
    findings = _findings(events, issues, target_key)
    exchanges = [e for e in events if e.get("kind") == "exchange"]
    throttled = [e for e in events if e.get("kind") == "throttled"]
    retries = [e for e in events if e.get("kind") == "retry"]
    created = [e for e in events if e.get("kind") == "created"]
    statuses = Counter(str((e.get("response") or {}).get("status", "no response")) for e in exchanges)
    new = [f for f in findings if not f["known_issue"]]
    processes = [e for e in events if e.get("kind") == "process"]
    return {
        "schema_version": SCHEMA_VERSION,
        **dict(run),
        "contract": {"title": contract.title, "version": contract.version, "sha256": contract.sha256,
                     "source": contract.source, "operation": f"{contract.method.upper()} {contract.path}",
                     "errata": [{"id": e.id, "action": e.action, "target": e.target,
                                 "description": " ".join(e.description.split())} for e in contract.errata]},
        "tests": outcomes.counts(),
        # Every process (controller or xdist worker) that sent requests, with the run id and seed it used.
        "processes": [{k: p.get(k) for k in ("worker", "run_id", "seed")} for p in processes],
        "requests": {
            "exchanges": len(exchanges),
            # Every attempt on the wire: judged exchanges, 429s that were waited out, failed attempts retried.
            "sent": len(exchanges) + sum(1 for t in throttled) + len(retries),
            "throttled_429": len(throttled),
            "throttled_gave_up": sum(1 for t in throttled if t.get("gave_up")),
            "waited_seconds": round(sum(float(t.get("waited") or 0) for t in throttled + retries), 1),
            "connection_retries": len(retries),
            "budget_refusals": sum(1 for e in events if e.get("kind") == "budget_exhausted"),
            "by_status": dict(sorted(statuses.items())),
            "created_runtimes": len({c["id"] for c in created}),
            "unreadable_event_lines": sum(1 for e in events if e.get("kind") == "unreadable"),
        },
        "checks": _checks(events, findings),
        "findings": {
            "failures": sum(1 for f in new if f["severity"] == "failure"),
            "warnings": sum(1 for f in new if f["severity"] == "warning"),
            "known": sum(1 for f in findings if f["known_issue"]),
            "by_check": _group(new),
            "known_by_check": _group([f for f in findings if f["known_issue"]]),
        },
        "known_issues": _known_issues(issues, outcomes, target_key),
        "coverage": coverage.matrix(contract, events),
    }


def write(summary: Mapping[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    plain = json.loads(json.dumps(summary, default=str))
    path.write_text(json.dumps(redact.scrub(plain), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
