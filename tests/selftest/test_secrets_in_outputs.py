"""No credential the suite sent appears in anything it writes, even from a server that echoes them all.

One run of the whole suite (as a user runs it) against the echo-everything
server (tests/selftest/echo_server.py), which returns the API key in a header
and error bodies and proxy credentials in free text.
Then every file the run wrote (reports/, the event log, anything new in the
checkout, schemathesis' own files) and the terminal output are searched for
every credential the mutant received, raw and as JSON or HTML would escape it.
"""
from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import secrets
import time
from pathlib import Path
from typing import Iterator

import pytest

from tests.selftest import echo_server
from tests.selftest.suite_runner import ROOT, SuiteRun, run_suite
from tests.selftest.shared import once

# Runs the whole suite in subprocesses (deselect with -m "not suite_run" for the fast unit part).
pytestmark = pytest.mark.suite_run

# Shorter credentials are not searched: the suite masks them structurally
# ("password": "***") but does not scrub 3-character strings from free text,
# which would mangle every message (contracts/credentials.py).
MIN_SEARCHED = 8
# One key for the whole selftest session: the leaky run is shared by every xdist worker (`once`),
# so each worker must search for the key that run used.
_SESSION = os.environ.get("PYTEST_XDIST_TESTRUNUID") or secrets.token_hex(8)
KEY = "sk-LEAKCHECK-" + hashlib.sha256(_SESSION.encode()).hexdigest()[:16]


def _files_changed_since(root: Path, since: float) -> Iterator[Path]:
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in (".git", "__pycache__", ".tox", ".venv")]
        for name in files:
            path = Path(folder) / name
            try:
                if path.stat().st_mtime >= since:
                    yield path
            except OSError:
                continue


@pytest.fixture(scope="module")
def leaky_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[SuiteRun, list[Path], list[str]]:
    return once(tmp_path_factory, "leaky-run", _leaky_run)


def _leaky_run(base: Path) -> tuple[SuiteRun, list[Path], list[str]]:
    reports = base / "reports"
    started = time.time() - 1
    with echo_server.serve_echo_server(KEY) as server:
        # The dev profile bounds the Hypothesis tests' time; every module still runs, schemathesis included.
        run = run_suite(server.url, KEY, reports, "--hypothesis-profile=dev")
    written = sorted(set(_files_changed_since(reports, 0)) | set(_files_changed_since(ROOT, started)))
    return run, written, echo_server.received()


def searched_secrets(received: tuple[list[str], list[str]]) -> list[str]:
    """The key, the Basic-auth forms it was sent in, and every proxy credential long enough to search."""
    headers, credentials = received
    key_forms = {KEY} | {header.split(" ", 1)[1] for header in headers
                         if " " in header and KEY in _decoded(header.split(" ", 1)[1])}
    return sorted(key_forms | {c for c in credentials if len(c) >= MIN_SEARCHED})


def _decoded(token: str) -> str:
    try:
        return base64.b64decode(token + "===", validate=False).decode("utf-8", "replace")
    except ValueError:
        return ""


def test_the_mutant_received_and_echoed_the_credentials(leaky_run) -> None:
    run, _, received = leaky_run
    headers, credentials = received
    assert f"Bearer {KEY}" in headers, "the suite authenticated with the recognisable key"
    assert len(searched_secrets(received)) > 2, "the key in Basic form and proxy credentials were sent too"
    assert [c for c in credentials if len(c) >= MIN_SEARCHED], "proxy credentials long enough to search for"
    assert run.returncode == 1, run.output[-3000:]
    summary = json.loads((run.reports / "summary.json").read_text())
    verdicts = {c["check"]: c["verdict"] for c in summary["checks"]}
    assert verdicts["secrets"] == "failed", "the secrets check named the leak"


def test_no_credential_in_any_output(leaky_run) -> None:
    run, written, received = leaky_run
    assert any(p.name == "conformance.html" for p in written) and any(p.suffix == ".jsonl" for p in written)
    searched = searched_secrets(received)
    forms = {s: {s, json.dumps(s)[1:-1], html.escape(s), json.dumps(s, ensure_ascii=False)[1:-1]} for s in searched}
    leaks = []
    for path in written:
        text = path.read_bytes().decode("utf-8", "replace")
        leaks += [f"{path}: {secret!r}" for secret, variants in forms.items() if any(v in text for v in variants)]
    leaks += [f"terminal output: {s!r}" for s, variants in forms.items() if any(v in run.output for v in variants)]
    assert not leaks, "\n".join(leaks[:20])


def test_reports_show_the_mask_where_the_secret_was(leaky_run) -> None:
    run, _, _ = leaky_run
    page = (run.reports / "conformance.html").read_text()
    assert "Bearer ***" in page and "$BCTRL_API_KEY" in page
    # The terminal shows the failures' requests with the key masked, and their curl lines reading it from the env.
    assert "Authorization: Bearer ***" in run.output and "$BCTRL_API_KEY" in run.output
