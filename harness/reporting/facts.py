"""The run's facts, built once from the event log: the HTML summary, summary.json and the terminal show this.

Built by the controller only (never an xdist worker), after every worker has
closed its event file, so `pytest -n N` gives one summary of the whole run.
Nothing is re-derived here: outcomes come from `judgement` records, known
issue matches from the findings as recorded, texts from the exchange records
(already redacted when they were written).
"""
from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Iterable, Mapping

from contracts import Contract
from contracts.checks import REGISTRY
from harness import known_issues as known_issues_module
from harness.known_issues import KnownIssue
from harness.reporting import coverage, defects as defects_module

SCHEMA_VERSION = 3  # 3: distinct defects, warning groups, the verdict (and the trend when compared)
EXAMPLES_PER_GROUP = 3  # findings with the same check, pointer and message: show a few, count all
OUTCOMES = ("passed", "failed", "error", "skipped", "xfailed", "xpassed")


def outcomes(events: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """The final judgement of each test (a setup error or skip stands when no call phase ran)."""
    final: dict[str, dict[str, Any]] = {}
    for event in events:
        if event.get("kind") != "judgement":
            continue
        test = str(event.get("test", ""))
        if test not in final or final[test]["outcome"] not in ("failed", "error"):
            final[test] = dict(event)
    return final


def _findings(events: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Every finding with its exchange's reproduction (texts as recorded), and run-level findings."""
    found = []
    for event in events:
        if event.get("kind") == "finding":
            found.append({**event, "label": "", "intent": None, "request": "", "response": "", "curl": ""})
            continue
        if event.get("kind") != "exchange" or not event.get("findings"):
            continue
        request, response = event.get("request") or {}, event.get("response")
        for raw in event["findings"]:
            found.append({
                **raw, "test": event.get("test", ""), "label": event.get("label", ""), "intent": event.get("intent"),
                "request": request.get("text", ""), "response": response.get("text", "") if response else
                f"(no response: {event.get('error')})", "curl": event.get("curl", ""),
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
            group["examples"].append({k: f.get(k, "") for k in ("test", "label", "expected", "got", "request",
                                                                 "response", "curl")})
    order = {"failure": 0, "warning": 1}
    return {check: sorted(g.values(), key=lambda g: (order.get(g["severity"], 2), -g["count"], g["pointer"]))
            for check, g in sorted(groups.items())}


def _checks(events: list[Mapping[str, Any]], findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A verdict per check, counting only the exchanges it applied to ("not applicable" when none)."""
    exchanges = [e for e in events if e.get("kind") == "exchange" and e.get("response") is not None]
    names = list(REGISTRY) + sorted({f["check"] for f in findings} - set(REGISTRY))
    rows = []
    for name in names:
        mine = [f for f in findings if f["check"] == name]
        if name in REGISTRY:
            judged = sum(1 for e in exchanges if name in (e.get("checks") or ()))
        else:  # another tool's check (schemathesis), or transport: the exchanges of the tests it reported in
            tests = {f["test"] for f in mine}
            judged = sum(1 for e in exchanges if e.get("test") in tests)
        new_failures = sum(1 for f in mine if f["severity"] == "failure" and not f.get("known_issue"))
        known = sum(1 for f in mine if f["severity"] == "failure" and f.get("known_issue"))
        warnings = sum(1 for f in mine if f["severity"] == "warning")
        verdict = ("failed" if new_failures else "known-issue" if known else "warning" if warnings
                   else "passed" if judged else "not applicable")
        summary = REGISTRY[name].summary if name in REGISTRY else ""
        rows.append({"check": name, "summary": summary, "verdict": verdict, "judged": judged,
                     "failures": new_failures, "known_failures": known, "warnings": warnings})
    return rows


def _known_issues(issues: tuple[KnownIssue, ...], findings: list[dict[str, Any]], judged: Mapping[str, Any],
                  target: str) -> list[dict[str, Any]]:
    covering = Counter(f["known_issue"] for f in findings if f.get("known_issue"))
    status = known_issues_module.statuses(issues, tests_run=list(judged), covering=covering, target=target)
    rows = []
    for issue in issues:
        tests = {t: j["outcome"] for t, j in judged.items() if issue.id in (j.get("known_issues") or ())}
        rows.append({"id": issue.id, "check": issue.check, "reason": issue.reason, "ticket": issue.ticket,
                     "select": {"test": issue.test, "label": issue.label, "pointer": issue.pointer,
                                "payload": dict(issue.payload), "target": issue.target},
                     "status": status[issue.id], "findings_covered": covering.get(issue.id, 0), "tests": tests})
    return rows


def build(contract: Contract, events: list[Mapping[str, Any]], run: Mapping[str, Any],
          issues: tuple[KnownIssue, ...] = ()) -> dict[str, Any]:
    """Everything the summary says, as plain JSON-able data."""
    target_key = run.get("target", {}).get("base_url") or "embedded"
    findings = _findings(events)
    judged = outcomes(events)
    exchanges = [e for e in events if e.get("kind") == "exchange"]
    transport = [e for e in events if e.get("kind") == "transport"]
    throttled = [e for e in transport if e.get("event") == "throttled"]
    retries = [e for e in transport if e.get("event") == "retry"]
    created = [e for e in events if e.get("kind") == "created"]
    statuses = Counter(str((e.get("response") or {}).get("status", "no response")) for e in exchanges)
    new = [f for f in findings if not f.get("known_issue")]
    processes = [e for e in events if e.get("kind") == "process"]
    counted = Counter(j["outcome"] for j in judged.values())
    return {
        "schema_version": SCHEMA_VERSION,
        **dict(run),
        "contract": {"title": contract.title, "version": contract.version, "sha256": contract.sha256,
                     "source": contract.source, "operation": f"{contract.method.upper()} {contract.path}",
                     "errata": [{"id": e.id, "action": e.action, "target": e.target,
                                 "description": " ".join(e.description.split())} for e in contract.errata]},
        "tests": {k: counted.get(k, 0) for k in OUTCOMES},
        # Why deterministic tests were cut short (budget, throttling, target down): the run did not test them.
        # Generated (exploratory) tests get what is left of a budget: theirs are expected, listed apart.
        "cut_short": sorted({str(j["cut_short"]) for j in judged.values() if j.get("cut_short")
                             and not j.get("exploratory")}),
        "exploratory_cut_short": sorted({str(j["cut_short"]) for j in judged.values() if j.get("cut_short")
                                         and j.get("exploratory")}),
        # Every process (controller or xdist worker) that sent requests, with the run id and seed it used.
        "processes": [{k: p.get(k) for k in ("worker", "run_id", "seed")} for p in processes],
        "requests": {
            "exchanges": len(exchanges),
            # Every attempt on the wire: judged exchanges, 429s that were waited out, failed attempts retried.
            "sent": len(exchanges) + len(throttled) + len(retries),
            "throttled_429": len(throttled),
            "throttled_gave_up": sum(1 for t in throttled if t.get("gave_up")),
            "waited_seconds": round(sum(float(t.get("waited") or 0) for t in throttled + retries), 1),
            "connection_retries": len(retries),
            "budget_refusals": sum(1 for e in transport if e.get("event") == "budget_exhausted"),
            "by_status": dict(sorted(statuses.items())),
            "by_source": dict(sorted(Counter(str(e.get("source")) for e in exchanges).items())),
            "created_runtimes": len({c["id"] for c in created if c.get("id")}) + sum(1 for c in created
                                                                                    if not c.get("id")),
            "unreadable_event_lines": sum(1 for e in events if e.get("kind") == "unreadable"),
        },
        "checks": _checks(events, findings),
        "findings": {
            "failures": sum(1 for f in new if f["severity"] == "failure"),
            "warnings": sum(1 for f in new if f["severity"] == "warning"),
            "known": sum(1 for f in findings if f.get("known_issue")),
            # Exchanges with at least one failure no known issue covers (a request with two defects counts once).
            "failing_exchanges": sum(1 for e in exchanges if any(
                f.get("severity") == "failure" and not f.get("known_issue") for f in e.get("findings") or ())),
            "by_check": _group(new),
            "known_by_check": _group([f for f in findings if f.get("known_issue")]),
        },
        "known_issues": _known_issues(issues, findings, judged, target_key),
        "coverage": _coverage(coverage.matrix(contract, events)),
        # The verdict's unit: failures grouped into the bugs they are, and the warnings likewise, apart.
        "defects": defects_module.group(contract, events, "failure"),
        "warning_groups": defects_module.group(contract, events, "warning"),
    }


def _coverage(matrix: dict[str, Any]) -> dict[str, Any]:
    """The matrix, and its counts (computed here once, for every view)."""
    request = matrix["request"]
    enums = [c for c in request if c["kind"] == "enum"]
    branches = [c for c in request if c["kind"] == "branch"]
    return {**matrix, "counts": {
        "enum_values": len(enums), "enum_values_exercised": sum(1 for c in enums if c["requests"]),
        "branches": len(branches), "branches_exercised": sum(1 for c in branches if c["requests"]),
        "never_exercised": [f"{c['pointer']}={c['value']}" for c in request if c["status"] == "missing"],
    }}


def _count(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else plural or word + 's'}"


def _not_tested(data: Mapping[str, Any]) -> tuple[str, bool]:
    """What the run did not test, in words ("" when it tested everything it meant to), and whether only part.

    `not_tested` (the controller's): {reason, line, tests}; `tests` > 0 means some tests were cut short
    and the rest ran. Else the deterministic tests cut short (`cut_short`), else a run that judged nothing.
    """
    flag = data.get("not_tested")
    if flag:
        if isinstance(flag, Mapping):
            words = str(flag.get("line") or flag.get("reason") or "the run was stopped")
            return words, bool(flag.get("tests"))
        return (str(flag) if not isinstance(flag, bool) else "the run was stopped"), False
    cut = data.get("cut_short")
    if cut:
        reasons = [str(cut.get("reason") or cut)] if isinstance(cut, Mapping) else \
            [cut] if isinstance(cut, str) else [str(c) for c in cut]
        skipped = int((data.get("tests") or {}).get("skipped", 0))
        return f"{_count(skipped, 'test')} cut short: " + "; ".join(reasons), True
    tests = data.get("tests") or {}
    if not (data.get("requests") or {}).get("exchanges") and not tests.get("failed") and not tests.get("error"):
        return "no request was judged", False
    return "", False


def verdict(data: Mapping[str, Any]) -> dict[str, Any]:
    """The verdict every view leads with: state, tone (ok, warn, bad, untested) and its lines, first one first.

    Computed from the facts when a view is made, so what the controller adds
    after build() (`not_tested`, the trend) is in it. A run that did not test
    the server, or not all of it, is never shown as passing: a run stopped
    before testing leads with NOT TESTED; a partial one with its violations,
    if any, then what was not tested.
    """
    tests, findings = data.get("tests") or {}, data.get("findings") or {}
    found = [d for d in data.get("defects") or () if d.get("severity", "failure") == "failure"]
    warned = data.get("warning_groups") or []
    requests = (data.get("requests") or {}).get("exchanges", 0)
    failing = int(tests.get("failed", 0)) + int(tests.get("error", 0))
    affected = findings.get("failing_exchanges", sum(d["exchanges"] for d in found))
    lines: list[str] = []
    untested, partial = _not_tested(data)
    if untested and not partial:
        state, tone = "not-tested", "untested"
        lines.append(f"NOT TESTED: {untested}" + (f"; {_count(len(found), 'distinct defect')} in what was tested"
                                                 if found else ""))
    elif found:
        state, tone = "not-conforming", "bad"
        lines.append(f"NOT CONFORMING: {_count(len(found), 'distinct defect')} in {affected} of {requests} "
                     f"judged requests ({_count(failing, 'failing test')})")
    elif "defects" not in data and findings.get("failures"):  # a summary.json written before defects were
        state, tone = "not-conforming", "bad"
        lines.append(f"NOT CONFORMING: {_count(int(findings['failures']), 'contract violation')} in "
                     f"{_count(failing, 'failing test')}")
    elif failing:
        state, tone = "failed", "bad"
        lines.append(f"FAILED: {_count(failing, 'test')} failed without a recorded contract violation "
                     "(see the test table)")
    elif untested:
        state, tone = "not-tested", "untested"
        lines.append(f"NOT TESTED: {untested}; no contract violation in the {requests} judged requests")
    elif warned or findings.get("known"):
        state, tone = "conforms-with-warnings", "warn"
        parts = [f"{_count(len(warned), 'warning group')} ({_count(int(findings.get('warnings', 0)), 'warning')}) "
                 "where the contract is silent"] if warned else []
        if findings.get("known"):
            parts.append(f"{_count(int(findings['known']), 'finding')} covered by known issues")
        lines.append(f"CONFORMS in {requests} judged requests, with " + " and ".join(parts))
    else:
        state, tone = "conforms", "ok"
        lines.append(f"CONFORMS: no contract violation in {requests} judged requests")
    if untested and partial and state in ("not-conforming", "failed"):
        lines.append(f"NOT TESTED: {untested}")
    elif tests.get("skipped") and state in ("conforms", "conforms-with-warnings"):
        req = data.get("requests") or {}
        why = ", ".join(w for w, n in (("budget exhausted", req.get("budget_refusals")),
                                       ("throttled", req.get("throttled_gave_up"))) if n) or "see the test table"
        lines.append(f"{_count(int(tests['skipped']), 'test')} skipped, not tested ({why})")
        tone = "warn"
    if found and warned and state != "not-tested":
        lines[0] += f"; {_count(len(warned), 'warning group')}"
    trend = data.get("trend") or {}
    if trend.get("line"):
        lines.append(trend["line"])
    return {"state": state, "tone": tone, "lines": lines, "defects": len(found), "affected_requests": affected,
            "warning_groups": len(warned), "failing_tests": failing}


def write(summary: Mapping[str, Any], path: Path) -> None:
    """summary.json (its texts were redacted when the records were written), with the verdict as of now."""
    path.parent.mkdir(parents=True, exist_ok=True)
    plain = json.loads(json.dumps({**summary, "verdict": verdict(summary)}, default=str))
    path.write_text(json.dumps(plain, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
