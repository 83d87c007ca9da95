"""`pytest --drift-from=OLD` and `--upstream-contract=NEWER`: the drift section of a run, asked of real servers.

Version pairs are edits of the vendored document (tests/selftest/test_drift.py).
The embedded mock serves OLD, so an added locale is "not implemented" there, and
the probe reads the covering row that already sent it (nothing sent twice); a
server built from NEW implements it; with the unchanged contract there is no
drift item at all; with --upstream-contract the run tests the vendored contract,
so a change staging has not made yet is an expected failure, not a red run.
"""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from contracts import Contract, load_contract
from harness.recording import read_events
from mock import MockSettings, ServerThread, create_app
from tests.selftest.shared import once
from tests.selftest.suite_runner import SuiteRun, run_embedded, run_suite
from tests.selftest.test_drift import NEW_LOCALE, UPSTREAM, _append_enum, enum_pointer, upstream, write

pytestmark = pytest.mark.suite_run

KEY = "drift-run-selftest-key-0123456789"
# The drift test and the rows that send every locale: enough to see the reuse, a few seconds a run.
ONLY = ["-k", "test_drift_probe or test_accepts_every_pair or test_minimal_payload_is_created"]


def _runs(base: Path) -> dict[str, Any]:
    contract = load_contract()
    new = upstream()
    _append_enum("request", "locale", NEW_LOCALE)(new, contract)
    new_path = write(base / "locale-added.yaml", new)
    new_contract = load_contract(new_path)
    with ServerThread(create_app(MockSettings(frozenset({KEY})), new_contract)) as server, \
            ThreadPoolExecutor(2) as pool:
        jobs = {
            "mock": pool.submit(run_embedded, base / "mock", f"--contract={new_path}", f"--drift-from={UPSTREAM}",
                                *ONLY),
            "new-server": pool.submit(run_suite, server.url, KEY, base / "new-server", f"--contract={new_path}",
                                      f"--drift-from={UPSTREAM}", *ONLY),
            "unchanged": pool.submit(run_embedded, base / "unchanged", f"--drift-from={UPSTREAM}", *ONLY),
            "upstream": pool.submit(run_embedded, base / "upstream", f"--upstream-contract={new_path}", *ONLY),
            "both": pool.submit(run_embedded, base / "both", f"--drift-from={UPSTREAM}",
                                f"--upstream-contract={new_path}"),
            "missing": pool.submit(run_embedded, base / "missing", f"--drift-from={base / 'nope.yaml'}"),
        }
        return {name: job.result() for name, job in jobs.items()}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return once(tmp_path_factory, "drift-runs", _runs)


def _summary(run: SuiteRun) -> dict[str, Any]:
    return json.loads((run.reports / "summary.json").read_text())


def _probe(run: SuiteRun) -> dict[str, Any]:
    (probe,) = _summary(run)["drift"]["probes"]
    return probe


def test_an_added_locale_is_not_implemented_by_the_mock_of_old(runs, loaded_contract: Contract) -> None:
    run = runs["mock"]
    assert run.returncode == 1, run.output[-3000:]
    probe = _probe(run)
    assert probe["subject"] == f"{enum_pointer(loaded_contract, 'request', 'locale')}={NEW_LOCALE}"
    assert probe["verdict"] == "not implemented", probe
    assert "drift not implemented" in run.output and "NOT IMPLEMENTED" in run.output
    assert "curl" in run.output.split("drift not implemented", 1)[1][:2000], "the failure carries its reproduction"


def test_the_probe_reads_the_covering_row_instead_of_sending_again(runs) -> None:
    run = runs["mock"]
    probe = _probe(run)
    assert probe["shared"] and probe["reads"].startswith("test_accepts_every_pair["), probe
    exchanges = [e for e in read_events(run.reports / ".events") if e.get("kind") == "exchange"]
    with_locale = [e for e in exchanges if NEW_LOCALE in json.dumps((e["request"] or {}).get("payload"))]
    assert with_locale and all("test_covering_set.py" in e["test"] for e in with_locale), \
        "every request with the new locale is a covering row's: the probe sent none of its own"


def test_a_server_of_new_implements_it(runs) -> None:
    run = runs["new-server"]
    assert run.returncode == 0, run.output[-3000:]
    assert _probe(run)["verdict"] == "implemented"
    assert "0 not implemented" in run.output


def test_the_unchanged_contract_has_no_drift_item(runs) -> None:
    run = runs["unchanged"]
    assert run.returncode == 0, run.output[-3000:]
    drift = _summary(run)["drift"]
    assert drift["changes"] == [] and drift["probes"] == []
    assert "test_drift_probe" not in run.output and "skipped" not in run.output.splitlines()[-1]


def test_upstream_changes_head_the_report_without_failing_the_run(runs) -> None:
    run = runs["upstream"]
    assert run.returncode == 0, run.output[-3000:]
    assert _probe(run)["verdict"] == "not implemented" and "1 xfailed" in run.output
    page = (run.reports / "conformance.html").read_text()
    assert 0 < page.index('id="drift"') < page.index('id="defects"'), "the drift summary comes before the defects"
    assert "contract drift: 1 change(s)" in run.output


@pytest.mark.parametrize("name, says", [("both", "give one"), ("missing", "no such file")])
def test_a_drift_usage_error_is_one_line_exit_4(runs, name: str, says: str) -> None:
    run = runs[name]
    assert run.returncode == 4 and says in run.output and "Traceback" not in run.output, run.output[-2000:]
