"""`pytest -n 2` against the embedded mock: the workers share the controller's mock, key and space.

Each process used to resolve its own target, so a worker held a fresh random key
the controller's mock had never heard of: every request a worker sent itself was
refused (401) and the run failed on a correct server. The plan's answers reach
the workers through a pickle file; MISSING (a body that is not JSON) must come
back as the one MISSING, or a raw-body exchange cannot be rendered.
"""
from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

from contracts.checks.model import MISSING, Exchange, Received, SentRequest
from tests.selftest.suite_runner import run_embedded


def test_missing_stays_the_one_missing_across_a_pickle() -> None:
    request = SentRequest("POST", "http://127.0.0.1/v2/runtimes", {}, b"{NaN}")
    response = Received(400, {"content-type": "text/plain"}, b"no")
    copy = pickle.loads(pickle.dumps(Exchange(request, response)))
    assert copy.request.payload is MISSING and copy.response.json is MISSING


@pytest.mark.suite_run
def test_two_workers_on_the_embedded_mock_pass(tmp_path: Path) -> None:
    run = run_embedded(tmp_path / "reports", "-n", "2")
    assert run.returncode == 0, run.output[-3000:]
    summary = json.loads((run.reports / "summary.json").read_text())
    workers = {p["worker"] for p in summary["processes"]}
    assert {"gw0", "gw1"} <= workers, workers  # both workers took part
    assert summary["tests"]["failed"] == 0 and summary["tests"]["passed"] > 700, summary["tests"]
