"""`python -m benchmarks`: the suite vs the schemathesis CLI on the reference mock and every mutant.

Both tools run against the same servers in the same run, one after the other,
sequentially (no other load), and are measured the same way: wall time of the
whole command; requests, creates and the first failing request counted at the
server (benchmarks/counting.py); a mutant counts as detected with the right
check named when the tool fails and names a check the mutant's `catches`
lists, schemathesis' failure codes read through benchmarks/check_map.yaml.

Then, on a slow target (benchmarks/slow.py): the latency axis (`--latency-axis`,
the reference mock delaying every answer by each latency, both tools, their
time ratio against a goal) and the politeness scenario (a budget and a rate
limit, held at the server).

Results go to reports/benchmark/results.{json,md}; `--save` also writes them to
benchmarks/RESULTS.md and benchmarks/results.json, the files the README's
figures are copied from (a selftest holds the README to them).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from benchmarks import machine, slow, tools
from benchmarks.counting import RequestCounter
from benchmarks.growth import measure_growth
from contracts import load_contract
from mock import ServerThread

KEY = "benchmark-key-7f3a9c2e"
HERE = Path(__file__).resolve().parent
CHECK_MAP = HERE / "check_map.yaml"


def check_map() -> dict[str, set[str]]:
    """The suite's check name -> the schemathesis codes that name the same defect."""
    return {name: set(codes or ()) for name, codes in yaml.safe_load(CHECK_MAP.read_text()).items()}


def named_checks(tool: str, named: list[str], mapping: dict[str, set[str]]) -> set[str]:
    """What a tool named, in the suite's vocabulary of checks."""
    if tool == "suite":
        return set(named)
    return {check for check, codes in mapping.items() if codes & set(named)}


def verdict(target: str, returncode: int, expected: tuple[str, ...], named: set[str]) -> str:
    """One rule for both tools."""
    if returncode not in (0, 1):
        return f"error (exit {returncode})"
    if target == "reference":
        return "clean" if returncode == 0 else "false alarm"
    if returncode == 0:
        return "missed"
    return "detected" if set(expected) & named else "detected (other check)"


def bench_target(name: str, expected: tuple[str, ...], workdir: Path, contract_file: Path, seed: int,
                 tools_to_run: tuple[str, ...], suite_args: list[str], latency: float,
                 mapping: dict[str, set[str]]) -> list[dict[str, Any]]:
    from tests.selftest.mutants import build_app

    counter = RequestCounter(build_app(name, KEY), latency=latency)
    rows = []
    with ServerThread(counter) as server:
        for tool in tools_to_run:
            if tool == "suite":
                rc, seconds, output, reports = tools.run_suite(server.url, KEY, workdir, *suite_args)
                named, first = tools.checks_in_events(reports), tools.suite_first_failure(reports)
            else:
                rc, seconds, output, report_dir = tools.run_schemathesis(contract_file, server.url, KEY, workdir, seed)
                named, first = tools.schemathesis_codes(output), tools.schemathesis_first_failure(output, report_dir)
            seen = counter.take()
            rows.append({"tool": tool, "target": name, "latency": latency, "returncode": rc,
                         "seconds": round(seconds, 2), **seen, "requests_before_first_failure": first,
                         "checks_named": named, "expected_checks": list(expected),
                         "verdict": verdict(name, rc, expected, named_checks(tool, named, mapping)),
                         "output_tail": output[-1500:]})
    return rows


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for tool in sorted({r["tool"] for r in rows}):
        mine = [r for r in rows if r["tool"] == tool]
        mutants = [r for r in mine if r["target"] != "reference"]
        times = [r["seconds"] for r in mine]
        firsts = [r["requests_before_first_failure"] for r in mutants
                  if r["verdict"].startswith("detected") and r["requests_before_first_failure"] is not None]
        summary[tool] = {
            "mutants": len(mutants),
            "detected": sum(r["verdict"].startswith("detected") for r in mutants),
            "detected_with_right_check": sum(r["verdict"] == "detected" for r in mutants),
            "missed": sorted(r["target"] for r in mutants if r["verdict"] == "missed"),
            "other_check_only": sorted(r["target"] for r in mutants if r["verdict"] == "detected (other check)"),
            "false_alarms": sum(r["verdict"] == "false alarm" for r in mine),
            "errors": sum(r["verdict"].startswith("error") for r in mine),
            "total_seconds": round(sum(times), 1),
            "median_seconds": round(statistics.median(times), 2) if times else None,
            "requests": sum(r["requests"] for r in mine),
            "creates": sum(r["creates"] for r in mine),
            "median_requests_before_first_failure": statistics.median(firsts) if firsts else None,
            "creates_per_reference_run": next((r["creates"] for r in mine if r["target"] == "reference"), None),
        }
    if {"suite", "schemathesis"} <= summary.keys() and summary["schemathesis"]["total_seconds"]:
        summary["time_ratio_suite_to_schemathesis"] = round(
            summary["suite"]["total_seconds"] / summary["schemathesis"]["total_seconds"], 3)
        found = {tool: {r["target"] for r in rows if r["tool"] == tool and r["verdict"] == "detected"}
                 for tool in ("suite", "schemathesis")}
        summary["found_by_schemathesis_only"] = sorted(found["schemathesis"] - found["suite"])
        summary["found_by_suite_only"] = sorted(found["suite"] - found["schemathesis"])
    return summary


