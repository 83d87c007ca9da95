"""The suite's own cost: time per request beyond the HTTP round trip, and growth with examples."""
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
            exchanges = [e for e in read_events(reports / ".events") if e.get("kind") == "exchange"]
            http = sum((e.get("response") or {}).get("elapsed", 0.0) for e in exchanges)
            requests = len(exchanges)
            result[f"x{scale}"] = {
                "wall_seconds": round(wall, 2),
                "requests_recorded": requests,
                "http_seconds": round(http, 2),
                "suite_ms_per_request": round(1000 * (wall - startup - http) / requests, 2) if requests else None,
            }
    return result
