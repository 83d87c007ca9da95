"""Distinct defects: one server bug is one defect, named with the request values it goes with.

Unit tests on hand-made event records (grouping, correlation, the verdict,
the terminal lines, the HTML, the trend between two summaries), then one run
of the whole suite against a server that answers `stealth: "extreme"` when
asked for "ultra" (the issue's example; a wrapper around the reference mock
here, not a registered mutant): one distinct defect, only when
/config/stealth = ultra, and a short terminal summary.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterable

import pytest

from contracts import Contract, load_contract
from harness import reporting
from harness.reporting import defects as defects_module
from harness.reporting import pretty
from harness.reporting.defects import group, kind_of, normalise_pointer
from mock import MockSettings, ServerThread, create_app
from tests.selftest.mutants.base import Reply, request_json, rewrite
from tests.selftest.shared import once
from tests.selftest.suite_runner import SuiteRun, run_suite

ULTRA_KEY = "ultra-defect-key-7d41c2"
STEALTH = "/config/stealth"
LOCALE = "/config/fingerprint/locale"
SCHEMA_MESSAGE = "{got} is not one of ['medium', 'high', 'ultra']"


# -- hand-made records ----------------------------------------------------------------------------

def payload(stealth: str | None = None, locale: str = "en-US", name: str = "n", **extra: Any) -> dict[str, Any]:
    config: dict[str, Any] = {"fingerprint": {"browser": "chrome", "locale": locale}}
    if stealth is not None:
        config["stealth"] = stealth
    return {"spaceId": "0b4f7f5d-ae0e-45cb-95f1-ee500cd8e3ea", "type": "browser", "name": name, "config": config,
            **extra}


def finding(check: str, pointer: str, message: str, severity: str = "failure", expected: str = "",
            got: str = "", known_issue: str | None = None) -> dict[str, Any]:
    return {"check": check, "severity": severity, "pointer": pointer, "message": message, "expected": expected,
            "got": got, "known_issue": known_issue}


CHECKS_200 = ["invariants", "unique_ids", "response_schema", "content_type", "secrets", "semantics", "status_code"]


def exchange(body: dict[str, Any] | None, findings: Iterable[dict[str, Any]] = (), *, test: str = "t::x",
             status: int = 200, source: str = "suite", label: str = "", checks: list[str] | None = None,
             response_json: Any = None) -> dict[str, Any]:
    text = json.dumps(body) if body is not None else ""
    answer = response_json if response_json is not None else {"id": "7c1e0c56-0c0e-4c4d-8a89-3f5a43c3a1d2",
                                                             "config": (body or {}).get("config", {})}
    return {
        "kind": "exchange", "time": 1.0, "process": "main-1", "id": "x", "test": test, "source": source,
        "label": label, "intent": "valid",
        "request": {"method": "POST", "url": "http://s/v2/runtimes", "payload": body,
                    "text": f"POST http://s/v2/runtimes\nContent-Type: application/json\n\n{text}"},
        "response": {"status": status, "content_type": "application/json", "elapsed": 0.01, "truncated": False,
                     "text": f"HTTP {status}\ncontent-type: application/json\n\n{json.dumps(answer)}", "json": answer},
        "error": None, "curl": f"curl -sS -X POST http://s/v2/runtimes --data-raw '{text}'",
        "checks": CHECKS_200 if checks is None else checks, "findings": list(findings),
    }


def ultra_bug(stealth: str) -> list[dict[str, Any]]:
    """What the checks say about one answer of the ultra server."""
    if stealth != "ultra":
        return []
    return [finding("response_schema", STEALTH, SCHEMA_MESSAGE.format(got="'extreme'"), got="'extreme'"),
            finding("semantics", STEALTH, 'stealth does not reflect the request (/config/stealth sent as "ultra")',
                    expected='"ultra"', got='"extreme"')]


LOCALES = ("en-US", "de-DE", "fr-FR", "ja-JP")


def ultra_events(rows: int = 24) -> list[dict[str, Any]]:
    """A run of `rows` covering-like requests (stealth x locale) against the ultra server, plus a passing rest."""
    events = []
    for n in range(rows):
        stealth, locale = ("medium", "high", "ultra")[n % 3], LOCALES[n % 4]
        body = payload(stealth, locale, name=f"row-{n}" + "x" * (n % 5))
        answer = {"id": f"7c1e0c56-0c0e-4c4d-8a89-3f5a43c3a{n:03d}", "status": "active",
                  "config": {**body["config"], "stealth": "extreme" if stealth == "ultra" else stealth}}
        events.append(exchange(body, ultra_bug(stealth), test=f"t::test_pair[{n}]", response_json=answer))
    return events


def judgement(test: str, outcome: str, reason: str | None = None) -> dict[str, Any]:
    return {"kind": "judgement", "time": 1.0, "process": "main-1", "test": test, "outcome": outcome,
            "known_issues": [], "cut_short": None, "reason": reason}


RUN = {"run_id": "20260101-000000-abcd", "name_prefix": "conformance-x-", "started": "2026-01-01T00:00:00Z",
       "duration_seconds": 1.0, "exit_status": 1, "seed": 1, "hypothesis_profile": "ci",
       "schemathesis_coverage_modes": ["positive"], "workers": 0,
       "target": {"embedded": True, "base_url": None, "description": "embedded reference mock"},
       "politeness": {"max_creates": None, "rate_limit": None, "timeout": 30.0, "creates_used": 0}}


def facts(contract: Contract, events: list[dict[str, Any]], **run: Any) -> dict[str, Any]:
    judged = [judgement(e["test"], "failed" if any(f["severity"] == "failure" for f in e["findings"]) else "passed")
              for e in events if e["kind"] == "exchange"]
    return reporting.build(contract, events + judged, {**RUN, **run})


# -- grouping ---------------------------------------------------------------------------------------

def test_array_indices_are_normalised_in_pointers_and_messages() -> None:
    assert normalise_pointer("/config/extensions/3") == "/config/extensions/*"
    assert normalise_pointer("/config/extensions/3/id") == "/config/extensions/*/id"
    assert normalise_pointer("header set-cookie") == "header set-cookie" and normalise_pointer("") == ""
    assert kind_of("invariants", "/config/extensions/3 lies before /createdAt") == \
        kind_of("invariants", "/config/extensions/0 lies before /createdAt")


def test_the_kind_of_deviation_leaves_out_values_ids_and_numbers() -> None:
    same = [("response_schema", SCHEMA_MESSAGE.format(got="'extreme'"), SCHEMA_MESSAGE.format(got="'bogus'")),
            ("semantics", 'stealth does not reflect the request (/config/stealth sent as "ultra")',
             "stealth does not reflect the request (/config/stealth sent as 'high')"),
            ("status_code", "server error 500 for a valid request", "server error 502 for a valid request"),
            ("unique_ids", "an id handed out twice in this run (first for the request [locale=de-DE])",
             "an id handed out twice in this run (first for the request [generated [ordinary]])"),
            ("invariants", "a fresh resource's /createdAt lies 3 hours before the request was sent",
             "a fresh resource's /createdAt lies 12 s before the request was sent"),
            ("schemathesis.JsonSchemaError", "Response violates schema: " + '{"a": 1, "b": "x"}' * 20,
             "Response violates schema: " + '{"c": [2]}' * 20)]
    for check, one, other in same:
        assert kind_of(check, one) == kind_of(check, other), (one, other)
    assert kind_of("response_schema", "None is not of type 'string'") != kind_of(
        "response_schema", SCHEMA_MESSAGE.format(got="'x'")), "another deviation at the same field"
    assert kind_of("status_code", "valid input was rejected") != kind_of("status_code", "server error 500 for a "
                                                                                        "valid request")


def test_one_bug_seen_by_two_checks_and_schemathesis_is_one_defect(loaded_contract: Contract) -> None:
    events = ultra_events()
    extra = exchange(payload("ultra", "ja-JP", name="s"), ultra_bug("ultra") + [
        finding("schemathesis.JsonSchemaError", "", "Response violates schema: " + json.dumps(payload()) * 3)],
        test="tests/conformance/test_schemathesis.py::test_schemathesis", source="schemathesis")
    found = group(loaded_contract, events + [extra])
    assert len(found) == 1, [d["key"] for d in found]
    (defect,) = found
    assert defect["checks"] == ["response_schema", "semantics", "schemathesis.JsonSchemaError"]
    assert defect["check"] == "response_schema" and defect["pointer"] == STEALTH
    assert defect["exchanges"] == 9 and defect["tests"] == 9 and defect["findings"] == 19
    assert defect["title"] == "'extreme' is not one of ['medium', 'high', 'ultra']"
    assert defect["id"] == "D1" and defect["key"].startswith("response_schema:/config/stealth:")
    example = defect["example"]
    assert example["test"] == "tests/conformance/test_schemathesis.py::test_schemathesis", "the smallest body"
    assert example["size"] == min(len(json.dumps(e["request"]["payload"], separators=(",", ":")))
                                  for e in events + [extra] if e["findings"])
    assert {f["check"] for f in example["findings"]} == set(defect["checks"])
    assert example["response_pointers"] == [STEALTH] and example["request_pointers"] == [STEALTH]
    assert example["curl"].startswith("curl ") and example["request"].startswith("POST ")


def test_the_key_does_not_depend_on_the_values_the_server_sent(loaded_contract: Contract) -> None:
    other = [exchange(payload("ultra", name=str(n)), [finding("response_schema", STEALTH,
                                                              SCHEMA_MESSAGE.format(got="'insane'"))])
             for n in range(3)]
    one = group(loaded_contract, ultra_events())[0]["key"]
    two = group(loaded_contract, other)[0]["key"]
    assert one == two


def test_a_finding_s_signature_is_its_defect_s_key(loaded_contract: Contract) -> None:
    from contracts.checks import Finding

    (defect,) = group(loaded_contract, ultra_events())
    raw = ultra_bug("ultra")[0]
    assert defects_module.signature(raw) == defect["key"]
    assert defects_module.signature(Finding("response_schema", "failure", STEALTH, SCHEMA_MESSAGE.format(
        got="'other'"))) == defect["key"]


def test_two_bugs_on_the_same_answers_are_two_defects(loaded_contract: Contract) -> None:
    status = finding("response_schema", "/status", "'running' is not one of ['active', 'stopped', 'failed']")
    events = [exchange(payload(s, name=str(n)), ultra_bug(s) + [status], test=f"t::x[{n}]")
              for n, s in enumerate(["medium", "high", "ultra"] * 4)]
    found = group(loaded_contract, events)
    assert [(d["pointer"], d["exchanges"]) for d in found] == [("/status", 12), (STEALTH, 4)], "most requests first"
    assert found[0]["correlation"] == [] and found[0]["only_when"] == "", "/status fails whatever was sent"
    assert found[1]["only_when"] == "only when /config/stealth = ultra"


def test_array_items_and_values_are_one_defect_another_deviation_is_another(loaded_contract: Contract) -> None:
    events = [exchange(payload("medium", name=str(n)), [
        finding("response_schema", f"/config/extensions/{n}", f"'{n}x' is not of type 'object'")], test=f"t::e[{n}]")
        for n in range(4)]
    events.append(exchange(payload("medium", name="z"), [finding("response_schema", "/config/extensions/0",
                                                                 "'id' is a required property")]))
    found = group(loaded_contract, events)
    assert [(d["pointer"], d["exchanges"]) for d in found] == [("/config/extensions/*", 4), ("/config/extensions/*", 1)]
    assert found[0]["key"] != found[1]["key"]


def test_warnings_known_issues_and_run_findings_are_kept_apart(loaded_contract: Contract) -> None:
    events = ultra_events(6)
    events.append(exchange(payload("medium"), [finding("auth", "", "a 401 without a WWW-Authenticate challenge",
                                                       severity="warning")], status=401))
    events.append(exchange(payload("ultra"), [finding("response_schema", STEALTH, SCHEMA_MESSAGE.format(got="'x'"),
                                                      known_issue="RT-1")]))
    events.append({"kind": "finding", "time": 1.0, "process": "main-1", "test": "", **finding(
        "response_schema", "/status", "known issue RT-9 is stale: the tests it selects ran", severity="warning")})
    failures, warnings = group(loaded_contract, events), group(loaded_contract, events, "warning")
    assert len(failures) == 1 and failures[0]["exchanges"] == 2, "the known issue's finding is not a defect"
    assert [w["check"] for w in warnings] == ["auth", "response_schema"]
    assert [w["id"] for w in warnings] == ["W1", "W2"] and warnings[1]["run_level"] and warnings[1]["example"] is None
    data = facts(loaded_contract, events)
    html = reporting.render(data)
    assert 'id="warnings"' in html and "2 warning groups" in html and html.count('class="defect warning"') == 2
    assert reporting.verdict(data)["lines"][0].endswith("; 2 warning groups")
    assert "2 warning group(s), where the contract is silent:" in reporting.terminal_lines(data, [])


# -- correlation ------------------------------------------------------------------------------------

def test_a_value_present_in_every_failure_and_rare_elsewhere_is_named(loaded_contract: Contract) -> None:
    (defect,) = group(loaded_contract, ultra_events(30))
    (corr,) = defect["correlation"]
    assert corr["sentence"] == "/config/stealth = ultra" and corr["values"] == ["ultra"]
    assert (corr["affected_with"], corr["affected"], corr["sent_with"]) == (10, 10, 10)
    assert defect["only_when"] == "only when /config/stealth = ultra"


def test_the_population_is_the_exchanges_the_check_judged(loaded_contract: Contract) -> None:
    """Rejected requests sending ultra are not evidence against the correlation: the check never judged them."""
    events = ultra_events(12) + [exchange(payload("ultra", name=str(n)), status=400,
                                          checks=["content_type", "negative_data", "status_code"]) for n in range(20)]
    (defect,) = group(loaded_contract, events)
    assert defect["correlation"][0]["sent_with"] == 4 and defect["judged"] == 12


def test_several_values_of_one_field(loaded_contract: Contract) -> None:
    def pinned(sent: str) -> list[dict[str, Any]]:  # the server answers "medium" whatever was asked
        return [] if sent == "medium" else [
            finding("semantics", STEALTH, f"stealth does not reflect the request (/config/stealth sent as '{sent}')")]

    events = [exchange(payload(s, name=str(n)), pinned(s), test=f"t::x[{n}]")
              for n, s in enumerate(["medium", "high", "ultra"] * 4)]
    (defect,) = group(loaded_contract, events)
    assert defect["only_when"] == "only when /config/stealth is high or ultra"


def test_a_pair_of_values_when_no_single_value_explains_it(loaded_contract: Contract) -> None:
    events = []
    for n in range(36):
        stealth, locale = ("medium", "high", "ultra")[n % 3], LOCALES[(n // 3) % 4]
        crash = stealth == "high" and locale == "de-DE"
        events.append(exchange(payload(stealth, locale, name=str(n)), [
            finding("status_code", "", "server error 500 for a valid request")] if crash else [],
            status=500 if crash else 200, test=f"t::x[{n}]"))
    (defect,) = group(loaded_contract, events)
    assert defect["exchanges"] == 3
    assert defect["only_when"] == "only when /config/fingerprint/locale = de-DE and /config/stealth = high"


def test_no_correlation_from_too_few_failures_or_a_bug_everywhere(loaded_contract: Contract) -> None:
    few = ultra_events(6)  # two ultra requests fail
    assert group(loaded_contract, few)[0]["correlation"] == []
    everywhere = [exchange(payload(s, name=str(n)), [finding("response_schema", "/status", "'x' is not one of [...]")])
                  for n, s in enumerate(["medium", "high", "ultra"] * 5)]
    assert group(loaded_contract, everywhere)[0]["correlation"] == []


def test_follow_up_requests_and_isolation_sentences_are_read(loaded_contract: Contract) -> None:
    row = "browser=chrome,locale=de-DE,stealth=ultra,proxy=null"
    test = f"t::test_accepts_every_pair[{row}]"
    events = ultra_events(9) + [
        exchange(payload("ultra", name="f1"), ultra_bug("ultra"), test=test, source="follow-up",
                 label=f"follow-up isolate:{row}:stealth=ultra"),
        exchange(payload("medium", "de-DE", name="f2"), [], test=test, source="follow-up",
                 label=f"follow-up isolate:{row}:locale=de-DE"),
        judgement(test, "failed", "2 contract violation(s) ...\n\nisolated by follow-up requests: only when "
                                  "/config/stealth = ultra"),
    ]
    (defect,) = group(loaded_contract, events)
    assert defect["isolation"] == ["a follow-up request holding only stealth=ultra of a failing row reproduced it",
                                   "only when /config/stealth = ultra"]
    assert defect["isolated_to"] == ["stealth=ultra"]
    few = [exchange(payload("high", "de-DE", name="row"), [finding("status_code", "", "server error 500 for a valid "
                                                                                      "request")], test=test),
           exchange(payload("high", "de-DE", name="p"), [finding("status_code", "", "server error 500 for a valid "
                                                                                    "request")], test=test,
                    source="follow-up", label=f"follow-up isolate:{row}:locale=de-DE+stealth=high"),
           *[exchange(payload(s, loc, name=f"p{s}"), test=test, source="follow-up",
                      label=f"follow-up isolate:{row}:{factor}")
             for s, loc, factor in (("medium", "de-DE", "locale=de-DE"), ("high", "en-US", "stealth=high"))]]
    passing = [exchange(payload("medium", name=str(n)), test=f"t::ok[{n}]") for n in range(6)]
    everywhere = [exchange(payload(s, name=f"e{s}"), [finding("content_type", "", "the 200 response is not served "
                                                                                  "as application/json")], test=test,
                           source="follow-up", label=f"follow-up isolate:{row}:stealth={s}") for s in ("high", "ultra")]
    assert group(loaded_contract, everywhere)[0]["isolated_to"] == [], "every probe failed: nothing isolated"
    (crash,) = group(loaded_contract, passing + few)
    assert crash["correlation"] == [] and crash["isolated_to"] == ["locale=de-DE and stealth=high"]
    assert reporting.terminal_lines(facts(loaded_contract, passing + few), [])[3].endswith(
        "(2 requests, 1 test; isolated to locale=de-DE and stealth=high)")


# -- the verdict, the terminal, the page -----------------------------------------------------------

def test_the_verdict_leads_with_distinct_defects_and_never_shows_untested_as_passing(loaded_contract: Contract) -> None:
    bad = facts(loaded_contract, ultra_events())
    v = reporting.verdict(bad)
    assert v["state"] == "not-conforming" and v["tone"] == "bad"
    assert v["lines"][0] == "NOT CONFORMING: 1 distinct defect in 8 of 24 judged requests (8 failing tests)"
    good = facts(loaded_contract, [exchange(payload("medium", name=str(n))) for n in range(3)])
    assert reporting.verdict(good)["lines"] == ["CONFORMS: no contract violation in 3 judged requests"]
    assert reporting.verdict(good)["tone"] == "ok"
    stopped = {**good, "not_tested": {"reason": "credentials-refused", "line": "the key was refused (401)", "tests": 0}}
    assert reporting.verdict(stopped)["tone"] == "untested"
    assert reporting.verdict(stopped)["lines"] == ["NOT TESTED: the key was refused (401)"]
    cut = {"reason": "cut-short", "line": "4 deterministic test(s) not tested: budget exhausted", "tests": 4}
    partial = reporting.verdict({**good, "not_tested": cut})
    assert partial["tone"] == "untested" and partial["lines"] == [
        "NOT TESTED: 4 deterministic test(s) not tested: budget exhausted; no contract violation in the 3 judged "
        "requests"]
    both = reporting.verdict({**bad, "not_tested": cut})
    assert both["tone"] == "bad" and both["lines"][0].startswith("NOT CONFORMING: 1 distinct defect")
    assert both["lines"][1] == "NOT TESTED: 4 deterministic test(s) not tested: budget exhausted"
    legacy = reporting.verdict({**good, "cut_short": ["budget exhausted"], "tests": {**good["tests"], "skipped": 4}})
    assert legacy["tone"] == "untested" and legacy["lines"][0].startswith("NOT TESTED: 4 tests cut short: budget")
    empty = facts(loaded_contract, [])
    assert reporting.verdict(empty)["state"] == "not-tested", "nothing judged is not a pass"
    assert reporting.terminal_lines(stopped, [])[2] == "NOT TESTED: the key was refused (401)"
    assert 'class="banner untested"' in reporting.render(stopped)


def test_terminal_lines_start_with_the_verdict_then_one_line_per_defect(loaded_contract: Contract) -> None:
    data = facts(loaded_contract, ultra_events())
    lines = reporting.terminal_lines(data, [Path("reports/summary.json")])
    assert lines[2].startswith("NOT CONFORMING: 1 distinct defect")
    assert lines[3] == ("  D1 [response_schema, semantics] /config/stealth: 'extreme' is not one of ['medium', "
                        "'high', 'ultra'] (8 requests, 8 tests; only when /config/stealth = ultra)")
    assert lines[4].startswith("target ") and lines[5].startswith("checks: ") and lines[6].startswith("coverage: ")
    many = {**data, "defects": [dict(data["defects"][0], id=f"D{n}") for n in range(1, 13)]}
    listed = reporting.terminal_lines(many, [])
    assert sum(1 for line in listed if line.startswith("  D")) == 8 and "  ... and 4 more" in "\n".join(listed)


def test_pretty_printing_marks_the_pointer_lines() -> None:
    text = 'HTTP 200\ncontent-type: application/json\n\n{"a": 1, "config": {"stealth": "extreme", "x": [1, {"y": 2}]}}'
    lines, is_json = pretty.lines(text, ["/config/stealth", "/config/x/1"])
    assert is_json
    marked = [line.text for line in lines if line.marked]
    assert marked == ['    "stealth": "extreme",', "      {", '        "y": 2', "      }"]
    assert [line.text for line in lines][:3] == ["HTTP 200", "content-type: application/json", ""]
    long = "HTTP 200\n\n" + json.dumps({f"k{n}": n for n in range(100)} | {"z": "marked"})
    lines, _ = pretty.lines(long, ["/z"])
    assert len(lines) < 30 and any(line.elided for line in lines) and any(line.marked for line in lines)
    nested = "HTTP 200\n\n" + json.dumps({"a": {f"k{n}": n for n in range(30)}, "config": {"b": [1, 2], "s": "x"}})
    shown = [(line.text, line.folded) for line in pretty.lines(nested, ["/config/s"])[0]]
    assert ('  "a": {...},', 32) in shown and ('    "b": [...],', 4) in shown and ('    "s": "x"', 0) in shown


def test_the_page_shows_each_defect_once_with_the_offending_lines_marked(loaded_contract: Contract) -> None:
    data = facts(loaded_contract, ultra_events())
    html = reporting.render(data)
    assert html.index('id="conformance-verdict"') < html.index('id="defects"') < html.index('id="checks"') < \
        html.index('id="coverage"') < html.index('id="errata"') < html.index('id="facts"')
    assert html.count('class="defect failure"') == 1 and "NOT CONFORMING: 1 distinct defect" in html
    marked = re.findall(r'<span class="hl">(.*?)</span>', html)
    assert "    &quot;stealth&quot;: &quot;ultra&quot;" in marked, "the sent field in the request"
    assert any("&quot;stealth&quot;: &quot;extreme&quot;" in m for m in marked), "the offending field in the response"
    assert 'class="chip c-failing culprit"' in html and '<i class="badge">D1</i>' in html
    matrix = html[html.index('id="coverage-matrix"'):html.index('id="coverage-matrix-response"')]
    assert re.findall(r'<span class="chip [^"]*culprit"[^>]*>([^<]*)<', matrix) == ["ultra"], "only the culprit"
    assert "href='#t%3A%3Atest_pair%5B2%5D'" in html, "affected tests link to their rows in the test table"
    errata = html[html.index('id="errata"'):html.index('id="facts"')]
    assert "`" not in errata and "<code>requestBody.required</code>" in errata, "Markdown code spans as <code>"
    assert "tbody.results-table-row.passed{display:none}" in html and "#environment{order:2}" in html
    assert reporting.verdict(data)["lines"][0] in html, "the banner says what the terminal says"


# -- the trend --------------------------------------------------------------------------------------

def _summary(run_id: str, *keys: str, checks: Iterable[str] = ("response_schema", "semantics")) -> dict[str, Any]:
    return {"run_id": run_id, "schema_version": 3, "target": {"base_url": "https://staging"},
            "checks": [{"check": c, "judged": 10} for c in checks],
            "defects": [{"key": k, "id": f"D{n}", "severity": "failure", "check": k.split(":")[0],
                         "checks": [k.split(":")[0]], "pointer": k.split(":")[1], "title": f"title {k}",
                         "exchanges": 2, "tests": 1} for n, k in enumerate(keys, 1)]}


def test_compare_marks_new_still_present_and_fixed_defects() -> None:
    before = _summary("run-1", "response_schema:/a:1", "semantics:/b:2", "auth:-:3")
    now = _summary("run-2", "response_schema:/a:1", "response_schema:/c:4")
    trend = reporting.compare(now, before)
    assert trend["status"] == {"response_schema:/a:1": "still present", "response_schema:/c:4": "new"}
    assert [f["key"] for f in trend["fixed"]] == ["semantics:/b:2"]
    assert [f["key"] for f in trend["not_retested"]] == ["auth:-:3"], "auth judged nothing this run"
    assert trend["line"].startswith("1 new, 1 still present, 1 fixed since run-1 (1 not re-tested")
    marked = reporting.with_trend(now, trend)
    assert [d["trend"] for d in marked["defects"]] == ["still present", "new"] and "trend" not in now["defects"][0]
    old = reporting.compare(now, {"run_id": "run-0", "schema_version": 2})
    assert not old["comparable"] and "no distinct defects" in old["line"]


def test_the_trend_reaches_the_banner_the_terminal_and_summary_json(loaded_contract: Contract, tmp_path: Path) -> None:
    previous = facts(loaded_contract, ultra_events())
    reporting.write(previous, tmp_path / "before.json")
    status = finding("response_schema", "/status", "'running' is not one of ['active', 'stopped', 'failed']")
    now = facts(loaded_contract, [exchange(payload("medium", name=str(n)), [status], test=f"t::s[{n}]")
                                  for n in range(3)], run_id="20260102-000000-beef")
    data = reporting.compare_with_file(now, tmp_path / "before.json")
    line = f"1 new, 0 still present, 1 fixed since {previous['run_id']}"
    assert data["trend"]["line"] == line and reporting.verdict(data)["lines"][-1] == line
    terminal = reporting.terminal_lines(data, [])
    assert line in terminal and any(t.startswith("  D1 NEW [response_schema] /status") for t in terminal)
    assert any(t.startswith("  FIXED [response_schema, semantics] /config/stealth") for t in terminal)
    html = reporting.render(data)
    assert line in html and 'class="trend t-new"' in html and "Fixed since run" in html
    reporting.write(data, tmp_path / "after.json")
    written = json.loads((tmp_path / "after.json").read_text())
    assert written["trend"]["line"] == line and written["defects"][0]["trend"] == "new"
    assert written["verdict"]["lines"][-1] == line
    missing = reporting.compare_with_file(now, tmp_path / "nope.json")
    assert missing["trend"]["comparable"] is False and "cannot read" in missing["trend"]["line"]


# -- the issue's server: stealth "extreme" for "ultra" ---------------------------------------------

def _extreme_for_ultra(scope: dict, body: bytes, reply: Reply) -> Reply:
    sent, data = request_json(body), reply.json
    if reply.status == 200 and isinstance(sent, dict) and isinstance(data, dict) and \
            (sent.get("config") or {}).get("stealth") == "ultra" and isinstance(data.get("config"), dict):
        data["config"]["stealth"] = "extreme"
        reply.set_json(data)
    return reply


def ultra_server(contract: Contract | None = None) -> ServerThread:
    """The reference mock, except that asked for stealth "ultra" it answers "extreme" (not a registered mutant)."""
    contract = contract or load_contract()
    return ServerThread(rewrite(_extreme_for_ultra)(create_app(MockSettings(frozenset({ULTRA_KEY})), contract)))


def _ultra_run(base: Path) -> SuiteRun:
    with ultra_server() as server:
        return run_suite(server.url, ULTRA_KEY, base / "ultra")


def ultra_run(tmp_path_factory: pytest.TempPathFactory) -> SuiteRun:
    """The whole suite against the ultra server, once per selftest session (the browser test reads it too)."""
    return once(tmp_path_factory, "ultra-run", _ultra_run)


@pytest.fixture(scope="module")
def ultra(tmp_path_factory: pytest.TempPathFactory) -> SuiteRun:
    return ultra_run(tmp_path_factory)


def summary_block(output: str) -> list[str]:
    """The suite's own lines at the end of the terminal output: from the verdict to 'wrote ...'."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if " bctrl conformance " in line)
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("wrote "))
    return lines[start + 1:end + 1]


