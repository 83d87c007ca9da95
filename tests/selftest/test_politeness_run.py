"""Politeness as a user meets it: whole `pytest` runs with the staging options.

- The embedded mock answers 429 with Retry-After: 1 to every third create: the run passes,
  never sends more creates than the budget, and the report counts the 429s.
- A remote (loopback) server: every created runtime lands in created-runtimes.json with the
  run's name prefix, and the configured cleanup template deletes each one.
- Usage errors: a production-looking URL without --allow-production, a bad known-issues
  file, a bad cleanup template, a negative budget: exit 4 with one line.
"""
from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from contracts import load_contract
from mock import MockSettings, ServerThread, create_app
from tests.selftest.suite_runner import SuiteRun, run_embedded, run_suite
from tests.selftest.shared import once

# Runs the whole suite in subprocesses (deselect with -m "not suite_run" for the fast unit part).
pytestmark = pytest.mark.suite_run

KEY = "politeness-run-key-8d2f"
BUDGET = 18  # every third create waits 1 s: about 6 s of waiting
ENUM_TESTS = ("tests/conformance/test_create_basics.py", "tests/conformance/test_covering_set.py",
              "-k", "minimal or every_enum_value")


def with_delete(app: Any, deleted: list[str]) -> Any:
    """The reference mock plus `DELETE /v2/runtimes/{id}` (204 if it exists, else 404): a cleanup target."""
    store = app.state.store

    async def wrapped(scope: dict, receive: Any, send: Any) -> None:
        match = re.fullmatch(r"/v2/runtimes/([^/]+)", scope.get("path", "")) if scope["type"] == "http" else None
        if match is None or scope["method"] != "DELETE":
            await app(scope, receive, send)
            return
        known = match.group(1) in store.ids() and match.group(1) not in deleted
        if known:
            deleted.append(match.group(1))
        await send({"type": "http.response.start", "status": 204 if known else 404, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    wrapped.state = app.state  # type: ignore[attr-defined]
    return wrapped


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return once(tmp_path_factory, "polite-runs", _polite_runs)


def _polite_runs(base: Path) -> dict[str, Any]:
    app = create_app(MockSettings(frozenset({KEY})), load_contract())
    deleted: list[str] = []
    with ServerThread(with_delete(app, deleted)) as server, ThreadPoolExecutor(2) as pool:
        # One request at a time: the mock throttles every third create *arrival*, so with several in
        # flight the order they arrive in after a shared Retry-After decides which request is throttled
        # again, and on a loaded CI machine one was throttled four times in a row and given up (as the
        # retry policy says). In sequence a retry is the next arrival: never throttled twice running.
        # 429s under concurrency: tests/selftest/test_faults.py (the 429 storm, with the helper).
        throttled = pool.submit(run_embedded, base / "throttled", *ENUM_TESTS, "--mock-throttle-every=3",
                                "--mock-retry-after=1", f"--max-creates={BUDGET}", "--concurrency=1")
        remote = pool.submit(run_suite, server.url, KEY, base / "remote", *ENUM_TESTS, "--rate-limit=50",
                             "--cleanup-template=DELETE /v2/runtimes/{id}")
        return {"throttled": throttled.result(), "remote": remote.result(), "store": app.state.store.ids(),
                "deleted": deleted}


def _summary(run: SuiteRun) -> dict[str, Any]:
    return json.loads((run.reports / "summary.json").read_text())


def test_throttled_run_passes_within_budget_and_counts_the_429s(runs) -> None:
    run = runs["throttled"]
    # The budget is too small for every deterministic test: the run says so (exit 14, never green).
    assert run.returncode == 14, run.output[-3000:]
    summary = _summary(run)
    requests, limits = summary["requests"], summary["politeness"]
    assert limits["max_creates"] == BUDGET and limits["creates_used"] <= BUDGET
    assert requests["throttled_429"] >= BUDGET // 3 - 1, "every third create was answered 429 and counted"
    assert requests["throttled_gave_up"] == 0 and requests["waited_seconds"] >= requests["throttled_429"]
    assert requests["budget_refusals"] >= 1 and summary["tests"]["skipped"] >= 1
    assert "request budget exhausted" in run.output
    assert summary["not_tested"]["tests"] >= 1 and "budget" in summary["not_tested"]["line"]
    assert "429" not in {str(s) for s in requests["by_status"]}, "no test ever saw a 429: each was waited out"
    assert all(c["verdict"] in ("passed", "not applicable") for c in summary["checks"])
    page = (run.reports / "conformance.html").read_text()
    assert f"{requests['throttled_429']} answered 429" in page


def test_remote_runtimes_are_listed_with_the_run_prefix_and_cleaned_up(runs) -> None:
    run = runs["remote"]
    assert run.returncode == 0, run.output[-3000:]
    listing = json.loads((run.reports / "created-runtimes.json").read_text())
    summary = _summary(run)
    assert listing["run_id"] == summary["run_id"] and listing["name_prefix"] == f"conformance-{summary['run_id']}-"
    ids = [r["id"] for r in listing["runtimes"]]
    assert sorted(ids) == sorted(runs["store"]), "every runtime the server holds is listed, and only those"
    named = [r["name"] for r in listing["runtimes"] if r["name"] and r["test"].startswith("tests/conformance/test_covering")]
    assert named and all(name.startswith(listing["name_prefix"]) for name in named)
    assert all(r["at"] and r["test"] for r in listing["runtimes"])
    assert sorted(runs["deleted"]) == sorted(ids)
    assert all(r["cleanup"] == {"status": 204} for r in listing["runtimes"])
    assert summary["cleanup"] == {"template": "DELETE /v2/runtimes/{id}", "attempted": len(ids), "succeeded": len(ids)}
    assert summary["politeness"]["rate_limit"] == 50.0
    assert "cleanup: " in run.output and f"{len(ids)}/{len(ids)} runtimes removed" in run.output


USAGE = {
    "production": ("https://api.bctrl.ai", (), "looks like production"),
    "known-issues-missing": ("http://127.0.0.1:9", ("--known-issues=/nonexistent/known.yaml",),
                             "known issues file not found"),
    "cleanup-template": ("http://127.0.0.1:9", ("--cleanup-template=DELETE runtimes",), "must read 'METHOD /path/{id}'"),
    "negative-budget": ("http://127.0.0.1:9", ("--max-creates=-1",), "--max-creates must be 0 or more"),
}


@pytest.fixture(scope="module")
def usage_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, SuiteRun]:
    return once(tmp_path_factory, "staging-usage-runs", _usage_runs)


def _usage_runs(base: Path) -> dict[str, SuiteRun]:
    with ThreadPoolExecutor(4) as pool:  # start-up dominates: run them side by side
        futures = {name: pool.submit(run_suite, url, KEY, base / name, *args, timeout=120)
                   for name, (url, args, _) in USAGE.items()}
        return {name: future.result() for name, future in futures.items()}


@pytest.mark.parametrize("case", sorted(USAGE))
def test_usage_errors_exit_4_with_one_line(usage_runs: dict[str, SuiteRun], case: str) -> None:
    run, message = usage_runs[case], USAGE[case][2]
    assert run.returncode == 4, run.output[-1500:]
    assert message in run.output and "Traceback" not in run.output
