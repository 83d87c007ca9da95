"""Known issues: ticketed deviations become xfails; anything else still fails; fixed ones are reported stale.

Unit tests of the matching, then two runs of the basic tests against a mutant
whose every 200 breaks the response schema: one where the expectations file
covers every failure (the nightly job passes), one with a stale entry, an
entry that does not cover the failure, and one that selects nothing.
"""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml

from contracts.checks import REGISTRY, Finding, SentRequest
from harness.known_issues import KnownIssue, KnownIssuesError, glob, load, match, statuses
from tests.selftest.mutants.catalog import serve
from tests.selftest.suite_runner import SuiteRun, run_suite
from tests.selftest.shared import once

KEY = "known-issues-key-3c9e1a"
BASICS = "tests/conformance/test_create_basics.py"
TICKET = "https://tracker.example.com/RT-"


def issue(**fields: Any) -> dict[str, Any]:
    return {"id": "RT-1", "check": "response_schema", "select": {"test": "*"}, "reason": "r", "ticket": TICKET + "1",
            **fields}


# -- matching ---------------------------------------------------------------------------------

def test_glob_treats_brackets_literally() -> None:
    assert glob("*test_x[locale=nb-NO]").match("tests/a.py::test_x[locale=nb-NO]")
    assert not glob("*test_x[locale=nb-NO]").match("tests/a.py::test_x[locale=n]")
    assert glob("tests/*::test_*").match("tests/conformance/t.py::test_y[a/b]")


LOCALE = "/config/fingerprint/locale"
SENT = SentRequest.for_json("POST", "u", {}, {"config": {"fingerprint": {"locale": "nb-NO"}}}, label="locale=nb-NO")
OTHER = SentRequest.for_json("POST", "u", {}, {"config": {"fingerprint": {"locale": "de-DE"}}}, label="locale=de-DE")
HIT = Finding("semantics", "failure", LOCALE, "not reflected")
TEST = "tests/conformance/test_covering_set.py::test_accepts_every_pair[locale=nb-NO]"


def covers(entry: KnownIssue, finding: Finding = HIT, request: SentRequest = SENT, test: str = TEST,
           target: str = "embedded") -> bool:
    return entry.covers(finding, request, test=test, target=target)


def test_an_entry_with_only_a_test_glob_covers_its_check_everywhere_in_those_tests() -> None:
    entry = KnownIssue("RT-1", "semantics", "r", "t", "*test_accepts_every_pair*")
    assert covers(entry) and covers(entry, request=OTHER)
    assert not covers(entry, Finding("status_code", "failure", LOCALE, "x")), "another check"
    assert not covers(entry, test="tests/conformance/test_auth.py::test_x"), "another test"


@pytest.mark.parametrize("selector, miss", [
    ({"label": "locale=nb-*"}, {"request": OTHER}),
    ({"payload": {LOCALE: "nb-NO"}}, {"request": OTHER}),
    ({"pointer": "/config/fingerprint/*"}, {"finding": Finding("semantics", "failure", "/name", "x")}),
    ({"target": "https://*staging*"}, {"target": "embedded"}),
], ids=["label", "payload", "pointer", "target"])
def test_each_selector_narrows(selector: dict[str, Any], miss: dict[str, Any]) -> None:
    """Each selector given must hold: the same entry without it covers the miss, with it does not."""
    entry = KnownIssue("RT-1", "semantics", "r", "t", "*", **selector)
    loose = KnownIssue("RT-1", "semantics", "r", "t", "*")
    hit_target = "https://api.staging.example.com" if "target" in selector else "embedded"
    assert covers(entry, target=hit_target)
    assert covers(loose, **miss) and not covers(entry, **miss)


def test_payload_selectors_compare_json_values_not_python_ones() -> None:
    sent = SentRequest.for_json("POST", "u", {}, {"config": {"lifecycle": {"idleTimeoutMinutes": 1}}})
    finding = Finding("semantics", "failure", "/config/lifecycle/idleTimeoutMinutes", "x")
    for wanted, covered in ((1, True), (1.0, True), (True, False), ("1", False)):
        entry = KnownIssue("RT-1", "semantics", "r", "t", "*", payload={"/config/lifecycle/idleTimeoutMinutes": wanted})
        assert covers(entry, finding, sent) is covered, wanted


def test_match_names_the_entry_per_finding_and_leaves_the_rest() -> None:
    entry = KnownIssue("RT-1", "semantics", "r", "t", "*", pointer=LOCALE)
    found = [HIT, Finding("status_code", "failure", "", "500")]
    assert match([entry], found, SENT, test=TEST, target="embedded") == {0: "RT-1"}


def test_statuses_at_the_end_of_a_run() -> None:
    entries = [KnownIssue("A", "semantics", "r", "t", "*pair*"), KnownIssue("B", "semantics", "r", "t", "*pair*"),
               KnownIssue("C", "semantics", "r", "t", "*nothing*"),
               KnownIssue("D", "semantics", "r", "t", "*", target="https://prod*")]
    assert statuses(entries, tests_run=[TEST], covering={"A": 3}, target="embedded") == {
        "A": "still failing", "B": "stale", "C": "not run", "D": "other target"}


