"""The conformance summary as HTML for the top of the pytest-html report (and the proxy's own page).

A view of facts.build()'s data only: no fact is computed here, so the HTML,
summary.json and the terminal cannot disagree (the verdict's words are
facts.verdict()'s, the terminal's too). Self-contained (inline CSS, no
scripts, no external resources); every value was scrubbed of secrets when
its record was written, and is escaped here.

Order: the verdict, the distinct defects (each once, its smallest example
pretty-printed with the offending lines marked, its tests listed), warnings,
the verdict per check, coverage, known issues, errata, the run's facts. The
section is self-sufficient: pytest-html's environment box and test table
follow it; CSS here moves that box to the end of the page and hides the
passed rows (a checkbox shows them) so the verdict is on the first screen.
"""
from __future__ import annotations

import re
from html import escape
from typing import Any, Iterable, Mapping
from urllib.parse import quote

from harness.reporting import pretty
from harness.reporting.facts import verdict

OPEN_DEFECTS = 3  # the first defects are shown unfolded, the rest folded
TESTS_SHOWN = 30

CSS = """
#conformance{color:#222;font-size:13px;line-height:1.4;max-width:1400px;margin-bottom:16px}
#conformance h2{font-size:18px;margin:20px 0 8px;border-bottom:2px solid #ddd;padding-bottom:3px;color:#222}
#conformance h3{font-size:14px;margin:14px 0 6px;color:#222}
#conformance h4{font-size:13px;margin:10px 0 4px;color:#222}
#conformance p,#conformance li{color:#222}
#conformance table{border-collapse:collapse;margin:4px 0 10px}
#conformance th,#conformance td{border:1px solid #ddd;padding:3px 7px;text-align:left;vertical-align:top}
#conformance th{background:#f3f3f3}
#conformance .facts td:first-child{width:150px}
#conformance code,#conformance pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}
#conformance code,#conformance summary,#conformance li,#conformance p{overflow-wrap:break-word}
#conformance pre{background:#f7f7f7;border:1px solid #e3e3e3;padding:6px 8px;white-space:pre-wrap;
  word-break:break-all;margin:4px 0;max-height:640px;overflow:auto;color:#222}
#conformance pre .hl{background:#ffe08a;display:inline-block;width:100%;font-weight:bold}
#conformance pre .gap{color:#888;font-style:italic}
#conformance .banner{padding:10px 14px;border-radius:4px;margin:6px 0 8px;color:#fff}
#conformance .banner .v1{font-size:18px;font-weight:bold}
#conformance .banner .v2{font-size:14px;font-weight:bold;margin-top:2px}
#conformance .banner .sub{font-size:12px;opacity:.92;margin-top:4px}
#conformance .banner.ok{background:#2e7d32}#conformance .banner.bad{background:#c62828}
#conformance .banner.warn{background:#b45309}#conformance .banner.untested{background:#455a64}
#conformance .verdict{font-weight:bold;padding:1px 6px;border-radius:3px;color:#fff;white-space:nowrap}
#conformance .v-passed{background:#2e7d32}
#conformance .v-failed{background:#c62828}
#conformance .v-warning,#conformance .v-known-issue{background:#ef6c00}
#conformance .v-not-applicable{background:#757575}
#conformance .chips{display:flex;flex-wrap:wrap;gap:3px}
#conformance .chip{display:inline-block;border-radius:3px;padding:1px 5px;color:#fff;font-size:12px;white-space:nowrap;
  border:1px solid transparent}
#conformance .chip b{font-weight:normal;opacity:.85;margin-left:3px}
#conformance .c-covered{background:#2e7d32}#conformance .c-undocumented{background:#c62828}
#conformance .c-invalid-only{background:#ef6c00}#conformance .c-missing{background:#9e9e9e}
#conformance .chip.culprit{outline:3px solid #111;outline-offset:1px;font-weight:bold}
#conformance .badge{display:inline-block;background:#111;color:#fff;border-radius:8px;padding:0 5px;margin-left:4px;
  font-size:11px;font-style:normal}
#conformance .cond{color:#666;font-size:11px}
#conformance .legend .chip{margin-right:6px}
#conformance .ramp{display:inline-block;width:120px;height:10px;vertical-align:middle;border:1px solid #ccc;
  background:linear-gradient(to right,hsl(0,70%,90%),hsl(0,66%,45%))}
#conformance details{margin:4px 0 8px}
#conformance details.defect{border:1px solid #ddd;border-left:4px solid #c62828;border-radius:3px;padding:4px 8px}
#conformance details.defect.warning{border-left-color:#ef6c00}
#conformance details.defect>summary{font-size:14px}
#conformance summary{cursor:pointer;color:#222}
#conformance .did{font-weight:bold;color:#c62828;margin-right:4px}
#conformance .warning .did{color:#b45309}
#conformance .when{display:inline-block;background:#fdecea;border:1px solid #f5c2c0;color:#8e1b1b;border-radius:3px;
  padding:0 5px;margin-left:4px;font-size:12px}
#conformance .counts{color:#555;font-size:12px;margin-left:4px;white-space:nowrap}
#conformance .trend{display:inline-block;border-radius:3px;padding:0 5px;font-size:11px;font-weight:bold;
  margin-right:4px;color:#fff;background:#757575}
#conformance .trend.t-new{background:#c62828}#conformance .trend.t-still{background:#ef6c00}
#conformance .trend.t-fixed{background:#2e7d32}
#conformance .pair{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:10px}
#conformance .muted{color:#666}
#conformance nav{margin:2px 0 6px;display:flex;flex-wrap:wrap;gap:2px 14px}
#conformance nav a{color:#1565c0;white-space:nowrap}
#conformance a{color:#1565c0}
#conformance .nowrap{white-space:nowrap}
#conformance .ki{font-weight:bold;white-space:nowrap}
#conformance .ki-stale,#conformance .ki-new{color:#c62828}#conformance .ki-still{color:#ef6c00}
#conformance .ki-not,#conformance .ki-other{color:#757575}
#conformance .drift-implemented{color:#2e7d32}#conformance .drift-not-implemented,#conformance .lvl-breaking{color:#c62828}
#conformance .drift-inconclusive,#conformance .drift-not-run{color:#757575}#conformance .lvl-warning{color:#ef6c00}
#conformance .toggles label{margin-right:16px;white-space:nowrap}
@media (max-width:800px){
  #conformance .pair{grid-template-columns:minmax(0,1fr)}
  #conformance table{display:block;overflow-x:auto;max-width:100%}
  #conformance .banner .v1{font-size:16px}
  #conformance-checks th:nth-child(2),#conformance-checks td:nth-child(2){display:none}
}
"""

