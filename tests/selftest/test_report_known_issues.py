"""Known issues: ticketed deviations become strict xfails; anything else still fails; fixed ones go stale.

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
from harness.known_issues import KnownIssue, KnownIssuesError, explain, glob, load
from tests.selftest.mutants.base import serve
from tests.selftest.suite_runner import SuiteRun, run_suite

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


def test_an_entry_covers_only_its_check_pointer_label_and_payload() -> None:
    entry = KnownIssue("RT-1", "semantics", "r", "t", "*", label="locale=*", pointer="/config/fingerprint/*",
                       payload={"/config/fingerprint/locale": "nb-NO"})
    sent = SentRequest.for_json("POST", "u", {}, {"config": {"fingerprint": {"locale": "nb-NO"}}}, label="locale=nb-NO")
    other = SentRequest.for_json("POST", "u", {}, {"config": {"fingerprint": {"locale": "de-DE"}}}, label="locale=de-DE")
    hit = Finding("semantics", "failure", "/config/fingerprint/locale", "not reflected")
    assert entry.covers(hit, sent)
    assert not entry.covers(hit, other), "payload selector"
    assert not entry.covers(Finding("status_code", "failure", "/config/fingerprint/locale", "x"), sent), "check"
    assert not entry.covers(Finding("semantics", "failure", "/name", "x"), sent), "pointer"
    used, uncovered = explain([entry], [hit, Finding("status_code", "failure", "", "500")], sent)
    assert used == {"RT-1"} and [f.check for f in uncovered] == ["status_code"]


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
    base = tmp_path_factory.mktemp("known")
    all_known = _write(base / "all", [
        issue(id="RT-1", select={"test": f"{BASICS}::test_minimal_payload_is_created", "pointer": "/status",
                                 "label": "minimal"}),
        issue(id="RT-2", select={"test": "*::test_full_payload_is_created", "payload": {"/config/stealth": "medium"}}),
    ])
    mixed = _write(base / "mixed", [
        issue(id="RT-3", select={"test": "*::test_minimal_payload_is_created", "pointer": "/name"}),
        issue(id="RT-4", check="status_code", select={"test": "*::test_missing_authorization_is_rejected"}),
        issue(id="RT-5", select={"test": "*::test_that_does_not_exist"}),
    ])
    with serve("status-outside-enum", KEY) as server, ThreadPoolExecutor(2) as pool:
        known = pool.submit(run_suite, server.url, KEY, base / "all" / "reports", BASICS, f"--known-issues={all_known}")
        other = pool.submit(run_suite, server.url, KEY, base / "mixed" / "reports", BASICS, f"--known-issues={mixed}")
        return {"all": known.result(), "mixed": other.result()}


def _summary(run: SuiteRun) -> dict[str, Any]:
    return json.loads((run.reports / "summary.json").read_text())


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


def test_a_stale_entry_an_uncovered_failure_and_an_unused_entry_are_reported(runs) -> None:
    run = runs["mixed"]
    assert run.returncode == 1
    statuses = {k["id"]: k["status"] for k in _summary(run)["known_issues"]}
    assert statuses == {"RT-3": "new failures beside it", "RT-4": "stale", "RT-5": "not run"}
    assert "[XPASS(strict)] stale known issue" in run.output and "remove the entry" in run.output
    assert "new failure, not covered by known issue(s) RT-3" in run.output
    assert _summary(run)["tests"]["failed"] == 3  # minimal (uncovered), full (no entry), missing-auth (stale)