def test_target_selector() -> None:
    entry = KnownIssue("RT-1", "semantics", "r", "t", "*", target="https://*staging*")
    assert entry.applies_to("t::x", "https://api.staging.example.com")
    assert not entry.applies_to("t::x", "embedded")


@pytest.mark.parametrize("entries, message", [
    ([issue(check="respnse_schema")], "names check 'respnse_schema', which does not exist"),
    ([issue(ticket="")], "lacks ticket"),
    ([issue(select={"label": "x"})], "select needs a 'test' glob"),
    ([issue(select={"test": "*", "labl": "x"})], "unknown selector(s) labl"),
    ([issue(select={"test": "*", "payload": {"config": 1}})], "maps JSON pointers"),
    ([issue(), issue()], "duplicate ids RT-1"),
])
def test_a_malformed_file_is_refused_with_the_reason(tmp_path: Path, entries: list[Any], message: str) -> None:
    path = tmp_path / "known.yaml"
    path.write_text(yaml.safe_dump({"issues": entries}))
    with pytest.raises(KnownIssuesError) as raised:
        load(path, REGISTRY)
    assert message in str(raised.value)


def test_the_shipped_file_loads() -> None:
    assert load(Path(__file__).resolve().parents[2] / "known-issues.yaml", REGISTRY) == ()


# -- end to end ---------------------------------------------------------------------------------

def _write(folder: Path, entries: list[dict[str, Any]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "known-issues.yaml"
    path.write_text(yaml.safe_dump({"issues": entries}, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, SuiteRun]:
    return once(tmp_path_factory, "known-issue-runs", _known_issue_runs)


def _known_issue_runs(base: Path) -> dict[str, SuiteRun]:
    all_known = _write(base / "all", [
        issue(id="RT-1", select={"test": f"{BASICS}::test_minimal_payload_is_created*", "pointer": "/status",
                                 "label": "minimal"}),
        issue(id="RT-2", select={"test": "*::test_full_payload_is_created*", "payload": {"/config/stealth": "medium"}}),
    ])
    mixed = _write(base / "mixed", [
        issue(id="RT-3", select={"test": "*::test_minimal_payload_is_created*", "pointer": "/name"}),
        issue(id="RT-4", check="status_code", select={"test": "*::test_missing_authorization_is_rejected*"}),
        issue(id="RT-5", select={"test": "*::test_that_does_not_exist"}),
    ])
    with serve("status-outside-enum", KEY) as server, ThreadPoolExecutor(2) as pool:
        known = pool.submit(run_suite, server.url, KEY, base / "all" / "reports", BASICS, f"--known-issues={all_known}")
        other = pool.submit(run_suite, server.url, KEY, base / "mixed" / "reports", BASICS, f"--known-issues={mixed}")
        return {"all": known.result(), "mixed": other.result()}


def _summary(run: SuiteRun) -> dict[str, Any]:
    return json.loads((run.reports / "summary.json").read_text())


@pytest.mark.suite_run
def test_known_failures_only_pass_the_run_as_xfails(runs) -> None:
    run = runs["all"]
    assert run.returncode == 0, run.output[-2000:]
    summary = _summary(run)
    assert summary["tests"]["xfailed"] == 2 and summary["tests"]["failed"] == 0
    assert {k["id"]: k["status"] for k in summary["known_issues"]} == {"RT-1": "still failing", "RT-2": "still failing"}
    assert summary["findings"]["known"] >= 2 and "response_schema" not in summary["findings"]["by_check"]
    assert {c["check"]: c["verdict"] for c in summary["checks"]}["response_schema"] == "known-issue"
    page = (run.reports / "conformance.html").read_text()
    assert 'id="known-issues"' in page and f'href="{TICKET}1"' in page and 'id="known-findings"' in page
    assert "known issue RT-1" in run.output  # the xfail reason in the terminal


@pytest.mark.suite_run
def test_a_stale_entry_an_uncovered_failure_and_an_unused_entry_are_reported(runs) -> None:
    run = runs["mixed"]
    assert run.returncode == 1
    summary = _summary(run)
    statuses = {k["id"]: k["status"] for k in summary["known_issues"]}
    # RT-3 selects a failing test but not its finding (/status, not /name); RT-4 selects a passing test.
    assert statuses == {"RT-3": "stale", "RT-4": "stale", "RT-5": "not run"}
    assert "XPASS" not in run.output, "a passing test is never failed for a known issue"
    stale = [f for groups in summary["findings"]["by_check"].values() for f in groups if "is stale" in f["message"]]
    assert len(stale) == 2 and all(f["severity"] == "warning" and f["count"] == 1 for f in stale)
    assert summary["tests"]["failed"] == 2  # minimal (its finding not covered), full (no entry)
    assert summary["tests"]["passed"] == 1