@pytest.mark.suite_run
def test_the_ultra_server_is_one_defect_only_when_stealth_is_ultra(ultra: SuiteRun) -> None:
    assert ultra.returncode == 1, ultra.output[-2000:]
    summary = json.loads((ultra.reports / "summary.json").read_text())
    assert summary["tests"]["failed"] >= 40 and summary["findings"]["failures"] >= 100, "the flood is still there"
    (defect,) = summary["defects"]
    assert defect["pointer"] == STEALTH and {"response_schema", "semantics"} <= set(defect["checks"])
    assert defect["only_when"] == "only when /config/stealth = ultra"
    assert defect["exchanges"] == summary["findings"]["failing_exchanges"] and defect["tests"] >= 40
    assert "'extreme'" in defect["title"] and defect["example"]["size"] < 200
    assert summary["verdict"]["lines"][0].startswith("NOT CONFORMING: 1 distinct defect in ")
    chips = {c["value"]: c for c in summary["coverage"]["request"] if c["pointer"] == STEALTH}
    assert chips["ultra"]["failed"] >= 0.9 * chips["ultra"]["requests"], "nearly every ultra request failed"
    assert chips["medium"]["failed"] == chips["high"]["failed"] == 0
    html = (ultra.reports / "conformance.html").read_text()
    assert html.count('class="defect failure"') == 1 and "only when /config/stealth = ultra" in html
    assert ULTRA_KEY not in html


@pytest.mark.suite_run
def test_the_ultra_server_s_terminal_summary_is_short(ultra: SuiteRun) -> None:
    block = summary_block(ultra.output)
    assert block[0].startswith("NOT CONFORMING: 1 distinct defect in ")
    assert block[1].startswith("  D1 [response_schema, semantics") and block[1].endswith(
        "; only when /config/stealth = ultra)")
    assert block[2].startswith("target ") and len(block) <= 6, block
