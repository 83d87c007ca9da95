"""An embedded run forks a helper for the exploratory tests (harness/plugin/fork.py): same verdicts, every report.

Each test runs the whole suite against the embedded mock, in a subprocess.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.selftest.suite_runner import ROOT, embedded_command, run_embedded

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


def test_ctrl_c_mid_plan_ends_the_run_at_once(tmp_path: Path) -> None:
    """Ctrl-C reaches the whole process group (main, helper, mock): the run ends with pytest's 2, nothing left.

    The main process used to keep its copy of the mock's listening socket: with the mock gone,
    the plan's requests waited in its backlog for the whole request timeout (30 s).
    """
    reports = tmp_path / "reports"
    command, env = embedded_command(reports)
    process = subprocess.Popen(command, cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:  # until the plan is on the wire
            lines = sum(p.read_text().count('"kind": "exchange"') for p in (reports / ".events").glob("*.jsonl"))
            if lines >= 50:
                break
            time.sleep(0.1)
        assert process.poll() is None, "the run ended before it could be interrupted"
        os.killpg(process.pid, signal.SIGINT)
        interrupted = time.monotonic()
        assert process.wait(timeout=60) == 2
        assert time.monotonic() - interrupted < 15, f"{time.monotonic() - interrupted:.1f} s after Ctrl-C"
        time.sleep(0.5)
        try:
            os.killpg(process.pid, 0)  # anyone left in the group (the helper, the mock)?
            left = True
        except ProcessLookupError:
            left = False
        assert not left, "a process of the run outlived it"
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
