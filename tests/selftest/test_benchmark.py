"""The benchmark's code runs (one mutant, both tools) and judges both by one rule."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import slow
from benchmarks.__main__ import check_map, headline, markdown, named_checks, verdict
from benchmarks.counting import most_in_window
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
                           "--latency-axis", "none", "--skip-politeness", "--out", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
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


def test_politeness_is_counted_in_any_one_second_window_not_per_calendar_second() -> None:
    assert most_in_window([]) == 0
    assert most_in_window([0.0, 0.5, 0.999]) == 3
    assert most_in_window([0.0, 0.5, 1.0]) == 2, "the window is half-open: [t, t + 1)"
    # 10 at the end of one calendar second and 10 at the start of the next: 20 in one second.
    assert most_in_window([5.9 + i * 0.005 for i in range(10)] + [6.0 + i * 0.005 for i in range(10)]) == 20
    assert most_in_window([i * 0.125 for i in range(40)], 1.0) == 8  # evenly spaced at 8/s (exact in binary)


def test_phases_of_a_run_with_a_helper_are_timed_per_process(tmp_path: Path) -> None:
    # The main process judges planned tests while the helper runs schemathesis: each process's tests
    # are timed from its own previous verdict, not from the other process's.
    events = tmp_path / ".events"
    events.mkdir()

    def verdicts(process: str, times_tests: list[tuple[float, str]]) -> None:
        (events / f"{process}.jsonl").write_text("".join(
            json.dumps({"kind": "judgement", "time": t, "process": process, "test": f"tests/x.py::{name}"}) + "\n"
            for t, name in times_tests), encoding="utf-8")
    verdicts("main-1", [(102.0, "test_rejects_invalid[a]"), (103.0, "test_rejects_invalid[b]"),
                        (106.0, "test_boundary_value[c]")])
    verdicts("explore-2", [(102.5, "test_schemathesis[POST /v2/runtimes]"), (107.0, "test_accepts_valid_payloads")])
    phases = slow.suite_phases(tmp_path, 100.0, 108.0)
    assert phases == {"start-up": 2.0, "deterministic": 4.0, "schemathesis": 0.5, "hypothesis": 4.5, "reports": 1.0}


def test_latency_goals_are_judged_and_the_headline_keeps_its_shape() -> None:
    assert slow.goal_verdict(0.25, 0.25) == "met" and slow.goal_verdict(0.26, 0.25) == "missed"
    assert slow.goal_verdict(0.1, None) == "-"
    row = {"latency": 0.25, "suite": {"seconds": 20.0}, "schemathesis": {"seconds": 100.0}}
    assert slow.compare(row) == {"ratio": 0.2, "goal": 0.25, "goal_verdict": "met", "margin_seconds": 5.0}
    missed = slow.compare({"latency": 0.04, "suite": {"seconds": 15.0}, "schemathesis": {"seconds": 25.0}})
    assert missed["goal_verdict"] == "missed" and missed["margin_seconds"] == -2.5
    entry = {"verdict": "clean", "seconds": 20.0, "requests": 900, "creates": 400, "most_per_second": 100,
             "most_in_flight": 32, "phases": {"start-up": 2.0, "deterministic": 8.0, "hypothesis": 1.0,
                                              "schemathesis": 5.0, "reports": 1.0}}
    rows = [{**row, "suite": entry, "schemathesis": {**entry, "seconds": 100.0}, **slow.compare(row)}]
    summary = {"suite": {"mutants": 1, "detected_with_right_check": 1}, "latency": slow.latency_summary(rows)}
    table = headline(summary)
    assert table[:2] == ["| | this suite | schemathesis CLI |", "| --- | ---: | ---: |"]
    assert "| time on the reference, every answer delayed 0.25 s | 20.0 s | 100.0 s |" in table
    assert all(line.count("|") == 4 for line in table), "three columns on every row"
    meta = {"started": "now", "machine": "m", "seed": 1, "latency": 0.0, "benchmark_seconds": 1.0}
    politeness = {"options": slow.POLITENESS, "returncode": 0, "seconds": 40.0, "requests": 700, "creates": 300,
                  "most_per_second": 20, "most_in_flight": 3, "deterministic_cut_short": 0,
                  "exploratory_cut_short": 2, "criteria": {"exit 0": True}}
    text = markdown(meta, [], summary, rows, politeness)
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings == ["## Headline", "## Latency", "## Politeness", "## Summary"]
    assert "| 0.25 s | 0.2 | 0.25 | met | +5.0 s |" in text


def _table_after(text: str, heading: str) -> list[str]:
    start = text.index(heading)
    lines = text[start:].splitlines()[1:]
    first = next(i for i, line in enumerate(lines) if line.startswith("|"))
    table = []
    for line in lines[first:]:
        if not line.startswith("|"):
            break
        table.append(line)
    return table


def test_the_readme_quotes_the_saved_results() -> None:
    """Every benchmark figure in the README comes from benchmarks/RESULTS.md, written by `python -m benchmarks --save`."""
    results = (ROOT / "benchmarks" / "RESULTS.md").read_text()
    readme = (ROOT / "README.md").read_text()
    assert _table_after(readme, "<!-- benchmark headline -->") == _table_after(results, "## Headline")
    run_line = next(line for line in results.splitlines() if line.startswith("Run "))
    when = re.search(r"Run (\d{4}-\d{2}-\d{2})", run_line)
    assert when and when.group(1) in readme, "the README says when the quoted run was made"


def test_the_saved_results_hold_no_negative_or_missing_cost() -> None:
    """The suite's own cost in the saved results is derived by code from the same run, never negative."""
    growth = json.loads((ROOT / "benchmarks" / "results.json").read_text())["meta"].get("growth") or {}
    points = [v for k, v in growth.items() if k.startswith("x")]
    assert all(p["ms_per_request"] is None or p["ms_per_request"] > 0 for p in points), points
