"""An embedded run forks a helper for the exploratory tests (harness/plugin/fork.py): same verdicts, every report.

Each test runs the whole suite against the embedded mock, in a subprocess.
"""
from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.selftest.suite_runner import run_embedded

pytestmark = pytest.mark.suite_run


def _summary(reports: Path) -> dict:
    return json.loads((reports / "summary.json").read_text())


def test_the_helper_runs_the_exploratory_tests_with_the_same_outcome(tmp_path: Path) -> None:
    forked = run_embedded(tmp_path / "forked", "--hypothesis-seed=7")
    alone = run_embedded(tmp_path / "alone", "--hypothesis-seed=7", "--one-process")
    assert forked.returncode == alone.returncode == 0, (forked.output[-2000:], alone.output[-2000:])
    one, two = _summary(forked.reports), _summary(alone.reports)
    assert "explore" in {p["worker"] for p in one["processes"]}  # the helper took part...
    assert "explore" not in {p["worker"] for p in two["processes"]}  # ...and --one-process turns it off
    assert one["tests"] == two["tests"]
    # The same seeded requests, judged and recorded the same, in whichever process sent them.
    assert one["requests"]["by_source"] == two["requests"]["by_source"], (one["requests"], two["requests"])
    for output in (forked.output, alone.output):  # the terminal line counts the schemathesis subtest too
        assert "1 subtests passed" in output, output[-1000:]


def test_a_failure_in_the_helper_fails_the_run_with_its_message(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SELFTEST_PLANT", "fail")
    run = run_embedded(tmp_path / "reports", "-p", "tests.selftest.planted")
    assert run.returncode == 1, run.output[-3000:]
    assert "planted failure" in run.output
    assert "FAILED tests/conformance/test_valid_payloads.py::test_accepts_valid_payloads" in run.output
    assert _summary(run.reports)["tests"]["failed"] == 1
    failures = ET.parse(run.reports / "junit.xml").getroot().iter("failure")
    assert any("planted failure" in (f.get("message", "") + (f.text or "")) for f in failures)


def test_a_helper_that_dies_fails_its_tests_and_the_run_ends(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SELFTEST_PLANT", "die")
    run = run_embedded(tmp_path / "reports", "-p", "tests.selftest.planted", timeout=120)
    assert run.returncode == 1, run.output[-3000:]
    assert "ended before this test finished (exit status 3)" in run.output, run.output[-3000:]
    assert "FAILED tests/conformance/test_schemathesis.py::test_schemathesis" in run.output
    # The next one never started: an error in its setup, with the same reason.
    assert "ERROR tests/conformance/test_valid_payloads.py::test_accepts_valid_payloads" in run.output
    assert os.path.exists(run.reports / "summary.json")
