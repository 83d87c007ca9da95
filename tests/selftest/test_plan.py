"""The request plan as a user and a shared server meet it: whole `pytest` runs against a server that counts.

- `pytest --plan` prints the plan (groups with their requests, creates and refusals, the
  exploratory share, the expected duration) and sends nothing; with too small a budget it says so.
- Requests really overlap, and never more than `--concurrency` of them (counted at the server);
  the burst of simultaneous creates alone is enough to catch ids handed out twice (racy-ids).
- Under concurrency the rate limit still holds at the server, in any one-second window (a sliding
  window over arrival times), and the server never sees more creates than `--max-creates`.
"""
from __future__ import annotations

import json
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import pytest

from benchmarks.counting import RequestCounter, most_in_window
from mock import ServerThread
from tests.selftest.mutants import build_app, serve
from tests.selftest.suite_runner import SuiteRun, run_suite

pytestmark = pytest.mark.suite_run

KEY = "plan-selftest-key-5b1e9c"
ROW = re.compile(r"^  (?P<group>[a-z][a-z-]*)\s+(?P<requests>\d+)\s+(?P<create>\d+)\s+(?P<refusal>\d+)\s+"
                 r"(?P<other>\d+)$")


@contextmanager
def counted(latency: float = 0.0, name: str = "reference") -> Iterator[tuple[str, RequestCounter]]:
    """The reference mock (or a mutant) behind a RequestCounter delaying every answer by `latency`."""
    counter = RequestCounter(build_app(name, KEY), latency=latency)
    with ServerThread(counter) as server:
        yield server.url, counter


def summary_of(run: SuiteRun) -> dict[str, Any]:
    return json.loads((run.reports / "summary.json").read_text())


# -- --plan ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def plan_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from concurrent.futures import ThreadPoolExecutor

    base = tmp_path_factory.mktemp("plan")
    with counted() as (url, counter), ThreadPoolExecutor(2) as pool:  # start-up dominates: side by side
        plain = pool.submit(run_suite, url, KEY, base / "plain", "--plan", timeout=120)
        tight = pool.submit(run_suite, url, KEY, base / "tight", "--plan", "--max-creates=10", timeout=120)
        runs = {"plain": plain.result(), "tight": tight.result()}
        runs["seen"] = counter.take()
    return runs


def test_plan_prints_groups_costs_exploration_and_duration_and_sends_nothing(plan_runs: dict[str, Any]) -> None:
    run = plan_runs["plain"]
    assert run.returncode == 0, run.output[-3000:]
    assert plan_runs["seen"]["requests"] == 0, f"--plan sent requests: {plan_runs['seen']}"
    lines = run.output.splitlines()
    assert any(line.startswith("request plan: POST /v2/runtimes on http://127.0.0.1:") for line in lines)
    header = next(line for line in lines if line.strip().startswith("group"))
    assert header.split() == ["group", "requests", "creates", "refusals", "other"]
    rows = {m["group"]: {k: int(v) for k, v in m.groupdict().items() if k != "group"}
            for m in map(ROW.match, lines) if m}
    total = rows.pop("deterministic")
    assert {"basics", "auth", "covering", "boundary", "framing", "invalid", "protocol", "burst"} <= set(rows)
    for column in ("requests", "create", "refusal", "other"):
        assert total[column] == sum(r[column] for r in rows.values()), column
    assert total["create"] > 0 and total["refusal"] > 0
    assert rows["invalid"]["refusal"] == rows["invalid"]["requests"], "an invalid body costs no create when refused"
    exploratory = next(line for line in lines if line.startswith("exploratory: "))
    assert "test_accepts_valid_payloads" in exploratory and "test_schemathesis" in exploratory
    assert re.search(r"expected duration of the deterministic part: ~\d+ s at [\d.]+ s per answer", run.output)
    assert "budget: none" in run.output  # a server on this machine: no budget unless asked


def test_plan_with_too_small_a_budget_says_not_enough(plan_runs: dict[str, Any]) -> None:
    run = plan_runs["tight"]
    assert run.returncode == 0, run.output[-3000:]
    line = next(line for line in run.output.splitlines() if line.startswith("budget: "))
    assert line.startswith("budget: 10 creates") and "NOT ENOUGH" in line and "--max-creates" in line


# -- requests in flight ------------------------------------------------------------------------------

def test_planned_requests_overlap_within_the_concurrency(tmp_path: Path) -> None:
    with counted(latency=0.05) as (url, counter):
        run = run_suite(url, KEY, tmp_path, "-k", "test_boundary_value or test_rejects_lax_json",
                        "--concurrency=4", timeout=180)
        seen = counter.take()
    assert run.returncode == 0, run.output[-3000:]
    assert seen["requests"] >= 100, seen
    assert 1 < seen["most_in_flight"] <= 4, f"in flight at the server with --concurrency 4: {seen}"


def test_the_burst_alone_catches_ids_handed_out_twice(tmp_path: Path) -> None:
    with serve("racy-ids", KEY) as server:
        run = run_suite(server.url, KEY, tmp_path, "-k", "test_overlapping_creates", "--concurrency=8", timeout=180)
    assert run.returncode == 1, run.output[-3000:]
    summary = summary_of(run)
    judged = summary["tests"]
    assert judged["passed"] + judged["failed"] == 8, judged  # the burst's creates, nothing else
    assert "unique_ids" in summary["findings"]["by_check"], summary["findings"]["by_check"]
    assert "unique_ids" in run.output


# -- politeness under concurrency --------------------------------------------------------------------

def test_rate_limit_holds_at_the_server_in_any_one_second_window(tmp_path: Path) -> None:
    # Answers take longer than the pacing interval, so several requests are in flight at once.
    with counted(latency=0.3) as (url, counter):
        run = run_suite(url, KEY, tmp_path, "-k", "test_rejects_lax_json", "--rate-limit=10", "--concurrency=8",
                        timeout=180)
        arrivals = sorted(counter.arrivals)
        seen = counter.take()
    assert run.returncode == 0, run.output[-3000:]
    assert len(arrivals) >= 20 and seen["most_in_flight"] > 1, seen
    busiest = most_in_window(arrivals, 1.0)
    gaps_ms = [round((b - a) * 1000) for a, b in zip(arrivals, arrivals[1:])]
    assert busiest <= 10, f"{busiest} requests in one second at the server with --rate-limit 10; gaps (ms): {gaps_ms}"


def test_budget_is_never_exceeded_at_the_server_with_requests_in_flight(tmp_path: Path) -> None:
    # The burst reserves 8 creates at once, then Hypothesis' payloads are prefetched 8 at a time:
    # the budget runs out while creates are in flight.
    budget = 20
    with counted(latency=0.05) as (url, counter):
        run = run_suite(url, KEY, tmp_path, "-k", "test_overlapping_creates or test_accepts_valid_payloads",
                        f"--max-creates={budget}", "--concurrency=8", "--prefetch=always", timeout=180)
        seen = counter.take()
    summary = summary_of(run)
    assert run.returncode == 0, run.output[-3000:]  # only the exploratory test ran out of budget
    assert seen["creates"] <= budget, f"the server saw {seen['creates']} creates with --max-creates {budget}"
    assert seen["creates"] == summary["politeness"]["creates_used"] == budget
    assert summary["requests"]["budget_refusals"] >= 1 and seen["most_in_flight"] > 1, (summary["requests"], seen)
