"""The suite's own cost: the default run's time per request, and how it grows with the Hypothesis examples.

Against the embedded mock, at 1x, 2x and 4x the profile's examples
(`--examples-scale`). Per request: the run's time after start-up divided by the
requests it recorded (everything included: the plan's requests overlap, so their
HTTP times cannot be subtracted). Per extra request: the slope from 1x to each
scale, i.e. what one more generated example costs.
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.tools import tool_env
from harness.recording import read_events

ROOT = Path(__file__).resolve().parents[1]


def _run(args: list[str], env: dict[str, str]) -> float:
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args], cwd=ROOT, env=env,
                   capture_output=True, text=True, timeout=900)
    return time.monotonic() - started


def measure_growth(scales: tuple[int, ...] = (1, 2, 4)) -> dict[str, Any]:
    """Default run against the embedded mock at 1x, 2x, 4x Hypothesis examples, with a timer split."""
    env = tool_env()
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="growth-") as tmp:
        startup = _run(["--collect-only", f"--html={tmp}/c.html", f"--junitxml={tmp}/j.xml",
                        f"--reports-dir={tmp}/collect"], env)
        result["startup_seconds"] = round(startup, 2)
        for scale in scales:
            reports = Path(tmp) / f"x{scale}"
            wall = _run([f"--reports-dir={reports}", f"--html={reports}/c.html", f"--junitxml={reports}/j.xml",
                         f"--examples-scale={scale}"], env)
            requests = sum(1 for e in read_events(reports / ".events") if e.get("kind") == "exchange")
            result[f"x{scale}"] = {"wall_seconds": round(wall, 2), "requests_recorded": requests}
        with_rates(result)
    return result


def with_rates(result: dict[str, Any]) -> dict[str, Any]:
    """Add `ms_per_request` (after start-up) and `ms_per_extra_request` (slope from x1) to each scale's entry."""
    startup, base = result.get("startup_seconds", 0.0), result.get("x1")
    for key, point in result.items():
        if not key.startswith("x") or not isinstance(point, dict):
            continue
        wall, requests = point["wall_seconds"], point["requests_recorded"]
        point.pop("http_seconds", None)
        point.pop("suite_ms_per_request", None)  # an earlier formula subtracted overlapping HTTP times
        point["ms_per_request"] = round(1000 * (wall - startup) / requests, 2) if requests else None
        if base is not None and point is not base and requests > base["requests_recorded"]:
            point["ms_per_extra_request"] = round(
                1000 * (wall - base["wall_seconds"]) / (requests - base["requests_recorded"]), 1)
    return result