def headline(summary: dict[str, Any]) -> list[str]:
    """The table the README quotes, word for word (time on a slow target from the latency axis, when run)."""
    suite, st = summary.get("suite", {}), summary.get("schemathesis", {})

    def cell(data: dict[str, Any], key: str, fmt: str = "{}") -> str:
        value = data.get(key)
        return "-" if value is None else fmt.format(value)

    rows = [
        ("mutants detected, right check named", f"{cell(suite, 'detected_with_right_check')} / {cell(suite, 'mutants')}",
         f"{cell(st, 'detected_with_right_check')} / {cell(st, 'mutants')}"),
        ("false alarms on the reference", cell(suite, "false_alarms"), cell(st, "false_alarms")),
        ("total time", cell(suite, "total_seconds", "{} s"), cell(st, "total_seconds", "{} s")),
        ("median time per run", cell(suite, "median_seconds", "{} s"), cell(st, "median_seconds", "{} s")),
        ("requests at the server", cell(suite, "requests", "{:,}"), cell(st, "requests", "{:,}")),
        ("creates at the server (2xx)", cell(suite, "creates", "{:,}"), cell(st, "creates", "{:,}")),
        ("median requests before the first failure", cell(suite, "median_requests_before_first_failure"),
         cell(st, "median_requests_before_first_failure")),
        ("creates per run on the reference", cell(suite, "creates_per_reference_run"),
         cell(st, "creates_per_reference_run")),
    ]
    for latency, point in (summary.get("latency") or {}).items():
        rows.append((f"time on the reference, every answer delayed {latency} s",
                     cell(point, "suite_seconds", "{} s"), cell(point, "schemathesis_seconds", "{} s")))
    lines = ["| | this suite | schemathesis CLI |", "| --- | ---: | ---: |"]
    lines += [f"| {label} | {a} | {b} |" for label, a, b in rows]
    return lines


