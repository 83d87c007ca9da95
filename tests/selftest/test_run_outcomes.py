"""A run that could not test says so: exit 12 (key refused), 13 (space or minimal create refused), never green.

Also the periodic progress line a long run prints, and `--compare-with`: a run
against a defective server, then one against the reference comparing with it,
names the defect fixed.
"""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from mock import MockSettings, ServerThread, create_app
from tests.selftest.mutants import build_app
from tests.selftest.shared import once
from tests.selftest.suite_runner import SuiteRun, run_embedded, run_suite

pytestmark = pytest.mark.suite_run

KEY = "outcomes-selftest-key-0123456789"
FEW = ["-k", "test_accepts_every_enum_value or test_minimal_payload_is_created"]


async def _no_such_space(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Every request answered 404 "space not found": the key is fine, the space is not."""
    if scope["type"] != "http":
        return
    body = json.dumps({"error": {"code": "not_found", "message": "space not found"}}).encode()
    await send({"type": "http.response.start", "status": 404, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


def _runs(base: Path) -> dict[str, SuiteRun]:
    reference = create_app(MockSettings(frozenset({KEY})))
    with ServerThread(reference) as good, ServerThread(_no_such_space) as no_space, \
            ServerThread(build_app("ignores-locale", KEY)) as mutant, ThreadPoolExecutor(2) as pool:
        jobs = {
            "wrong-key": pool.submit(run_suite, good.url, "not-the-key-0123456789", base / "wrong-key", *FEW),
            "no-space": pool.submit(run_suite, no_space.url, KEY, base / "no-space", *FEW),
            # One request at a time, 50 ms each: the run lasts about 2 s, many progress intervals. With
            # requests in flight it took 30 ms, and on a busy machine could end before the first line.
            "progress": pool.submit(run_embedded, base / "progress", "--progress-every=0.1", "--mock-latency=0.05",
                                    "--concurrency=1", "-p", "no:randomly", *FEW),
            "mutant": pool.submit(run_suite, mutant.url, KEY, base / "mutant", *FEW),
        }
        runs = {name: job.result() for name, job in jobs.items()}
        runs["fixed"] = run_suite(good.url, KEY, base / "fixed", *FEW,
                                  f"--compare-with={base / 'mutant' / 'summary.json'}")
    return runs


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, SuiteRun]:
    return once(tmp_path_factory, "outcome-runs", _runs)


def _summary(run: SuiteRun) -> dict[str, Any]:
    return json.loads((run.reports / "summary.json").read_text())


def test_a_refused_key_stops_the_run_with_exit_12(runs) -> None:
    run = runs["wrong-key"]
    assert run.returncode == 12, run.output[-3000:]
    summary = _summary(run)
    assert summary["not_tested"]["reason"] == "credentials-refused" and summary["requests"]["sent"] <= 2
    assert "nothing was tested" in run.output and "BCTRL_API_KEY" in run.output and "Traceback" not in run.output
    assert summary["verdict"]["state"] == "not-tested", summary["verdict"]
    assert "not-the-key-0123456789" not in run.output + (run.reports / "conformance.html").read_text()


def test_a_refused_space_stops_the_run_with_exit_13(runs) -> None:
    run = runs["no-space"]
    assert run.returncode == 13, run.output[-3000:]
    summary = _summary(run)
    assert summary["not_tested"]["reason"] == "space-refused" and "404" in summary["not_tested"]["line"]
    assert "nothing else was tested" in run.output and "--space-id" in run.output
    assert summary["verdict"]["state"] == "not-tested", summary["verdict"]


def test_a_long_run_prints_progress(runs) -> None:
    """Lines printed while tests run reach the terminal, not the running test's captured output."""
    run = runs["progress"]
    assert run.returncode == 0, run.output[-3000:]
    lines = [line for line in run.output.splitlines() if line.startswith("[bctrl]")]
    assert len(lines) >= 3 and all("judged" in line for line in lines), run.output[-2000:]
    assert sum("; now tests/conformance/" in line for line in lines) >= 2, lines  # during a test, not between
    assert "[bctrl]" not in (run.reports / "conformance.html").read_text(), "a progress line in a test's output"


def test_compare_with_names_the_defect_fixed(runs) -> None:
    assert runs["mutant"].returncode == 1
    run = runs["fixed"]
    assert run.returncode == 0, run.output[-3000:]
    trend = _summary(run)["trend"]
    assert len(trend["fixed"]) == 1 and not trend["new"], trend
    assert "1 fixed since" in run.output and "FIXED [semantics]" in run.output