# pytest-html's page around our section (4.x markup: body > #environment-header, #environment, .summary,
# #results-table of tbody.results-table-row.<outcome>): its environment box goes to the end of the page, its
# passed rows are hidden until #conformance-show-passed is ticked, its fixed 800 px minimum width goes
# (the phone view). Scoped with :has() to pages that have that markup, so the proxy's own page is untouched;
# a browser without :has() shows pytest-html's page as it was.
PAGE_CSS = """
body:has(>#environment-header){display:flex;flex-direction:column;min-width:0}
body:has(>#environment-header)>#environment-header,body:has(>#environment-header)>#environment{order:2}
body:has(>#environment-header)>footer{order:3}
body:has(>#environment-header)>#environment{align-self:flex-start}
body:has(#conformance-show-passed:not(:checked)) #results-table tbody.results-table-row.passed{display:none}
body:has(>#environment-header) #results-table .logwrapper:not(.expanded){max-height:9em}
body:has(>#environment-header) #results-table td,body:has(>#environment-header) h1{overflow-wrap:anywhere}
body:has(>#environment-header) .controls,body:has(>#environment-header) .filters{flex-wrap:wrap}
"""

VERDICT_WORDS = {"passed": "passed", "failed": "failed", "warning": "warning", "known-issue": "known issue",
                 "not applicable": "not applicable"}
