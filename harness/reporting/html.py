"""The conformance summary as HTML for the top of the pytest-html report.

A view of summary.build()'s data only: no fact is computed here, so the HTML
and summary.json cannot disagree. Self-contained (inline CSS, no scripts, no
external resources); every value is scrubbed of secrets and then escaped.
"""
from __future__ import annotations

from html import escape
from typing import Any, Iterable, Mapping


CSS = """
#conformance{color:#222;font-size:13px;line-height:1.4;max-width:1400px;margin-bottom:24px}
#conformance h2{font-size:18px;margin:22px 0 8px;border-bottom:2px solid #ddd;padding-bottom:3px}
#conformance h3{font-size:14px;margin:14px 0 6px;color:#222}
#conformance p,#conformance li{color:#222}
#conformance table{border-collapse:collapse;margin:4px 0 10px}
#conformance th,#conformance td{border:1px solid #ddd;padding:3px 7px;text-align:left;vertical-align:top}
#conformance th{background:#f3f3f3}
#conformance .facts th{width:190px}
#conformance code,#conformance pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}
#conformance pre{background:#f7f7f7;border:1px solid #e3e3e3;padding:6px 8px;white-space:pre-wrap;
  word-break:break-all;margin:4px 0;max-height:320px;overflow:auto;color:#222}
#conformance .banner{font-size:16px;font-weight:bold;padding:8px 12px;border-radius:4px;margin:6px 0 10px;color:#fff}
#conformance .banner.ok{background:#2e7d32}#conformance .banner.bad{background:#c62828}
#conformance .banner.warn{background:#ef6c00}
#conformance .verdict{font-weight:bold;padding:1px 6px;border-radius:3px;color:#fff;white-space:nowrap}
#conformance .v-passed,#conformance .c-covered{background:#2e7d32}
#conformance .v-failed,#conformance .c-failed,#conformance .c-undocumented{background:#c62828}
#conformance .v-warning,#conformance .v-known-issue,#conformance .c-invalid-only{background:#ef6c00}
#conformance .v-not-applicable,#conformance .c-missing{background:#757575}
#conformance .chips{display:flex;flex-wrap:wrap;gap:3px}
#conformance .chip{display:inline-block;border-radius:3px;padding:1px 5px;color:#fff;font-size:12px;white-space:nowrap}
#conformance .chip b{font-weight:normal;opacity:.85;margin-left:3px}
#conformance .cond{color:#666;font-size:11px}
#conformance .legend .chip{margin-right:6px}
#conformance details{margin:4px 0 8px;border-left:3px solid #ddd;padding-left:8px}
#conformance details.failure{border-left-color:#c62828}#conformance details.warning{border-left-color:#ef6c00}
#conformance summary{cursor:pointer;color:#222}
#conformance .muted{color:#666}
#conformance nav a{color:#1565c0;margin-right:12px}
#conformance a{color:#1565c0}
#conformance .nowrap{white-space:nowrap}
#conformance .ki{font-weight:bold;white-space:nowrap}
#conformance .ki-stale,#conformance .ki-new{color:#c62828}#conformance .ki-still{color:#ef6c00}
#conformance .ki-not,#conformance .ki-other{color:#757575}
"""

VERDICT_WORDS = {"passed": "passed", "failed": "failed", "warning": "warning", "known-issue": "known issue",
                 "not applicable": "not applicable"}
CELL_WORDS = {"covered": "exercised", "failed": "exercised, some failed", "invalid-only": "only in invalid requests",
              "missing": "never exercised", "undocumented": "value outside the enum"}


def _e(value: Any) -> str:
    return escape("" if value is None else str(value))


