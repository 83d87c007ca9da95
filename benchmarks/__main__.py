"""`python -m benchmarks`: the suite vs the schemathesis CLI on the reference mock and every mutant.

Both tools run against the same servers in the same run, one after the other,
sequentially (no other load), and are measured the same way: wall time of the
whole command, requests counted at the server. Results go to
reports/benchmark/results.{json,md}.
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from benchmarks import tools
from benchmarks.counting import RequestCounter
from benchmarks.growth import measure_growth
from contracts import load_contract
from mock import ServerThread

KEY = "benchmark-key-7f3a9c2e"


def verdict(target: str, returncode: int, expected: tuple[str, ...], named: list[str]) -> str:
    if returncode not in (0, 1):
        return f"error (exit {returncode})"
    if target == "reference":
        return "clean" if returncode == 0 else "false alarm"
    if returncode == 0:
        return "missed"
    if expected and not set(expected) & set(named):
        return "detected (other check)"
    return "detected"


def bench_target(name: str, expected: tuple[str, ...], workdir: Path, contract_file: Path, seed: int,
                 skip_schemathesis: bool, suite_args: list[str]) -> list[tools.ToolRun]:
    from tests.selftest.mutants.catalog import build_app

    counter = RequestCounter(build_app(name, KEY))
    runs = []
    with ServerThread(counter) as server:
        rc, seconds, output, reports = tools.run_suite(server.url, KEY, workdir, *suite_args)
        named = tools.checks_in_events(reports)
        runs.append(tools.ToolRun("suite", name, rc, round(seconds, 2), counter.take(),
                                  tools.suite_first_failure(reports), named, output[-1500:]))
        runs[-1].verdict = verdict(name, rc, expected, named)  # type: ignore[attr-defined]
        if not skip_schemathesis:
            rc, seconds, output, report_dir = tools.run_schemathesis(contract_file, server.url, KEY, workdir, seed)
            codes = tools.schemathesis_codes(output)
            runs.append(tools.ToolRun("schemathesis", name, rc, round(seconds, 2), counter.take(),
                                      tools.schemathesis_first_failure(output, report_dir), codes, output[-1500:]))
            runs[-1].verdict = verdict(name, rc, (), codes)  # type: ignore[attr-defined]
    return runs


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for tool in sorted({r["tool"] for r in rows}):
        mine = [r for r in rows if r["tool"] == tool]
        mutants = [r for r in mine if r["target"] != "reference"]
        times = [r["seconds"] for r in mine]
        summary[tool] = {
            "mutants": len(mutants),
            "detected": sum(r["verdict"].startswith("detected") for r in mutants),
            "detected_with_right_check": sum(r["verdict"] == "detected" for r in mutants),
            "missed": sorted(r["target"] for r in mutants if r["verdict"] == "missed"),
            "false_alarms": sum(r["verdict"] == "false alarm" for r in mine),
            "total_seconds": round(sum(times), 1),
            "median_seconds": round(statistics.median(times), 2) if times else None,
            "requests": sum(r["requests"] for r in mine),
        }
    if {"suite", "schemathesis"} <= summary.keys() and summary["schemathesis"]["total_seconds"]:
        summary["time_ratio_suite_to_schemathesis"] = round(
            summary["suite"]["total_seconds"] / summary["schemathesis"]["total_seconds"], 3)
        st_found = {r["target"] for r in rows if r["tool"] == "schemathesis" and r["verdict"].startswith("detected")}
        suite_found = {r["target"] for r in rows if r["tool"] == "suite" and r["verdict"].startswith("detected")}
        summary["found_by_schemathesis_only"] = sorted(st_found - suite_found)
        summary["found_by_suite_only"] = sorted(suite_found - st_found)
    return summary


def markdown(meta: dict[str, Any], rows: list[dict[str, Any]], summary: dict[str, Any]) -> str:
    lines = [f"# Benchmark: the suite vs the schemathesis CLI", "",
             f"Run {meta['started']} on {meta['machine']}; seed {meta['seed']}.", "",
             "| target | tool | verdict | seconds | requests | requests to first failure | checks named |",
             "| --- | --- | --- | ---: | ---: | ---: | --- |"]
    for r in rows:
        lines.append(f"| {r['target']} | {r['tool']} | {r['verdict']} | {r['seconds']} | {r['requests']} | "
                     f"{r['requests_before_first_failure'] if r['requests_before_first_failure'] is not None else '-'} | "
                     f"{', '.join(r['checks_named'])} |")
    lines += ["", "## Summary", "", "```json", json.dumps(summary, indent=2), "```", ""]
    if meta.get("growth"):
        lines += ["## The suite's own cost", "", "```json", json.dumps(meta["growth"], indent=2), "```", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from tests.selftest.mutants import catalog  # noqa: F401
    from tests.selftest.mutants.base import MUTANTS

    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--mutants", help="comma-separated mutant names (default: all)")
    parser.add_argument("--seed", type=int, default=20261129)
    parser.add_argument("--skip-schemathesis", action="store_true")
    parser.add_argument("--skip-growth", action="store_true")
    parser.add_argument("--out", default="reports/benchmark")
    args = parser.parse_args(argv)
    names = args.mutants.split(",") if args.mutants else sorted(MUTANTS)
    unknown = [n for n in names if n not in MUTANTS]
    if unknown:
        parser.error(f"unknown mutant(s): {', '.join(unknown)}; known: {', '.join(sorted(MUTANTS))}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    contract = load_contract()
    meta = {"started": datetime.now(timezone.utc).isoformat(timespec="seconds"), "seed": args.seed,
            "machine": f"{platform.machine()} {platform.system()}, {__import__('os').cpu_count()} cores, "
                       f"Python {platform.python_version()}"}
    rows: list[dict[str, Any]] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        contract_file = tools.write_patched(contract, Path(tmp) / "patched.yaml")
        suite_args = [f"--hypothesis-seed={args.seed}"]
        for name in ["reference", *names]:
            expected = MUTANTS[name].catches if name in MUTANTS else ()
            workdir = Path(tmp) / name
            for run in bench_target(name, expected, workdir, contract_file, args.seed, args.skip_schemathesis, suite_args):
                row = run.as_dict()
                row["verdict"] = run.verdict  # type: ignore[attr-defined]
                row["expected_checks"] = list(expected)
                rows.append(row)
                print(f"{name:32} {run.tool:13} {row['verdict']:24} {run.seconds:7.2f}s {run.requests:6d} req",
                      flush=True)
    if not args.skip_growth:
        meta["growth"] = measure_growth()
    meta["benchmark_seconds"] = round(time.monotonic() - started, 1)
    summary = summarise(rows)
    (out / "results.json").write_text(json.dumps({"meta": meta, "summary": summary, "rows": rows}, indent=2))
    (out / "results.md").write_text(markdown(meta, rows, summary))
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