CELL_WORDS = {"covered": "exercised, none failed", "invalid-only": "only in invalid requests",
              "missing": "never exercised", "undocumented": "value outside the enum"}
TREND_CLASS = {"new": "t-new", "still present": "t-still", "fixed": "t-fixed"}
_CODE = re.compile(r"`([^`]+)`")


def _e(value: Any) -> str:
    return escape("" if value is None else str(value))


def _text(value: Any) -> str:
    """Prose written in Markdown's inline style (errata descriptions): escaped, `code` as <code>."""
    return _CODE.sub(lambda m: f"<code>{m.group(1)}</code>", _e(value))


def _n(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else plural or word + 's'}"


def _table(head: Iterable[str], rows: Iterable[Iterable[str]], cls: str = "", ident: str = "") -> str:
    attrs = (f' class="{cls}"' if cls else "") + (f' id="{ident}"' if ident else "")
    out = [f"<table{attrs}><thead><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr></thead><tbody>"]
    out += ["<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows]
    return "".join(out) + "</tbody></table>"


def _banner(s: Mapping[str, Any]) -> str:
    v = verdict(s)
    lines = "".join(f'<div class="v{min(i, 1) + 1}">{_e(line)}</div>' for i, line in enumerate(v["lines"]))
    target, contract, tests, req = s.get("target") or {}, s.get("contract") or {}, s.get("tests") or {}, s["requests"]
    sub = " &middot; ".join(x for x in (
        _e(target.get("base_url") or target.get("description") or "embedded reference mock"),
        f"{_e(contract.get('title'))} {_e(contract.get('version'))}",
        f"run <code>{_e(s.get('run_id'))}</code>" if s.get("run_id") else "",
        f"{req['sent']} requests sent",
        "tests: " + (", ".join(f"{n} {k}" for k, n in tests.items() if n) or "none"),
    ) if x)
    return (f'<div class="banner {v["tone"]}" id="conformance-verdict" data-state="{v["state"]}">{lines}'
            f'<div class="sub">{sub}</div></div>')


def _test_anchor(test: str) -> str:
    # pytest-html gives each test's <tbody> the node id as its id (the proxy's page gives its rows the same).
    return "#" + quote(test, safe="")


def _http(text: str, pointers: Iterable[str]) -> str:
    out = []
    for line in pretty.lines(text, pointers)[0]:
        if line.elided:
            out.append(f'<span class="gap">... {line.elided} more line(s) ...</span>')
        elif line.marked:
            out.append(f'<span class="hl">{_e(line.text)}</span>')
        elif line.folded:
            out.append(f'{_e(line.text)} <span class="gap">{line.folded} lines</span>')
        else:
            out.append(_e(line.text))
    return "\n".join(out)


def _correlation(d: Mapping[str, Any]) -> str:
    parts = []
    for c in d.get("correlation") or ():
        parts.append(f"<b>only when <code>{_e(c['sentence'])}</code></b>: {c['affected_with']} of the "
                     f"{c['affected']} affected requests sent it, and {c['affected_with']} of the {c['sent_with']} "
                     "judged requests that sent it show the defect.")
    for sentence in d.get("isolation") or ():
        parts.append(f"Isolated: {_e(sentence)}.")
    return "".join(f"<p>{p}</p>" for p in parts)


def _example(d: Mapping[str, Any]) -> str:
    ex = d.get("example")
    if not ex:
        return ""
    said = "".join(f"<li><code>{_e(f['check'])}</code> at <code>{_e(f['pointer'] or '(whole response)')}</code>: "
                   f"{_e(f['message'].splitlines()[0][:300] if f['message'] else '')} "
                   f"<span class='muted'>(expected <code>{_e(f['expected'] or '-')}</code>, got "
                   f"<code>{_e(f['got'] or '-')}</code>)</span></li>" for f in ex["findings"])
    where = f"<a href='{_test_anchor(ex['test'])}'><code>{_e(ex['test'])}</code></a>" + (
        f" <span class='muted'>[{_e(ex['label'])}]</span>" if ex.get("label") else "")
    return (f"<h4>Smallest example ({ex['size']}-byte body)</h4><p>{where}</p><ul>{said}</ul>"
            f"<div class='pair'><div><b>Request</b><pre class='request'>{_http(ex['request'], ex['request_pointers'])}"
            f"</pre></div><div><b>Response</b><pre class='response'>"
            f"{_http(ex['response'], ex['response_pointers'])}</pre></div></div>"
            "<p>Reproduce (reads the key from <code>$BCTRL_API_KEY</code>):</p>"
            f"<pre class='curl'>{_e(ex['curl'])}</pre><details><summary class='muted'>request and response as "
            f"recorded</summary><pre>{_e(ex['request'])}</pre><pre>{_e(ex['response'])}</pre></details>")


def _defect(d: Mapping[str, Any], opened: bool) -> str:
    trend = d.get("trend")
    badge = f'<span class="trend {TREND_CLASS.get(trend, "")}">{_e(trend)}</span>' if trend else ""
    when = f'<span class="when">{_e(d["only_when"])}</span>' if d.get("only_when") else \
        f'<span class="when">isolated to {_e(" or ".join(d["isolated_to"]))}</span>' if d.get("isolated_to") else ""
    counts = (f"{_n(d['exchanges'], 'request')}, {_n(d['tests'], 'test')}" if not d.get("run_level")
              else "about the run")
    summary = (f'<span class="did">{_e(d["id"])}</span>{badge}<code>[{_e(", ".join(d["checks"]))}]</code> '
               f"<code>{_e(d['pointer'] or '(whole response)')}</code>: {_e(d['title'])} "
               f'<span class="counts">({counts})</span>{when}')
    sigs = ""
    if len(d["signatures"]) > 1:
        sigs = "<p>Reported by " + "; ".join(
            f"<code>{_e(g['check'])}</code> ({_n(g['exchanges'], 'request')}): {_e(g['message'][:160])}"
            for g in d["signatures"]) + ".</p>"
    tests = "".join(f"<li><a href='{_test_anchor(t)}'><code>{_e(t)}</code></a></li>"
                    for t in d["test_ids"][:TESTS_SHOWN])
    if len(d["test_ids"]) > TESTS_SHOWN:
        tests += f"<li>... and {len(d['test_ids']) - TESTS_SHOWN} more</li>"
    tests_block = (f"<details class='tests'><summary>{_n(len(d['test_ids']), 'affected test')} "
                   f"(their rows in the test table below)</summary><ul>{tests}</ul></details>") if tests else ""
    return (f'<details class="defect {_e(d["severity"])}" id="defect-{_e(d["id"])}"{" open" if opened else ""}>'
            f"<summary>{summary}</summary>{_correlation(d)}{sigs}{_example(d)}{tests_block}</details>")


def _defects(s: Mapping[str, Any]) -> str:
    found = s.get("defects") or []
    trend = s.get("trend") or {}
    if not found:
        body = "<p>No contract violation: every response met every check.</p>"
        title = "No defects"
    else:
        title = _n(len(found), "distinct defect")
        body = "".join(_defect(d, i < OPEN_DEFECTS) for i, d in enumerate(found))
    fixed = trend.get("fixed") or []
    if fixed:
        body += (f"<h3>Fixed since run <code>{_e(trend.get('previous_run_id'))}</code></h3><ul>" + "".join(
            f"<li><span class='trend t-fixed'>fixed</span><code>[{_e(', '.join(f.get('checks') or [f.get('check')]))}]"
            "</code> "
            f"<code>{_e(f.get('pointer') or '(whole response)')}</code>: {_e(f.get('title'))}</li>" for f in fixed)
            + "</ul>")
    findings = s["findings"]
    more = (f' <span class="muted">({_n(findings["failures"], "failure finding")} in '
            f'{_n(findings.get("failing_exchanges", 0), "request")})</span>') if found else ""
    return f'<section id="defects"><h2>{title}{more}</h2>{body}</section>'


def _warnings(s: Mapping[str, Any]) -> str:
    groups = s.get("warning_groups") or []
    if not groups:
        return ""
    return (f'<section id="warnings"><h2>{_n(len(groups), "warning group")} '
            '<span class="muted">(the contract is silent; the server made a choice)</span></h2>'
            + "".join(_defect(g, False) for g in groups) + "</section>")


def _checks(s: Mapping[str, Any]) -> str:
    rows = []
    by_check: dict[str, list[str]] = {}
    for d in s.get("defects") or ():
        for check in d["checks"]:
            by_check.setdefault(check, []).append(d["id"])
    for c in s["checks"]:
        verdict_cell = (f'<span class="verdict v-{c["verdict"].replace(" ", "-")}">'
                        f'{VERDICT_WORDS.get(c["verdict"], c["verdict"])}</span>')
        ids = by_check.get(c["check"], [])
        defects = ", ".join(f'<a href="#defect-{_e(i)}">{_e(i)}</a>' for i in ids) or "-"
        rows.append((f"<code>{_e(c['check'])}</code>", _e(c["summary"]), verdict_cell, str(c["judged"]),
                     str(c["failures"]), defects, str(c["warnings"]), str(c["known_failures"])))
    return ('<section id="checks"><h2>Verdict per check</h2>'
            + _table(["check", "what it verifies", "verdict", "responses judged", "failure findings", "defects",
                      "warnings", "known issues"], rows, ident="conformance-checks") + "</section>")


def _culprits(s: Mapping[str, Any]) -> dict[tuple[str, str], list[str]]:
    """(pointer, value) -> the defects that happen only with that request value."""
    marks: dict[tuple[str, str], list[str]] = {}
    for d in s.get("defects") or ():
        for corr in (d.get("correlation") or [])[:1]:
            for term in corr["terms"]:
                for value in term["values"]:
                    marks.setdefault((term["pointer"], value), []).append(d["id"])
    return marks


def _rate_style(failed: int, requests: int) -> str:
    """Red by the share of failing exchanges: a light tint for a few, full red when all failed."""
    rate = failed / requests if requests else 0.0
    lightness = 90 - 45 * rate
    colour = "#222" if lightness > 62 else "#fff"
    return f"background:hsl(0,{70 - 4 * rate:.0f}%,{lightness:.0f}%);color:{colour};border-color:hsl(0,60%,75%)"


def _chip(cell: Mapping[str, Any], culprits: Mapping[tuple[str, str], list[str]]) -> str:
    status, requests, failed = cell["status"], cell["requests"], cell["failed"]
    if cell["side"] == "response":
        words = "not observed (the server's choice)" if status == "missing" else CELL_WORDS.get(status, status)
        title = f"{requests} response(s), {failed} with failures: {words}"
    else:
        title = (f"{requests} request(s), {cell.get('valid', 0)} meant valid, {failed} failed"
                 + (f" ({100 * failed / requests:.0f}%)" if failed and requests else "")
                 + (f": {CELL_WORDS[status]}" if status in CELL_WORDS else ""))
    style, cls = "", f"c-{status}"
    if failed and status != "undocumented":
        style, cls = f' style="{_rate_style(failed, requests)}"', "c-failing"
    marks = culprits.get((cell["pointer"], cell["value"]), []) if cell["side"] == "request" and cell["kind"] == "enum" \
        else []
    if marks:
        cls += " culprit"
        title += "; " + ", ".join(marks) + " happen(s) only with this value"
    badge = "".join(f'<i class="badge">{_e(m)}</i>' for m in marks)
    shown = f"{requests}" + (f", {failed}&#x2717;" if failed else "")
    return (f'<span class="chip {cls}"{style} title="{_e(title)}">{_e(cell["value"])}'
            f"<b>{shown}</b>{badge}</span>")


def _matrix(cells: list[Mapping[str, Any]], ident: str, culprits: Mapping[tuple[str, str], list[str]]) -> str:
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
        chips = '<div class="chips">' + "".join(_chip(c, culprits) for c in row) + "</div>"
        out.append((where, label, f"{done}/{documented}", chips))
    return _table(["field", "kind", "exercised", "values / branches (requests, failed)"], out, "matrix", ident)


def _coverage(s: Mapping[str, Any]) -> str:
    cov = s["coverage"]
    counts = cov["counts"]
    culprits = _culprits(s)
    line = (f"Request: {counts['enum_values_exercised']}/{counts['enum_values']} enum values and "
            f"{counts['branches_exercised']}/{counts['branches']} oneOf branches exercised.")
    if counts["never_exercised"]:
        line += " <b>Never exercised:</b> " + ", ".join(f"<code>{_e(c)}</code>" for c in counts["never_exercised"]) + "."
    legend = ('<p class="legend">' + "".join(f'<span class="chip c-{k}">{_e(w)}</span>' for k, w in CELL_WORDS.items())
              + ' <span class="nowrap">share of requests that failed: few <span class="ramp"></span> all</span>'
              + (' <span class="chip c-covered culprit">value<i class="badge">D1</i></span> the value a defect '
                 "happens with" if culprits else "") + "</p>")
    statuses = _table(["status", "responses", "with failures"],
                      ((_e(r["status"]), str(r["responses"]), str(r["failed"])) for r in cov["statuses"]),
                      ident="conformance-statuses")
    undocumented = [c for c in cov["response"] if c["status"] == "undocumented"]
    response_line = ("Response values outside their enum: " + ", ".join(
        f"<code>{_e(c['pointer'])}={_e(c['value'])}</code> ({c['requests']})" for c in undocumented) + "."
        if undocumented else "Every response enum value seen is documented.")
    return (f'<section id="coverage"><h2>Coverage matrix</h2><p>{line}</p>{legend}'
            f'<h3>Request (what the suite sent)</h3>{_matrix(cov["request"], "coverage-matrix", culprits)}'
            f'<h3>Response (what 200 bodies contained)</h3><p>{response_line} Grey: never observed, '
            "which is the server's choice, not a gap in the suite.</p>"
            f'{_matrix(cov["response"], "coverage-matrix-response", {})}'
            f"<h3>Status codes received</h3>{statuses}</section>")


def _group(group: Mapping[str, Any]) -> str:
    """A group of findings that known issues cover (the old per-check view, kept for them)."""
    examples = []
    for n, ex in enumerate(group["examples"][:1], 1):
        examples.append(
            f"<p><b>Example</b> <span class='muted'>{_e(ex['test'])}"
            + (f" [{_e(ex['label'])}]" if ex.get("label") else "") + "</span><br>"
            f"expected <code>{_e(ex['expected'] or '-')}</code>, got <code>{_e(ex['got'] or '-')}</code></p>"
            f"<pre class='request'>{_http(ex['request'], [])}</pre><pre class='response'>{_http(ex['response'], [])}</pre>"
            f"<p>Reproduce (reads the key from <code>$BCTRL_API_KEY</code>):</p><pre class='curl'>{_e(ex['curl'])}</pre>")
    more = f" in {len(group['tests'])} test(s)" if len(group["tests"]) > 1 else ""
    tests = "".join(f"<li><code>{_e(t)}</code></li>" for t in group["tests"][:20])
    if len(group["tests"]) > 20:
        tests += f"<li>... and {len(group['tests']) - 20} more</li>"
    return (f'<details class="{_e(group["severity"])}"><summary><b>[{_e(group["severity"])}]</b> '
            f"<code>{_e(group['pointer'] or '(whole response)')}</code>: {_e(group['message'])} "
            f"<span class='muted'>({group['count']} time(s){more})</span></summary>"
            f"<ul>{tests}</ul>{''.join(examples)}</details>")


def _known_findings(by_check: Mapping[str, list[Mapping[str, Any]]]) -> str:
    if not by_check:
        return ""
    out = ['<section id="known-findings"><h2>Findings covered by known issues</h2>']
    for check, groups in by_check.items():
        count = sum(g["count"] for g in groups)
        out.append(f'<h3 id="known-findings-{_e(check)}"><code>{_e(check)}</code> ({count})</h3>')
        out += [_group(g) for g in groups]
    return "".join(out) + "</section>"


def _known(s: Mapping[str, Any]) -> str:
    rows = []
    for k in s["known_issues"]:
        tests = "<br>".join(f"<code>{_e(t)}</code>: {_e(o)}" for t, o in k["tests"].items()) or "-"
        status = f'<span class="ki ki-{_e(k["status"].split()[0])}">{_e(k["status"])}</span>'
        rows.append((f'<span class="nowrap">{_e(k["id"])}</span>', f"<code>{_e(k['check'])}</code>", status,
                     _text(k["reason"]), f'<a href="{_e(k["ticket"])}">{_e(k["ticket"])}</a>', tests))
    table = _table(["id", "check", "status", "reason", "ticket", "tests"], rows, ident="known-issues") if rows else \
        "<p>No known issues file given (<code>--known-issues</code>), or it lists none.</p>"
    return f'<section id="known"><h2>Known issues</h2>{table}</section>'


def _errata(s: Mapping[str, Any]) -> str:
    items = "".join(f"<li><b>{_e(e['id'])}</b> ({_e(e['action'])} <code>{_e(e['target'])}</code>): "
                    f"{_text(e['description'])}</li>" for e in s["contract"]["errata"])
    return f'<section id="errata"><h2>Errata applied to the contract</h2><ul>{items}</ul></section>'


def drift_line(d: Mapping[str, Any]) -> str:
    """One sentence: how many changes from which version to which, and what the target does about them."""
    counts, probes = d["summary"], d["probe_counts"]
    old, new = d["old"], d["new"]
    line = (f"{counts['total']} change(s) from {old['version'] or old['source']} to {new['version'] or new['source']}"
            f" ({counts['breaking']} breaking, {counts['warning']} warning, {counts['info']} info)")
    if d["probes"]:
        line += (f"; the target: {probes['implemented']} implemented, {probes['not implemented']} not implemented, "
                 f"{probes['inconclusive']} inconclusive")
    return line


def _drift(s: Mapping[str, Any]) -> str:
    d = s.get("drift")
    if not d:
        return ""
    verdicts = {p["subject"]: p for p in d["probes"]}
    rows = []
    for c in d["changes"]:
        probe = verdicts.get(c["subject"])
        asked = "-" if probe is None else (f'<b class="drift-{_e(probe["verdict"].replace(" ", "-"))}">'
                                           f'{_e(probe["verdict"])}</b> {_text(probe["reason"])}'
                                           + (f' <span class="muted">(read from {_e(probe["reads"])})</span>'
                                              if probe["shared"] else ""))
        rows.append((f'<span class="lvl-{_e(c["level"])}">{_e(c["level"])}</span>', _e(c["side"]),
                     f"<code>{_e(c['subject'])}</code>", _e(c["kind"]), _text(c["message"]), asked))
    table = _table(["level", "side", "where", "kind", "change", "the target"], rows, ident="drift-changes") \
        if rows else "<p>No change to the operation.</p>"
    errata = "".join(f"<li><b>{_e(e['id'])}</b>: {_e(e['status'])} ({_text(e['detail'])})</li>" for e in d["errata"])
    how = ("this run tests NEW (--drift-from names OLD)" if d["mode"] == "drift-from"
           else "this run tests the vendored contract; --upstream-contract names the newer one")
    return (f'<section id="drift"><h2>Contract drift</h2><p><b>{_e(drift_line(d))}</b>. '
            f'OLD <code>{_e(d["old"]["source"])}</code>, NEW <code>{_e(d["new"]["source"])}</code>: {_e(how)}.</p>'
            f"{table}" + (f"<h3>Errata carried over to NEW</h3><ul>{errata}</ul>" if errata else "") + "</section>")


def _facts(s: Mapping[str, Any]) -> str:
    target, contract, run, req, tests = s["target"], s["contract"], s, s["requests"], s["tests"]
    limits = s.get("politeness", {})
    rows = [
        ("Target", f"{_e(target['description'])}" + (f" <code>{_e(target['base_url'])}</code>" if target.get("base_url") else "")),
        ("Contract", f"{_e(contract['title'])} {_e(contract['version'])}, <code>{_e(contract['operation'])}</code><br>"
                     f"<span class='muted'>sha256</span> <code>{_e(contract['sha256'])}</code>"),
        ("Errata applied", f"{len(contract['errata'])} overlay action(s): "
                           + ", ".join(sorted({_e(e['id']) for e in contract['errata']})) + " (see above)"),
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
    if s.get("replay"):
        rows.append(("Replay", f"<code>{_e(s['replay'])}</code>"))
    untested = s.get("not_tested")
    if untested:
        rows.append(("Not tested", _e(untested.get("line") or untested.get("reason") if isinstance(untested, Mapping)
                                      else untested)))
    if s.get("exploratory_cut_short"):
        rows.append(("Exploratory tests", "stopped early (they get what is left of the budget): "
                     + _e("; ".join(s["exploratory_cut_short"]))))
    trend = s.get("trend") or {}
    if trend:
        rows.append(("Compared with", _e(trend.get("line") or trend.get("reason") or "")))
    table = _table(["", ""], ((f"<b>{k}</b>", v) for k, v in rows), "facts", "conformance-facts").replace(
        "<thead><tr><th></th><th></th></tr></thead>", "")
    return f'<section id="facts"><h2>The run</h2>{table}</section>'


def _table_toggles(s: Mapping[str, Any]) -> str:
    passed = (s.get("tests") or {}).get("passed", 0)
    return ('<section id="test-table"><h2>Every test</h2><p class="toggles">The table below lists every test; '
            "each defect above names its failing tests. "
            f'<label><input type="checkbox" id="conformance-show-passed"> show the {passed} passed tests</label>'
            "</p></section>")


def render(s: Mapping[str, Any], *, pytest_html: bool = True) -> str:
    """The whole conformance section, one HTML string (`pytest_html=False`: for a page without pytest-html's table)."""
    # Every value was scrubbed when its record was written; the markup itself is never
    # touched, so a short secret cannot garble the page (nor hide in an HTML escape).
    warnings = s.get("warning_groups") or []
    nav = ("<nav>" + ('<a href="#drift">drift</a>' if s.get("drift") else "") + '<a href="#defects">defects</a>'
           + ('<a href="#warnings">warnings</a>' if warnings else "")
           + '<a href="#checks">checks</a><a href="#coverage">coverage</a><a href="#known">known issues</a>'
           '<a href="#errata">errata</a><a href="#facts">the run</a><a href="#results-table">tests</a></nav>')
    parts = [
        f"<style>{CSS}{PAGE_CSS}</style>", '<div id="conformance">', _banner(s), nav, _drift(s), _defects(s),
        _warnings(s),
        _checks(s), _coverage(s), _known(s), _known_findings(s["findings"]["known_by_check"]), _errata(s),
        _facts(s), _table_toggles(s) if pytest_html else "", "</div>",
    ]
    return "".join(parts)
