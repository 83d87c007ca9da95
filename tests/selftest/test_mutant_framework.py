"""The mutant machinery itself: the reference passes, a shape mutant is caught by name."""
from __future__ import annotations

import pytest

from pathlib import Path

from tests.selftest.mutants import serve
from tests.selftest.suite_runner import run_suite

# Runs the whole suite in subprocesses (deselect with -m "not suite_run" for the fast unit part).
pytestmark = pytest.mark.suite_run

KEY = "mutant-framework-key-42"


def test_reference_passes_and_a_mutant_is_caught(tmp_path: Path) -> None:
    with serve("reference", KEY) as server:
        ok = run_suite(server.url, KEY, tmp_path / "ref", "tests/conformance/test_create_basics.py")
    assert ok.returncode == 0, ok.output
    with serve("status-outside-enum", KEY) as server:
        bad = run_suite(server.url, KEY, tmp_path / "bad", "tests/conformance/test_create_basics.py")
    assert bad.returncode == 1, bad.output
    assert "response_schema at /status" in bad.output
    assert KEY not in bad.output
