"""The benchmark's code runs (one mutant, both tools) and judges both by one rule."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.__main__ import check_map, named_checks, verdict
from contracts.checks import REGISTRY
from tests.selftest.mutants import MUTANTS

ROOT = Path(__file__).resolve().parents[2]


def test_both_tools_are_judged_by_one_rule() -> None:
    mapping = check_map()
    assert set(mapping) == set(REGISTRY), "every check of the suite is in the map, nothing else"
    assert verdict("x", 1, ("auth",), named_checks("schemathesis", ["ST401"], mapping)) == "detected"
    assert verdict("x", 1, ("auth",), named_checks("schemathesis", ["ST101"], mapping)) == "detected (other check)"
    assert verdict("x", 1, ("auth",), named_checks("suite", ["auth"], mapping)) == "detected"
    assert verdict("x", 1, ("auth",), named_checks("suite", ["status_code"], mapping)) == "detected (other check)"
    assert verdict("x", 0, ("auth",), set()) == "missed"
    assert verdict("reference", 1, (), set()) == "false alarm"
    assert verdict("x", 4, ("auth",), set()) == "error (exit 4)"
    for spec in MUTANTS.values():
        assert set(spec.catches) <= set(mapping), spec.name


@pytest.mark.suite_run
def test_benchmark_smoke_one_mutant_both_tools(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "benchmarks", "--mutants", "ignored-auth", "--skip-growth",
                           "--out", str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads((tmp_path / "results.json").read_text())
    rows = {(r["tool"], r["target"]): r for r in results["rows"]}
    assert set(rows) == {(t, n) for t in ("suite", "schemathesis") for n in ("reference", "ignored-auth")}
    assert rows["suite", "reference"]["verdict"] == "clean" and rows["schemathesis", "reference"]["verdict"] == "clean"
    for tool in ("suite", "schemathesis"):
        row = rows[tool, "ignored-auth"]
        assert row["verdict"] == "detected", row
        assert row["requests"] > 0 and 0 < row["requests_before_first_failure"] <= row["requests"]
    assert "## Headline" in (tmp_path / "results.md").read_text()
