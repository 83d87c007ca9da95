"""The conformance report, read as a person would: after a run against a mutant, the summary,
the verdict per check, the coverage matrix and the distinct defects are on the page, the curl
line replays the failure, and `pytest -n 2` gives the same verdicts and one merged report.
(The page in a browser: test_report_browser.py.)

Two runs of the whole suite (one serial, one with two xdist workers) in parallel, against
one mutant that stays up so the report's curl line can be replayed against it.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Iterator

import pytest

from contracts import Contract
from contracts.checks import REGISTRY
from tests.selftest.mutants.catalog import serve
from tests.selftest.suite_runner import SuiteRun, run_suite
from tests.selftest.shared import once

# Runs the whole suite in subprocesses (deselect with -m "not suite_run" for the fast unit part).
pytestmark = pytest.mark.suite_run

KEY = "report-selftest-key-5b1d0c"
MUTANT = "status-outside-enum"  # every 200 carries status 'running': response_schema must fail
# The deterministic modules: every request enum value and branch, auth. The
# Hypothesis and schemathesis modules add time (shrinking every failure) but nothing to the report's shape.
MODULES = tuple(f"tests/conformance/{name}.py" for name in
                ("test_create_basics", "test_covering_set", "test_auth"))


class Page(HTMLParser):
    """The text inside each element with an id, and every tag's attributes, of a static HTML page."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text_by_id: dict[str, list[str]] = {}
        self._open: list[str | None] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        self.tags.append((tag, attributes))
        if tag not in ("br", "meta", "input", "img", "link", "source"):
            self._open.append(attributes.get("id"))
            if attributes.get("id"):
                self.text_by_id.setdefault(attributes["id"], [])

    def handle_endtag(self, tag: str) -> None:
        if self._open and tag not in ("br", "meta", "input", "img", "link", "source"):
            self._open.pop()

    def handle_data(self, data: str) -> None:
        for ident in self._open:
            if ident:
                self.text_by_id[ident].append(data)

    def text(self, ident: str) -> str:
        return " ".join(" ".join(self.text_by_id.get(ident, [])).split())


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return once(tmp_path_factory, "report-runs", _report_runs)


def _report_runs(base: Path) -> dict[str, Any]:
    with serve(MUTANT, KEY) as server:
        with ThreadPoolExecutor(2) as pool:
            serial = pool.submit(run_suite, server.url, KEY, base / "serial", *MODULES)
            parallel = pool.submit(run_suite, server.url, KEY, base / "parallel", "-n", "2", *MODULES)
            return {"url": server.url, "serial": serial.result(), "parallel": parallel.result()}


def _summary(run: SuiteRun) -> dict[str, Any]:
    return json.loads((run.reports / "summary.json").read_text())


def _outcomes(run: SuiteRun) -> dict[str, str]:
    root = ET.parse(run.reports / "junit.xml").getroot()
    outcomes = {}
    for case in root.iter("testcase"):
        kind = next((child.tag for child in case if child.tag in ("failure", "error", "skipped")), "passed")
        outcomes[f"{case.get('classname')}::{case.get('name')}"] = kind
    return outcomes


def test_the_run_fails_on_the_mutant_with_the_right_check(runs) -> None:
    run = runs["serial"]
    assert run.returncode == 1, run.output[-2000:]
    verdicts = {c["check"]: c["verdict"] for c in _summary(run)["checks"]}
    assert verdicts["response_schema"] == "failed"
    assert set(REGISTRY) <= set(verdicts)


def test_summary_section_is_at_the_top_and_names_the_facts(runs, loaded_contract: Contract) -> None:
    run = runs["serial"]
    html = (run.reports / "conformance.html").read_text()
    page = Page(html)
    assert html.index('id="conformance"') < html.index('id="results-table"'), "the summary comes before the test table"
    facts = page.text("conformance-facts")
    summary = _summary(run)
    for fact in (runs["url"], loaded_contract.title, loaded_contract.version, loaded_contract.sha256,
                 summary["run_id"], str(summary["seed"]), summary["hypothesis_profile"],
                 str(summary["requests"]["sent"])):
        assert fact in facts, f"{fact!r} missing from the facts table: {facts[:400]}"
    assert summary["schemathesis_coverage_modes"] == ["positive"]  # the default (ci) profile
    assert "schemathesis coverage phase: positive cases" in facts
    for erratum in loaded_contract.errata:
        assert erratum.id in page.text("errata") and erratum.id in facts
    assert "NOT CONFORMING: 1 distinct defect" in page.text("conformance-verdict")


def test_verdict_per_check_lists_every_registered_check(runs) -> None:
    page = Page((runs["serial"].reports / "conformance.html").read_text())
    table = page.text("conformance-checks")
    for name in REGISTRY:
        assert name in table
    assert re.search(r"response_schema .*? failed", table)


def test_coverage_matrix_shows_every_request_enum_value_and_branch(runs, loaded_contract: Contract) -> None:
    page = Page((runs["serial"].reports / "conformance.html").read_text())
    matrix = page.text("coverage-matrix")
    assert matrix, "the request coverage matrix is on the page"
    for entry in loaded_contract.enums_on("request"):
        assert entry.pointer in matrix
        for value in entry.values:
            assert re.search(rf"(^|\s){re.escape(str(value))} \d+", matrix), f"{entry.pointer}={value} not in the matrix"
    for variant in loaded_contract.variants_on("request"):
        for label in variant.labels:
            assert f"{label} " in matrix
    response = page.text("coverage-matrix-response")
    assert "running" in response, "the undocumented response value observed is shown"
    statuses = page.text("conformance-statuses")
    assert "200" in statuses


