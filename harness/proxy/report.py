"""The views of a run judged outside pytest: summary.json, a standalone HTML page, JUnit XML.

pytest-html and pytest's junitxml are not involved when the proxy (or any
other traffic source run on its own) judges exchanges, so this module writes
the same views from the same records: `reporting.build()` makes the facts,
`reporting.render()` the conformance section, wrapped here in a small
self-contained page (inline CSS, no scripts) with a table of every judged
exchange; the JUnit file has one testcase per exchange, its failure text the
reproduction (`harness.verdict.describe`) as recorded. Every text comes from
the event log, redacted when it was written: nothing here sees a credential.
"""
from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET
from html import escape
from pathlib import Path
from typing import Any, Iterable, Mapping

from contracts import Contract
from harness import reporting
from harness.known_issues import KnownIssue
from harness.recording import read_events
from harness.verdict import describe

PAGE_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:16px 24px;color:#222;background:#fff}
h1{font-size:22px;margin:0 0 6px}
#results h2{font-size:18px;margin:22px 0 8px;border-bottom:2px solid #ddd;padding-bottom:3px}
#results table{border-collapse:collapse;font-size:13px}
#results th,#results td{border:1px solid #ddd;padding:3px 7px;text-align:left;vertical-align:top}
#results th{background:#f3f3f3}
#results td{overflow-wrap:anywhere}
#results code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}
#results .o-failed,#results .o-error{color:#c62828;font-weight:bold}
#results .o-passed{color:#2e7d32}#results .o-xfailed,#results .o-skipped{color:#ef6c00}
"""
# Rows of the conformance section that describe a pytest run's generation, not traffic.
_GENERATED_ONLY_ROWS = re.compile(r"<tr><td><b>(?:Hypothesis|Created runtimes)</b></td>.*?</tr>", re.DOTALL)
# XML 1.0 allows neither these characters nor lone surrogates, escaped or not.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _e(value: Any) -> str:
    return escape("" if value is None else str(value))


def _xml(text: Any) -> str:
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", "" if text is None else str(text))


def _judged(events: Iterable[Mapping[str, Any]]) -> list[tuple[Mapping[str, Any], Mapping[str, Any] | None]]:
    """Every judgement record, in order, with the exchange record of the same test (None: not judged)."""
    exchanges: dict[str, Mapping[str, Any]] = {}
    judgements: list[Mapping[str, Any]] = []
    for event in events:
        if event.get("kind") == "exchange":
            exchanges.setdefault(str(event.get("test", "")), event)
        elif event.get("kind") == "judgement":
            judgements.append(event)
    return [(j, exchanges.get(str(j.get("test", "")))) for j in judgements]


def _findings_text(record: Mapping[str, Any] | None, severity: str) -> str:
    found = [f for f in (record or {}).get("findings") or () if f.get("severity") == severity]
    return ", ".join(sorted({str(f.get("check")) for f in found}))


def results_table(events: Iterable[Mapping[str, Any]]) -> str:
    """Every exchange of the run: its id, outcome, intent, status and the checks that failed or warned."""
    rows = []
    for judgement, record in _judged(events):
        outcome = str(judgement.get("outcome", ""))
        response = (record or {}).get("response")
        status = response.get("status") if response else ("no answer" if record else "-")
        detail = judgement.get("reason") or ""
        if record is not None:
            failing, warned = _findings_text(record, "failure"), _findings_text(record, "warning")
            detail = "; ".join(x for x in (f"failed: {failing}" if failing else "", f"warned: {warned}" if warned
                                           else "", ", ".join(judgement.get("known_issues") or ())) if x)
        # The row's id is the test's, as pytest-html's: the conformance section links each defect's tests to it.
        rows.append(f"<tr id=\"{_e(judgement.get('test'))}\"><td><code>{_e(judgement.get('test'))}</code></td>"
                    f"<td class=\"o-{_e(outcome)}\">"
                    f"{_e(outcome)}</td><td>{_e((record or {}).get('intent', '-'))}</td><td>{_e(status)}</td>"
                    f"<td>{_e(detail)}</td></tr>")
    body = "".join(rows) or '<tr><td colspan="5">No exchange on the operation\'s path.</td></tr>'
    return ('<section id="results"><h2>Exchanges</h2><table id="results-table"><thead><tr><th>exchange</th>'
            "<th>outcome</th><th>intent</th><th>status</th><th>checks</th></tr></thead><tbody>"
            f"{body}</tbody></table></section>")


def page(data: Mapping[str, Any], events: Iterable[Mapping[str, Any]], title: str) -> str:
    """A whole, self-contained HTML page: the conformance section and the exchanges table."""
    section = _GENERATED_ONLY_ROWS.sub("", reporting.render(data, pytest_html=False))
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>'
            f"<style>{PAGE_CSS}</style></head><body><h1>{_e(title)}</h1>{section}{results_table(events)}"
            "</body></html>\n")


def junit(events: Iterable[Mapping[str, Any]], *, suite: str = "bctrl-conformance") -> bytes:
    """JUnit XML: one testcase per exchange; a failure carries the reproduction, as recorded."""
    cases = []
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    total = 0.0
    for judgement, record in _judged(events):
        test = str(judgement.get("test", ""))
        classname, _, name = test.partition("::")
        response = (record or {}).get("response") or {}
        elapsed = float(response.get("elapsed") or 0.0)
        total += elapsed
        case = ET.Element("testcase", classname=_xml(classname), name=_xml(name or test), time=f"{elapsed:.3f}")
        outcome = judgement.get("outcome")
        counts["tests"] += 1
        if outcome == "failed" and record is not None:
            counts["failures"] += 1
            failing = _findings_text(record, "failure")
            failure = ET.SubElement(case, "failure", message=_xml(f"contract violation: {failing}"),
                                    type="ConformanceFailure")
            failure.text = _xml(describe(record))
        elif outcome in ("error", "failed"):
            counts["errors"] += 1
            ET.SubElement(case, "error", message=_xml(judgement.get("reason") or "not judged")).text = _xml(
                judgement.get("reason") or "")
        elif outcome == "xfailed":
            counts["skipped"] += 1
            ET.SubElement(case, "skipped", type="xfail",
                          message=_xml("known issue " + ", ".join(judgement.get("known_issues") or ())))
        elif outcome == "skipped":
            counts["skipped"] += 1
            ET.SubElement(case, "skipped", message=_xml(judgement.get("reason") or "not judged"))
        warned = [f for f in (record or {}).get("findings") or () if f.get("severity") == "warning"]
        if warned and outcome != "failed":
            out = ET.SubElement(case, "system-out")
            out.text = _xml("\n".join(f"[warning] {f.get('check')} at {f.get('pointer') or '(whole response)'}: "
                                      f"{f.get('message')}" for f in warned))
        cases.append(case)
    root = ET.Element("testsuites")
    suite_element = ET.SubElement(root, "testsuite", name=suite, time=f"{total:.3f}",
                                  timestamp=time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()),
                                  **{k: str(v) for k, v in counts.items()})
    suite_element.extend(cases)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def write_views(contract: Contract, reports_dir: Path, facts: Mapping[str, Any], known: tuple[KnownIssue, ...] = (),
                *, title: str = "bctrl conformance") -> tuple[dict[str, Any], list[Path]]:
    """Read the run's event log (`reports_dir/.events`), write summary.json, conformance.html and junit.xml."""
    events = list(read_events(reports_dir / ".events"))
    data = reporting.build(contract, events, facts, known)
    written = [reports_dir / "summary.json", reports_dir / "conformance.html", reports_dir / "junit.xml"]
    reporting.write(data, written[0])
    written[1].write_text(page(data, events, title), encoding="utf-8")
    written[2].write_bytes(junit(events, suite=title))
    return data, written