def markdown(meta: dict[str, Any], rows: list[dict[str, Any]], summary: dict[str, Any],
             latency: list[dict[str, Any]] | None = None, politeness: dict[str, Any] | None = None) -> str:
    lines = ["# Benchmark: the suite vs the schemathesis CLI", "",
             f"Run {meta['started']} on {meta['machine']}; seed {meta['seed']}; latency per answer "
             f"{meta['latency']} s; took {meta['benchmark_seconds']} s.", "",
             "## Headline", "", *headline(summary)]
    if rows:
        lines += ["", "| target | tool | verdict | seconds | requests | creates | requests to first failure | "
                  "checks named |", "| --- | --- | --- | ---: | ---: | ---: | ---: | --- |"]
    for r in rows:
        first = r["requests_before_first_failure"]
        lines.append(f"| {r['target']} | {r['tool']} | {r['verdict']} | {r['seconds']} | {r['requests']} | "
                     f"{r['creates']} | {first if first is not None else '-'} | {', '.join(r['checks_named'])} |")
    if latency:
        goals = ", ".join(f"at {k:g} s at most {v:g}x" for k, v in sorted(slow.GOALS.items(), reverse=True))
        lines += ["", "## Latency", "",
                  "The reference mock delaying every answer; both tools against it, counted at the server "
                  f"(most requests in any one-second window, most in flight). Goals for the time ratio: {goals}.", "",
                  *slow.latency_table(latency)]
    if politeness:
        lines += ["", "## Politeness", "", *slow.politeness_table(politeness)]
    lines += ["", "## Summary", "", "```json", json.dumps(summary, indent=2), "```", ""]
    if meta.get("growth"):
        lines += ["## The suite's own cost", "", "```json", json.dumps(meta["growth"], indent=2), "```", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from tests.selftest.mutants import MUTANTS

    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--mutants", help="comma-separated mutant names (default: all; 'none': the reference only)")
    parser.add_argument("--seed", type=int, default=20261129)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds the server waits before every answer")
    parser.add_argument("--skip-schemathesis", action="store_true")
    parser.add_argument("--skip-growth", action="store_true")
    parser.add_argument("--skip-mutants", action="store_true",
                        help="leave out the reference and mutant runs at --latency (only the slow-target sections)")
    parser.add_argument("--latency-axis", default=",".join(f"{x:g}" for x in slow.DEFAULT_AXIS), metavar="S,S",
                        help="answer delays (seconds) to run both tools against the reference mock at "
                             "(default %(default)s; 'none' to skip)")
    parser.add_argument("--skip-politeness", action="store_true",
                        help="leave out the politeness scenario (--max-creates 300 --rate-limit 20, 0.1 s answers)")
    parser.add_argument("--out", default="reports/benchmark")
    parser.add_argument("--save", action="store_true",
                        help="also write benchmarks/RESULTS.md and benchmarks/results.json (the README's source)")
    args = parser.parse_args(argv)
    try:
        axis = [] if args.latency_axis.strip().lower() in ("", "none") else [
            float(x) for x in args.latency_axis.split(",") if x.strip()]
    except ValueError:
        parser.error(f"--latency-axis takes seconds separated by commas (e.g. 0.04,0.25), got {args.latency_axis!r}")
    if any(x < 0 for x in axis):
        parser.error("--latency-axis: latencies are 0 or more seconds")
    names = [] if args.mutants == "none" else args.mutants.split(",") if args.mutants else sorted(MUTANTS)
    unknown = [n for n in names if n not in MUTANTS]
    if unknown:
        parser.error(f"unknown mutant(s): {', '.join(unknown)}; known: {', '.join(sorted(MUTANTS))}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    contract = load_contract()
    mapping = check_map()
    meta: dict[str, Any] = {
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"), "seed": args.seed,
        "latency": args.latency, "latency_axis": axis,
        "machine": machine()}
    tools_to_run = ("suite",) if args.skip_schemathesis else ("suite", "schemathesis")
    rows: list[dict[str, Any]] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        contract_file = tools.write_patched(contract, Path(tmp) / "patched.yaml")
        suite_args = [f"--hypothesis-seed={args.seed}"]
        for name in [] if args.skip_mutants else ["reference", *names]:
            expected = MUTANTS[name].catches if name in MUTANTS else ()
            for row in bench_target(name, expected, Path(tmp) / name, contract_file, args.seed, tools_to_run,
                                    suite_args, args.latency, mapping):
                rows.append(row)
                print(f"{name:32} {row['tool']:13} {row['verdict']:24} {row['seconds']:7.2f}s "
                      f"{row['requests']:6d} req {row['creates']:5d} creates", flush=True)
        latency = slow.latency_axis(axis, Path(tmp), contract_file, args.seed, suite_args, KEY,
                                    tools_to_run=tools_to_run)
        politeness = None if args.skip_politeness else slow.politeness_scenario(Path(tmp), KEY, suite_args)
    if not args.skip_growth:
        meta["growth"] = measure_growth()
    meta["benchmark_seconds"] = round(time.monotonic() - started, 1)
    summary = summarise(rows)
    if latency:
        summary["latency"] = slow.latency_summary(latency)
    if politeness:
        summary["politeness"] = {"verdict": politeness["verdict"], "criteria": politeness["criteria"]}
    document = {"meta": meta, "summary": summary, "rows": rows, "latency": latency, "politeness": politeness}
    targets = [out] + ([HERE] if args.save else [])
    for folder in targets:
        (folder / ("results.json")).write_text(json.dumps(document, indent=2) + "\n")
        (folder / ("RESULTS.md" if folder == HERE else "results.md")).write_text(
            markdown(meta, rows, summary, latency, politeness))
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