def test_defects_carry_pointer_expectation_request_and_curl(runs) -> None:
    run = runs["serial"]
    page = Page((run.reports / "conformance.html").read_text())
    defects = page.text("defects")
    assert "response_schema" in defects and "/status" in defects
    assert "'running' is not one of" in defects
    assert "expected enum" in defects and "got 'running'" in defects
    assert "POST " in defects and "HTTP 200" in defects, "redacted request and response shown"
    assert "curl -sS -i -X POST" in defects and "$BCTRL_API_KEY" in defects
    assert KEY not in (run.reports / "conformance.html").read_text()


def test_the_mutant_is_one_defect_on_every_answer_and_the_views_agree(runs) -> None:
    run = runs["serial"]
    summary = _summary(run)
    (defect,) = summary["defects"]
    assert defect["pointer"] == "/status" and defect["check"] == "response_schema"
    assert defect["only_when"] == "", "every 200 is wrong, whatever was sent: no request value singles it out"
    assert defect["exchanges"] == summary["findings"]["failing_exchanges"]
    verdict = summary["verdict"]["lines"][0]
    assert verdict.startswith("NOT CONFORMING: 1 distinct defect in ")
    assert verdict in run.output, "the terminal says what summary.json says"
    assert verdict in Page((run.reports / "conformance.html").read_text()).text("conformance-verdict")


def test_report_is_self_contained(runs) -> None:
    page = Page((runs["serial"].reports / "conformance.html").read_text())
    for tag, attributes in page.tags:
        assert not (tag in ("script", "img") and attributes.get("src", "").strip()), f"external {tag}: {attributes}"
        assert not (tag == "link" and attributes.get("href")), f"external stylesheet: {attributes}"


def test_summary_json_holds_the_same_facts_as_the_page(runs) -> None:
    run = runs["serial"]
    summary = _summary(run)
    page = Page((run.reports / "conformance.html").read_text())
    assert f"{summary['requests']['sent']} ({summary['requests']['exchanges']} judged" in page.text("conformance-facts")
    assert summary["findings"]["failures"] > 0
    group = summary["findings"]["by_check"]["response_schema"][0]
    assert group["pointer"] == "/status" and group["count"] == sum(
        g["count"] for g in summary["findings"]["by_check"]["response_schema"] if g["pointer"] == "/status")
    assert {c["value"] for c in summary["coverage"]["request"]} >= {"nb-NO", "custom", "saved", "null"}


def test_the_curl_line_replays_the_failure(runs) -> None:
    example = _summary(runs["serial"])["findings"]["by_check"]["response_schema"][0]["examples"][0]
    assert example["curl"].startswith("curl ") and runs["url"] in example["curl"]
    with serve(MUTANT, KEY) as server:  # the same server again (the run's one has stopped), on another port
        done = subprocess.run(["bash", "-c", example["curl"].replace(runs["url"], server.url)], capture_output=True,
                              text=True, timeout=30, env={**os.environ, "BCTRL_API_KEY": KEY})
    assert done.returncode == 0, done.stderr
    assert re.search(r"HTTP/1\.1 200", done.stdout) and '"status": "running"' in done.stdout, done.stdout[:500]


def test_two_workers_give_the_same_verdicts_and_one_merged_report(runs) -> None:
    serial, parallel = runs["serial"], runs["parallel"]
    assert parallel.returncode == serial.returncode
    assert _outcomes(parallel) == _outcomes(serial)
    one, two = _summary(serial), _summary(parallel)
    assert [(c["check"], c["verdict"]) for c in one["checks"]] == [(c["check"], c["verdict"]) for c in two["checks"]]
    assert one["tests"] == two["tests"]
    files = sorted(p.name for p in (parallel.reports / ".events").glob("*.jsonl"))
    assert two["workers"] == 2 and files[:2] == ["gw0.jsonl", "gw1.jsonl"] and len(files) == 3
    assert files[2].startswith("main-"), "the controller records the run header, the footer and nothing else"
    tests_seen = {json.loads(line)["test"] for p in (parallel.reports / ".events").glob("gw*.jsonl")
                  for line in p.read_text().splitlines() if '"kind": "exchange"' in line}
    assert len(tests_seen) > 1
    # Every worker used the controller's run id and seed: names and replays refer to one run.
    assert {(p["worker"], p["run_id"], p["seed"]) for p in two["processes"]} == {
        ("main", two["run_id"], two["seed"]), ("gw0", two["run_id"], two["seed"]), ("gw1", two["run_id"], two["seed"])}
    names = [r["name"] for r in json.loads((parallel.reports / "created-runtimes.json").read_text())["runtimes"]
             if r["name"] and r["name"].startswith("conformance-")]
    assert names and all(n.startswith(f"conformance-{two['run_id']}-") for n in names)
    page = Page((parallel.reports / "conformance.html").read_text())
    assert (parallel.reports / "conformance.html").read_text().count('id="conformance"') == 1
    assert f"{two['requests']['sent']} (" in page.text("conformance-facts")
