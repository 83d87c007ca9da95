"""Run each tool once against a served target and measure it the same way."""
from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import yaml

from benchmarks.counting import HEADER
from contracts import Contract
from harness.recording import read_events

ROOT = Path(__file__).resolve().parents[1]


def tool_env(**extra: str) -> dict[str, str]:
    """The same environment for both tools: bytecode cached (as on a usual machine), no target variables."""
    from tests.selftest.suite_runner import PYCACHE

    env = {k: v for k, v in os.environ.items() if not k.startswith("BCTRL_") and k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "PYTHONPYCACHEPREFIX": PYCACHE, "NO_COLOR": "1", **extra}

# Built-in schemathesis checks a careful user switches off for this contract, and why.
# Everything else (`--checks all`) stays on, including unsupported_method and
# allow_header_conformance, which the suite's bridge switches off (a real API may
# serve GET on this path): against these mutants they raise no false alarm and they
# are how the CLI catches 405-without-allow, so keeping them on can only favour the CLI.
SCHEMATHESIS_EXCLUDED = {
    # Stateful checks need a second operation (GET/DELETE on the created runtime); the contract has one.
    "use_after_free": "needs a delete and a get operation; the contract documents only the create",
    "ensure_resource_availability": "needs a get operation to look the created resource up",
    "object_level_authorization": "needs two principals and a read operation",
    # The contract sets no bounds on any value, yet a correct server may refuse port 70000 or a
    # 100 000-character name with a clean 4xx: flagging that would be a false alarm.
    "positive_data_acceptance": "the contract is silent on plausible bounds (ports, timeouts, name length)",
}


def run_suite(base_url: str, api_key: str, workdir: Path, *extra: str) -> tuple[int, float, str, Path]:
    reports = workdir / "suite"
    reports.mkdir(parents=True, exist_ok=True)
    env = tool_env(BCTRL_API_KEY=api_key, BCTRL_SPACE_ID=str(uuid.uuid4()))
    command = [sys.executable, "-m", "pytest", f"--base-url={base_url}", f"--reports-dir={reports}",
               f"--html={reports / 'conformance.html'}", f"--junitxml={reports / 'junit.xml'}",
               "-q", "--tb=line", "-p", "no:cacheprovider", *extra]
    started = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    return done.returncode, time.monotonic() - started, done.stdout + done.stderr, reports


def _request_number(headers: Any) -> int | None:
    """The server's number of a request, from the answer's X-Bench-Request header (see counting.py)."""
    items = headers.items() if isinstance(headers, dict) else ((h.get("name"), h.get("value")) for h in headers or ())
    for name, value in items:
        if str(name).lower() == HEADER.decode() and str(value).isdigit():
            return int(value)
    return None


def suite_first_failure(reports: Path) -> int | None:
    """How many requests the server had seen when the suite sent its first failing one (None: no failure)."""
    numbers = [_request_number((e.get("response") or {}).get("headers") or {})
               for e in read_events(reports / ".events") if e.get("kind") == "exchange"
               and any(f["severity"] == "failure" for f in e.get("findings", []))]
    numbers = [n for n in numbers if n is not None]
    return min(numbers) if numbers else None


def checks_in_events(reports: Path) -> list[str]:
    names = {f["check"] for e in read_events(reports / ".events") if e.get("kind") == "exchange"
             for f in e.get("findings", []) if f["severity"] == "failure"}
    return sorted(names)


def write_patched(contract: Contract, path: Path) -> Path:
    path.write_text(yaml.safe_dump(dict(contract.patched), sort_keys=False), encoding="utf-8")
    return path


def run_schemathesis(contract_file: Path, base_url: str, api_key: str, workdir: Path, seed: int) -> tuple[int, float, str, Path]:
    report_dir = workdir / "schemathesis"
    command = ["st", "run", str(contract_file), "--url", base_url, "--header", f"Authorization: Bearer {api_key}",
               "--checks", "all", "--exclude-checks", ",".join(sorted(SCHEMATHESIS_EXCLUDED)),
               "--continue-on-failure", "--seed", str(seed), "--workers", "1",
               "--report", "har", "--report-dir", str(report_dir)]
    started = time.monotonic()
    done = subprocess.run([str(Path(sys.executable).parent / command[0]), *command[1:]], cwd=workdir,
                          capture_output=True, text=True, timeout=900, env=tool_env())
    return done.returncode, time.monotonic() - started, done.stdout + done.stderr, report_dir


def schemathesis_first_failure(output: str, report_dir: Path) -> int | None:
    """The server's number of the request behind the first reproduction curl line schemathesis printed."""
    curl = next((line.strip() for line in output.splitlines() if line.strip().startswith("curl ")), None)
    hars = sorted(report_dir.glob("*.json"))
    if curl is None or not hars:
        return None
    try:
        words = shlex.split(curl)
    except ValueError:
        return None
    method = words[words.index("-X") + 1] if "-X" in words else "GET"
    body = words[words.index("-d") + 1] if "-d" in words else None
    entries = json.loads(hars[-1].read_text())["log"]["entries"]
    for entry in entries:
        request = entry["request"]
        sent = (request.get("postData") or {}).get("text")
        if request["method"] == method and (body is None or _same_json(sent, body)):
            return _request_number(entry.get("response", {}).get("headers"))
    return None


def _same_json(a: str | None, b: str) -> bool:
    try:
        return a is not None and json.loads(a) == json.loads(b)
    except ValueError:
        return a == b


def schemathesis_codes(output: str) -> list[str]:
    codes = {word for line in output.splitlines() for word in line.split() if word.startswith("ST") and word[2:].isdigit()}
    return sorted(codes)
