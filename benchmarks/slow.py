"""Time to a verdict on a slow target, and politeness at the server: the latency axis and the politeness scenario.

Latency axis: the reference mock with every answer delayed by L seconds
(RequestCounter(latency=L)), and against it, one after the other, this
suite's default run and the tuned schemathesis CLI (as benchmarks/tools.py
runs them). Per tool: wall time, requests, creates, and politeness counted at
the server (the most requests in any one-second window, the most in flight at
once); per latency the time ratio suite/CLI, held against a goal (GOALS) and
printed as met or missed, never tuned to it. The suite's time is split into
phases from its event log (where the time goes when a goal is missed).

Politeness scenario: `--max-creates 300 --rate-limit 20` against the
reference mock answering in 0.1 s: the run must exit 0, cut no deterministic
test short (budget, throttling), and the server must never see more than 20
requests in any one-second window.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Iterable

from benchmarks import tools
from benchmarks.counting import RequestCounter
from harness.recording import read_events
from mock import ServerThread

GOALS = {0.25: 0.25, 0.04: 0.5}  # seconds per answer -> the most suite/CLI time ratio aimed for
DEFAULT_AXIS = (0.04, 0.25)
EXPLORATORY_TESTS = ("test_accepts_valid_payloads", "test_schemathesis")
POLITENESS = {"latency": 0.1, "max_creates": 300, "rate_limit": 20}


def goal_verdict(ratio: float | None, goal: float | None) -> str:
    """'met' / 'missed' against a goal (a most ratio), '-' without one."""
    if goal is None or ratio is None:
        return "-"
    return "met" if ratio <= goal else "missed"


def _exploratory(judgement: dict[str, Any]) -> bool:
    if "exploratory" in judgement:
        return bool(judgement["exploratory"])
    test = str(judgement.get("test", "")).split("::")[-1]
    return test.split("[")[0] in EXPLORATORY_TESTS


def phase_of(test: str) -> str:
    name = test.split("::")[-1].split("[")[0]
    if name == "test_accepts_valid_payloads":
        return "hypothesis"
    if name == "test_schemathesis":
        return "schemathesis"
    return "deterministic"


def suite_phases(reports: Path, started: float, ended: float) -> dict[str, float]:
    """Where a suite run's wall time went, from its event log (epoch seconds; see the module doc).

    start-up: from the command's start to the run's first verdict (imports, collection, the plan
    built, the executor's first answers); then, in each process of the run, each test's time is
    the gap since that process's previous verdict (for its first test: since the end of start-up),
    summed per phase (deterministic / hypothesis / schemathesis); reports: after the last verdict.
    On a local target the exploratory tests run in a helper process beside the deterministic ones
    (harness/plugin/fork.py): their phases overlap, and the phases add up to more than the wall time.
    """
    judgements = sorted((e for e in read_events(reports / ".events") if e.get("kind") == "judgement"),
                        key=lambda e: e["time"])
    phases = {"start-up": 0.0, "deterministic": 0.0, "hypothesis": 0.0, "schemathesis": 0.0, "reports": 0.0}
    if not judgements:
        return {"start-up": round(ended - started, 2)}
    phases["start-up"] = judgements[0]["time"] - started
    previous: dict[str, float] = {}
    for event in judgements:
        process = str(event.get("process", ""))
        phases[phase_of(event["test"])] += event["time"] - previous.get(process, judgements[0]["time"])
        previous[process] = event["time"]
    phases["reports"] = ended - judgements[-1]["time"]
    return {k: round(v, 2) for k, v in phases.items()}


def exchanges_by_phase(reports: Path) -> dict[str, int]:
    counts = {"deterministic": 0, "hypothesis": 0, "schemathesis": 0}
    for event in read_events(reports / ".events"):
        if event.get("kind") == "exchange":
            counts[phase_of(str(event.get("test", "")))] += 1
    return counts


def latency_axis(latencies: Iterable[float], workdir: Path, contract_file: Path, seed: int, suite_args: list[str],
                 api_key: str, *, tools_to_run: tuple[str, ...] = ("suite", "schemathesis")) -> list[dict[str, Any]]:
    """One row per latency: both tools against the reference mock delayed by that latency."""
    from tests.selftest.mutants import build_app

    rows = []
    for latency in latencies:
        counter = RequestCounter(build_app("reference", api_key), latency=latency)
        row: dict[str, Any] = {"latency": latency}
        with ServerThread(counter) as server:
            for tool in tools_to_run:
                folder = workdir / f"latency-{latency:g}"
                started = time.time()
                if tool == "suite":
                    rc, seconds, output, reports = tools.run_suite(server.url, api_key, folder, *suite_args)
                else:
                    rc, seconds, output, _ = tools.run_schemathesis(contract_file, server.url, api_key, folder, seed)
                seen = counter.take()
                entry = {"returncode": rc, "seconds": round(seconds, 2), **seen,
                         "verdict": "clean" if rc == 0 else "false alarm" if rc == 1 else f"error (exit {rc})"}
                if tool == "suite":
                    entry["phases"] = suite_phases(reports, started, time.time())
                    entry["exchanges_by_phase"] = exchanges_by_phase(reports)
                if rc not in (0, 1):
                    entry["output_tail"] = output[-1500:]
                row[tool] = entry
                print(f"latency {latency:5g}s  {tool:13} {entry['verdict']:12} {entry['seconds']:7.2f}s "
                      f"{entry['requests']:5d} req {entry['creates']:4d} creates  {entry['most_per_second']:4d}/s max "
                      f"{entry['most_in_flight']:3d} in flight", flush=True)
        row.update(compare(row))
        rows.append(row)
    return rows


def compare(row: dict[str, Any]) -> dict[str, Any]:
    """The time ratio suite/CLI at one latency, against its goal (and by how much it is met or missed)."""
    suite, cli = row.get("suite"), row.get("schemathesis")
    if not suite or not cli or not cli["seconds"]:
        return {"ratio": None, "goal": GOALS.get(row["latency"]), "goal_verdict": "-"}
    ratio = round(suite["seconds"] / cli["seconds"], 3)
    goal = GOALS.get(row["latency"])
    out: dict[str, Any] = {"ratio": ratio, "goal": goal, "goal_verdict": goal_verdict(ratio, goal)}
    if goal is not None:
        # Seconds the suite is under (negative: over) the time the goal allows it.
        out["margin_seconds"] = round(goal * cli["seconds"] - suite["seconds"], 2)
    return out


def politeness_scenario(workdir: Path, api_key: str, suite_args: list[str], *, latency: float = POLITENESS["latency"],
                        max_creates: int = POLITENESS["max_creates"],
                        rate_limit: float = POLITENESS["rate_limit"]) -> dict[str, Any]:
    """The default run with a budget and a rate limit against the slowed reference mock (see the module doc)."""
    from tests.selftest.mutants import build_app

    counter = RequestCounter(build_app("reference", api_key), latency=latency)
    with ServerThread(counter) as server:
        started = time.time()
        rc, seconds, output, reports = tools.run_suite(server.url, api_key, workdir / "politeness", *suite_args,
                                                       f"--max-creates={max_creates}", f"--rate-limit={rate_limit:g}")
        seen = counter.take()
    summary_file = reports / "summary.json"
    summary = json.loads(summary_file.read_text()) if summary_file.exists() else {}
    judged: dict[str, dict[str, Any]] = {}
    for event in read_events(reports / ".events"):
        if event.get("kind") == "judgement":
            judged[str(event["test"])] = event  # the last word on each test
    cut = [j for j in judged.values() if j.get("cut_short")]
    deterministic_cut = sorted(str(j["test"]) for j in cut if not _exploratory(j))
    result: dict[str, Any] = {
        "options": {"latency": latency, "max_creates": max_creates, "rate_limit": rate_limit},
        "returncode": rc, "seconds": round(seconds, 2), **seen,
        "tests": summary.get("tests", {}),
        "creates_used": (summary.get("politeness") or {}).get("creates_used"),
        "budget_refusals": (summary.get("requests") or {}).get("budget_refusals"),
        "deterministic_cut_short": len(deterministic_cut), "deterministic_cut_short_tests": deterministic_cut[:10],
        "exploratory_cut_short": len(cut) - len(deterministic_cut),
        "cut_short_reasons": sorted({str(j["cut_short"]) for j in cut})[:5],
        "phases": suite_phases(reports, started, time.time()),
    }
    result["criteria"] = {
        "exit 0": rc == 0,
        "no deterministic test cut short": not deterministic_cut,
        f"at most {rate_limit:g} requests in any one second at the server": seen["most_per_second"] <= rate_limit,
        f"at most {max_creates} creates at the server": seen["creates"] <= max_creates,
    }
    result["verdict"] = "met" if all(result["criteria"].values()) else "missed"
    if rc not in (0, 1):
        result["output_tail"] = output[-2000:]
    print(f"politeness: exit {rc}, {result['seconds']:.1f}s, {seen['requests']} req, {seen['creates']} creates, "
          f"{seen['most_per_second']}/s max, {seen['most_in_flight']} in flight, {len(deterministic_cut)} "
          f"deterministic cut short -> {result['verdict']}", flush=True)
    return result


def latency_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per latency (as a string key, JSON-friendly): both times, the ratio and the goal's verdict."""
    return {f"{r['latency']:g}": {"suite_seconds": (r.get("suite") or {}).get("seconds"),
                                  "schemathesis_seconds": (r.get("schemathesis") or {}).get("seconds"),
                                  "ratio": r.get("ratio"), "goal": r.get("goal"), "goal_verdict": r.get("goal_verdict")}
            for r in rows}


def latency_table(rows: list[dict[str, Any]]) -> list[str]:
    """The "## Latency" table: per latency and tool, what the server saw; then the ratio against its goal."""
    lines = ["| latency per answer | tool | verdict | seconds | requests | creates | most in any 1 s | most in flight |",
             "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        for tool in ("suite", "schemathesis"):
            e = r.get(tool)
            if e:
                name = "this suite" if tool == "suite" else "schemathesis CLI"
                lines.append(f"| {r['latency']:g} s | {name} | {e['verdict']} | {e['seconds']} | {e['requests']:,} | "
                             f"{e['creates']:,} | {e['most_per_second']} | {e['most_in_flight']} |")
    lines += ["", "| latency per answer | time ratio suite/CLI | goal (at most) | goal | margin |",
              "| ---: | ---: | ---: | --- | ---: |"]
    for r in rows:
        goal = r.get("goal")
        margin = r.get("margin_seconds")
        lines.append(f"| {r['latency']:g} s | {r['ratio'] if r.get('ratio') is not None else '-'} | "
                     f"{goal if goal is not None else '-'} | {r.get('goal_verdict', '-')} | "
                     f"{f'{margin:+} s' if margin is not None else '-'} |")
    phases = [(r["latency"], r["suite"]["phases"], r["suite"].get("exchanges_by_phase", {}))
              for r in rows if r.get("suite") and r["suite"].get("phases")]
    if phases:
        lines += ["", "Where the suite's time goes (seconds, from its event log; requests in brackets). The exploratory "
                  "tests (Hypothesis, schemathesis) run in a helper process beside the deterministic ones on a local "
                  "target, so those phases overlap:", "",
                  "| latency per answer | start-up | deterministic | Hypothesis | schemathesis | reports |",
                  "| ---: | ---: | ---: | ---: | ---: | ---: |"]
        for latency, p, n in phases:
            lines.append(f"| {latency:g} s | {p.get('start-up', '-')} | {p.get('deterministic', '-')} "
                         f"({n.get('deterministic', '-')}) | {p.get('hypothesis', '-')} ({n.get('hypothesis', '-')}) | "
                         f"{p.get('schemathesis', '-')} ({n.get('schemathesis', '-')}) | {p.get('reports', '-')} |")
    return lines


def politeness_table(result: dict[str, Any]) -> list[str]:
    o = result["options"]
    lines = [f"`--max-creates {o['max_creates']} --rate-limit {o['rate_limit']:g}` against the reference mock "
             f"answering in {o['latency']:g} s: exit {result['returncode']}, {result['seconds']} s, "
             f"{result['requests']:,} requests and {result['creates']:,} creates at the server, at most "
             f"{result['most_per_second']} in any one second and {result['most_in_flight']} in flight; "
             f"{result['deterministic_cut_short']} deterministic and {result['exploratory_cut_short']} exploratory "
             "test(s) cut short.", "", "| criterion | |", "| --- | --- |"]
    lines += [f"| {name} | {'met' if ok else 'missed'} |" for name, ok in result["criteria"].items()]
    return lines
