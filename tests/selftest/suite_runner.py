"""Run the conformance suite in a subprocess against a server, as a user would."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYCACHE = str(Path(tempfile.gettempdir()) / "bctrl-conformance-pycache")


@dataclass(frozen=True)
class SuiteRun:
    returncode: int
    output: str
    reports: Path


def run_suite(base_url: str, api_key: str, reports: Path, *args: str, timeout: float = 300) -> SuiteRun:
    """`pytest --base-url URL` from the repo root with the key in the environment; output captured."""
    reports.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "BCTRL_API_KEY": api_key, "BCTRL_SPACE_ID": str(uuid.uuid4()), "PYTHONPYCACHEPREFIX": PYCACHE}
    env.pop("BCTRL_BASE_URL", None)
    # Bytecode goes to a cache outside the checkout instead of nowhere: pytest
    # assertion-rewrites every module of its plugins (all of schemathesis), and
    # without a cache each run pays that again (~5 s of a ~10 s run on 2 cores).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    command = [sys.executable, "-m", "pytest", f"--base-url={base_url}", f"--reports-dir={reports}",
               f"--html={reports / 'conformance.html'}", f"--junitxml={reports / 'junit.xml'}",
               "-q", "--tb=short", "-p", "no:cacheprovider", *args]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    return SuiteRun(done.returncode, done.stdout + done.stderr, reports)


def embedded_command(reports: Path, *args: str) -> tuple[list[str], dict[str, str]]:
    """The command line and environment of `pytest` against the embedded mock, as typed by a user."""
    reports.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("BCTRL_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    command = [sys.executable, "-m", "pytest", f"--reports-dir={reports}", f"--html={reports / 'conformance.html'}",
               f"--junitxml={reports / 'junit.xml'}", "-q", "-p", "no:cacheprovider", *args]
    return command, {**env, "PYTHONPYCACHEPREFIX": PYCACHE}


def run_embedded(reports: Path, *args: str, timeout: float = 300) -> SuiteRun:
    """`pytest` against the embedded mock, as typed by a user (no --base-url, no BCTRL_ variables)."""
    command, env = embedded_command(reports, *args)
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    return SuiteRun(done.returncode, done.stdout + done.stderr, reports)