def _table(head: Iterable[str], rows: Iterable[Iterable[str]], cls: str = "", ident: str = "") -> str:
    attrs = (f' class="{cls}"' if cls else "") + (f' id="{ident}"' if ident else "")
    out = [f"<table{attrs}><thead><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr></thead><tbody>"]
    out += ["<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows]
    return "".join(out) + "</tbody></table>"


def _banner(s: Mapping[str, Any]) -> str:
    tests, findings = s["tests"], s["findings"]
    bad = tests["failed"] + tests["error"]
    if bad:
        text, cls = (f"Not conforming: {findings['failures']} contract violation(s) in {bad} failing test(s)"
                     if findings["failures"] else f"{bad} test(s) failed"), "bad"
    elif findings["warnings"] or findings["known"]:
        text, cls = (f"Conforms, with {findings['warnings']} warning(s) where the contract is silent"
                     + (f" and {findings['known']} known issue finding(s)" if findings["known"] else "")), "warn"
    else:
        text, cls = "Conforms: no contract violation found", "ok"
    req = s["requests"]
    if tests["skipped"]:
        # A green banner must not hide what was not tested: budget, throttling, a target gone down.
        why = ", ".join(w for w, n in (("budget exhausted", req["budget_refusals"]),
                                       ("throttled", req["throttled_gave_up"])) if n) or "see the test table"
        text += f"; {tests['skipped']} test(s) skipped, not tested ({why})"
        cls = "warn" if cls == "ok" else cls
    return f'<div class="banner {cls}" id="conformance-verdict">{_e(text)}</div>'


def _facts(s: Mapping[str, Any]) -> str:
    target, contract, run, req, tests = s["target"], s["contract"], s, s["requests"], s["tests"]
    limits = s.get("politeness", {})
    rows = [
        ("Target", f"{_e(target['description'])}" + (f" <code>{_e(target['base_url'])}</code>" if target.get("base_url") else "")),
        ("Contract", f"{_e(contract['title'])} {_e(contract['version'])}, <code>{_e(contract['operation'])}</code><br>"
                     f"<span class='muted'>sha256</span> <code>{_e(contract['sha256'])}</code>"),
        ("Errata applied", f"{len(contract['errata'])} overlay action(s): "
                           + ", ".join(sorted({_e(e['id']) for e in contract['errata']})) + " (see below)"),
        ("Run", f"id <code>{_e(run['run_id'])}</code>, started {_e(run['started'])}, took {run['duration_seconds']:.1f} s"
                + (f", {run['workers']} xdist workers" if run.get("workers") else "")),
        ("Hypothesis", f"profile <code>{_e(run['hypothesis_profile'])}</code>, seed <code>{_e(run['seed'])}</code> "
                       f"(replay: <code>pytest --hypothesis-seed={_e(run['seed'])}</code>); schemathesis coverage "
                       f"phase: {_e(' and '.join(run.get('schemathesis_coverage_modes') or ['no']))} cases"
                       + ("" if "negative" in (run.get("schemathesis_coverage_modes") or [])
                          else " (its negative ones in the nightly profile; the invalid catalogue stands for them)")),
        ("Requests sent", f"<b>{req['sent']}</b> ({req['exchanges']} judged; {req['throttled_429']} answered 429 and "
                          f"were retried after waiting {req['waited_seconds']:g} s in all"
                          + (f", {req['throttled_gave_up']} given up" if req["throttled_gave_up"] else "")
                          + f"; {req['connection_retries']} connection retries)"),
        ("Status codes", ", ".join(f"{_e(k)}: {v}" for k, v in req["by_status"].items()) or "none"),
        ("Politeness", (f"budget {limits['max_creates']} creates" if limits.get("max_creates") else "no budget")
                       + f" ({limits.get('creates_used', 0)} used, {req['budget_refusals']} refused); "
                       + (f"at most {limits['rate_limit']:g} requests/s" if limits.get("rate_limit") else "unpaced")
                       + f"; timeout {_e(limits.get('timeout'))} s"),
        ("Tests", ", ".join(f"{v} {k}" for k, v in tests.items() if v) or "none"),
    ]
    if target.get("base_url") and not target.get("embedded"):
        rows.append(("Created runtimes", f"{req['created_runtimes']} (names start <code>{_e(run['name_prefix'])}</code>;"
                                         " listed in created-runtimes.json)"))
    return _table(["", ""], ((f"<b>{k}</b>", v) for k, v in rows), "facts", "conformance-facts").replace(
        "<thead><tr><th></th><th></th></tr></thead>", "")


def _checks(s: Mapping[str, Any]) -> str:
    rows = []
    for c in s["checks"]:
        verdict = f'<span class="verdict v-{c["verdict"].replace(" ", "-")}">{VERDICT_WORDS.get(c["verdict"], c["verdict"])}</span>'
        link = f'<a href="#findings-{_e(c["check"])}">{c["failures"]}</a>' if c["failures"] else "0"
        rows.append((f"<code>{_e(c['check'])}</code>", _e(c["summary"]), verdict, str(c["judged"]), link,
                     str(c["warnings"]), str(c["known_failures"])))
    return _table(["check", "what it verifies", "verdict", "responses judged", "failures", "warnings",
                   "known issues"], rows, ident="conformance-checks")


def _chip(cell: Mapping[str, Any]) -> str:
    if cell["side"] == "response":
        words = "not observed (the server's choice)" if cell["status"] == "missing" else CELL_WORDS[cell["status"]]
        title = f"{cell['requests']} response(s), {cell['failed']} with failures: {words}"
    else:
        title = (f"{cell['requests']} request(s), {cell.get('valid', 0)} meant valid, {cell['failed']} failed: "
                 f"{CELL_WORDS[cell['status']]}")
    failed = f", {cell['failed']}&#x2717;" if cell["failed"] else ""
    return (f'<span class="chip c-{cell["status"]}" title="{_e(title)}">{_e(cell["value"])}'
            f'<b>{cell["requests"]}{failed}</b></span>')


def _matrix(cells: list[Mapping[str, Any]], ident: str) -> str:
    rows: dict[tuple[str, str, tuple[str, ...]], list[Mapping[str, Any]]] = {}
    for cell in cells:
        rows.setdefault((cell["kind"], cell["pointer"], tuple(cell["conditions"])), []).append(cell)
    out = []
    for (kind, pointer, conditions), row in rows.items():
        where = f"<code>{_e(pointer)}</code>"
        if conditions:
            where += f'<br><span class="cond">when {_e(" and ".join(conditions))}</span>'
        label = "oneOf branch" if kind == "branch" else "enum"
        done = sum(1 for c in row if c["requests"] and c["status"] != "undocumented")
        documented = sum(1 for c in row if c["status"] != "undocumented")
        out.append((where, label, f"{done}/{documented}", '<div class="chips">' + "".join(_chip(c) for c in row) + "</div>"))
    return _table(["field", "kind", "exercised", "values / branches (requests, failures)"], out, "matrix", ident)


def _coverage(s: Mapping[str, Any]) -> str:
    cov = s["coverage"]
    counts = cov["counts"]
    line = (f"Request: {counts['enum_values_exercised']}/{counts['enum_values']} enum values and "
            f"{counts['branches_exercised']}/{counts['branches']} oneOf branches exercised.")
    if counts["never_exercised"]:
        line += " <b>Never exercised:</b> " + ", ".join(f"<code>{_e(c)}</code>" for c in counts["never_exercised"]) + "."
    legend = '<p class="legend">' + "".join(
        f'<span class="chip c-{k}">{_e(w)}</span>' for k, w in CELL_WORDS.items()) + "</p>"
    statuses = _table(["status", "responses", "with failures"],
                      ((_e(r["status"]), str(r["responses"]), str(r["failed"])) for r in cov["statuses"]),
                      ident="conformance-statuses")
    undocumented = [c for c in cov["response"] if c["status"] == "undocumented"]
    response_line = ("Response values outside their enum: " + ", ".join(
        f"<code>{_e(c['pointer'])}={_e(c['value'])}</code> ({c['requests']})" for c in undocumented) + "."
        if undocumented else "Every response enum value seen is documented.")
    return (f'<section id="coverage"><h2>Coverage matrix</h2><p>{line}</p>{legend}'
            f'<h3>Request (what the suite sent)</h3>{_matrix(cov["request"], "coverage-matrix")}'
            f'<h3>Response (what 200 bodies contained)</h3><p>{response_line} Grey: never observed, '
            "which is the server's choice, not a gap in the suite.</p>"
            f'{_matrix(cov["response"], "coverage-matrix-response")}'
            f"<h3>Status codes received</h3>{statuses}</section>")


def _group(group: Mapping[str, Any]) -> str:
    examples = []
    for n, ex in enumerate(group["examples"], 1):
        examples.append(
            f"<p><b>Example {n}</b> <span class='muted'>{_e(ex['test'])}"
            + (f" [{_e(ex['label'])}]" if ex.get("label") else "") + "</span><br>"
            f"expected <code>{_e(ex['expected'] or '-')}</code>, got <code>{_e(ex['got'] or '-')}</code></p>"
            f"<pre class='request'>{_e(ex['request'])}</pre><pre class='response'>{_e(ex['response'])}</pre>"
            f"<p>Reproduce (reads the key from <code>$BCTRL_API_KEY</code>):</p><pre class='curl'>{_e(ex['curl'])}</pre>")
    more = f" in {len(group['tests'])} test(s)" if len(group["tests"]) > 1 else ""
    tests = "".join(f"<li><code>{_e(t)}</code></li>" for t in group["tests"][:20])
    if len(group["tests"]) > 20:
        tests += f"<li>... and {len(group['tests']) - 20} more</li>"
    opened = " open" if group["severity"] == "failure" else ""
    return (f'<details class="{_e(group["severity"])}"{opened}><summary><b>[{_e(group["severity"])}]</b> '
            f"<code>{_e(group['pointer'] or '(whole response)')}</code>: {_e(group['message'])} "
            f"<span class='muted'>({group['count']} time(s){more})</span></summary>"
            f"<ul>{tests}</ul>{''.join(examples)}</details>")


def _findings(by_check: Mapping[str, list[Mapping[str, Any]]], title: str, ident: str, empty: str) -> str:
    if not by_check:
        return f'<section id="{ident}"><h2>{title}</h2><p>{empty}</p></section>'
    out = [f'<section id="{ident}"><h2>{title}</h2>']
    for check, groups in by_check.items():
        count = sum(g["count"] for g in groups)
        out.append(f'<h3 id="{ident}-{_e(check)}"><code>{_e(check)}</code> ({count})</h3>')
        out += [_group(g) for g in groups]
    return "".join(out) + "</section>"


def _known(s: Mapping[str, Any]) -> str:
    rows = []
    for k in s["known_issues"]:
        tests = "<br>".join(f"<code>{_e(t)}</code>: {_e(o)}" for t, o in k["tests"].items()) or "-"
        status = f'<span class="ki ki-{_e(k["status"].split()[0])}">{_e(k["status"])}</span>'
        rows.append((f'<span class="nowrap">{_e(k["id"])}</span>', f"<code>{_e(k['check'])}</code>", status,
                     _e(k["reason"]),
                     f'<a href="{_e(k["ticket"])}">{_e(k["ticket"])}</a>', tests))
    table = _table(["id", "check", "status", "reason", "ticket", "tests"], rows, ident="known-issues") if rows else \
        "<p>No known issues file given (<code>--known-issues</code>), or it lists none.</p>"
    return f'<section id="known"><h2>Known issues</h2>{table}</section>'


def _errata(s: Mapping[str, Any]) -> str:
    items = "".join(f"<li><b>{_e(e['id'])}</b> ({_e(e['action'])} <code>{_e(e['target'])}</code>): "
                    f"{_e(e['description'])}</li>" for e in s["contract"]["errata"])
    return f'<section id="errata"><h2>Errata applied to the contract</h2><ul>{items}</ul></section>'


def render(s: Mapping[str, Any]) -> str:
    """The whole conformance section, one HTML string."""
    # Every value was scrubbed when its record was written; the markup itself is never
    # touched, so a short secret cannot garble the page (nor hide in an HTML escape).
    nav = ('<nav><a href="#conformance-checks">checks</a><a href="#coverage">coverage</a>'
           '<a href="#findings">findings</a><a href="#known">known issues</a><a href="#errata">errata</a>'
           '<a href="#results-table">tests</a></nav>')
    parts = [
        f"<style>{CSS}</style>", '<div id="conformance">', "<h2>Conformance summary</h2>", _banner(s), nav,
        _facts(s), '<section id="checks"><h2>Verdict per check</h2>', _checks(s), "</section>", _coverage(s),
        _findings(s["findings"]["by_check"], "Findings", "findings", "No findings: every response met every check."),
        _known(s),
        _findings(s["findings"]["known_by_check"], "Findings covered by known issues", "known-findings",
                  "None.") if s["findings"]["known_by_check"] else "",
        _errata(s), "</div>",
    ]
    return "".join(parts)
