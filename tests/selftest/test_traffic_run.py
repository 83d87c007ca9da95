"""`pytest --traffic=PATH`: recorded traffic judged with the same checks, nothing sent.

The HAR files come from real recorders (mitmproxy in front of the server, or
Chromium driven by Playwright: tests/selftest/recorders/), never from this
repository's code. A client session that exercises each mutant's defect is
recorded in front of it and judged: the generated run's verdict must come back
(exit 1, the same check named); the reference's recordings pass; a file that
is not HAR is one line and exit 4; the echo-everything server's recording
leaves no credential in any output.

`any-token-accepted` is not among them, by design: a recording cannot tell a
made-up token from another valid key (a token the operation accepted is learned
as valid, see harness/traffic/judging.py); only a generated run, which makes
the token up itself, can say the server should have refused it.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.recording import read_events
from tests.selftest.recorders.record_har import AUTH, JSON, KEY, PATH, SESSION, SPACE_ID, Step, find_mitmdump, record

pytestmark = pytest.mark.suite_run

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "selftest" / "data" / "har"

# What a client of each defect does, besides the usual session: a step per defect the session does not reach.
EXTRA_STEPS = (
    Step("unknown token", "POST", PATH, 401, {"Authorization": "Bearer not-the-key-0123456789", **JSON},
         json_body={"spaceId": SPACE_ID, "type": "browser"}),
    Step("missing spaceId", "POST", PATH, 422, {**AUTH, **JSON}, json_body={"type": "browser"}),
    Step("custom proxy with credentials", "POST", PATH, 200, {**AUTH, **JSON},
         json_body={"spaceId": SPACE_ID, "type": "browser", "name": "with-proxy",
                    "config": {"proxy": {"mode": "custom", "host": "proxy.example.com", "port": 8080,
                                         "protocol": "http", "username": "user-recorded-0123",
                                         "password": "pw-recorded-0123456789"}}}),
)
# The defect each mutant has, and the check that must name it in the recording of a session that exercises it.
MUTANT_CHECKS = {
    "ignored-auth": "auth", "status-outside-enum": "response_schema",
    "ignores-locale": "semantics", "drops-name": "semantics", "duplicate-ids": "unique_ids",
    "crash-on-malformed-json": "status_code", "created-201": "status_code", "text-plain-200": "content_type",
    "405-without-allow": "other_methods", "accepts-missing-required": "negative_data",
    "leaks-proxy-password": "secrets", "echoes-key-in-header": "secrets", "created-at-1970": "invariants",
    "updated-before-created": "invariants",
}


def judge(har: Path, reports: Path, *extra: str) -> tuple[int, str, dict[str, Any]]:
    command = [sys.executable, "-m", "pytest", f"--traffic={har}", f"--reports-dir={reports}", "-q",
               "-p", "no:cacheprovider", *extra]
    env = {k: v for k, v in os.environ.items() if not k.startswith("BCTRL_")}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    summary = json.loads((reports / "summary.json").read_text()) if (reports / "summary.json").exists() else {}
    return done.returncode, done.stdout + done.stderr, summary


def failing_checks(reports: Path) -> set[str]:
    return {f["check"] for e in read_events(reports / ".events") if e.get("kind") == "exchange"
            for f in e.get("findings", []) if f["severity"] == "failure"}


def _require_mitmdump() -> None:
    if find_mitmdump() is None:
        if os.environ.get("REQUIRE_HAR_RECORDERS"):
            pytest.fail("REQUIRE_HAR_RECORDERS is set but mitmdump was not found")
        pytest.skip("mitmdump not installed (tests/selftest/recorders/requirements-recorders.txt)")


@pytest.mark.parametrize("fixture", ["mitmproxy-reference.har", "chromium-reference.har"])
def test_a_real_recording_of_the_reference_passes(fixture: str, tmp_path: Path) -> None:
    code, output, summary = judge(FIXTURES / fixture, tmp_path)
    assert code == 0, output[-3000:]
    assert summary["mode"] == "traffic" and summary["traffic"]["exchanges"] >= 10
    assert summary["requests"]["exchanges"] >= 8, "the exchanges of the operation's path were judged"
    assert summary["traffic"]["not_in_contract"], "the other route and the CORS preflight are listed, not judged"
    assert (tmp_path / "conformance.html").exists() and (tmp_path / "junit.xml").exists()


def test_a_file_that_is_not_har_is_one_line_and_exit_4(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.har"
    bogus.write_text("this is not JSON")
    code, output, _ = judge(bogus, tmp_path / "reports")
    assert code == 4, output
    assert "Traceback" not in output and "notes.har" in output


@pytest.mark.parametrize("name", sorted(MUTANT_CHECKS))
def test_a_recording_in_front_of_a_mutant_names_its_defect(name: str, tmp_path: Path) -> None:
    from tests.selftest.mutants import build_app

    _require_mitmdump()
    har = record(tmp_path / f"{name}.har", build_app(name, KEY), steps=(*SESSION, *EXTRA_STEPS))
    code, output, _ = judge(har, tmp_path / "reports")
    assert code == 1, output[-3000:]
    assert MUTANT_CHECKS[name] in failing_checks(tmp_path / "reports"), output[-3000:]


def test_a_recording_in_front_of_the_independent_server_passes(tmp_path: Path) -> None:
    from tests.selftest.independent_server import IndependentServer

    _require_mitmdump()
    with IndependentServer(KEY) as server:  # other defaults: 400 for invalid input, other error bodies
        har = record(tmp_path / "independent.har", server_url=server.url, steps=(*SESSION, *EXTRA_STEPS))
    code, output, summary = judge(har, tmp_path / "reports")
    assert code == 0, output[-3000:]
    assert summary["requests"]["exchanges"] >= len(SESSION), "the session's exchanges were judged"


def test_the_echo_servers_recording_leaves_no_credential_in_any_output(tmp_path: Path) -> None:
    from tests.selftest import echo_server
    from mock import MockSettings, create_app

    _require_mitmdump()
    app = echo_server.echo_everything(create_app(MockSettings(frozenset({KEY}))))
    har = record(tmp_path / "echo.har", app, steps=(*SESSION, *EXTRA_STEPS))
    reports = tmp_path / "reports"
    code, output, _ = judge(har, reports)
    assert code == 1 and "secrets" in failing_checks(reports), output[-3000:]
    secrets = [KEY, "user-recorded-0123", "pw-recorded-0123456789"]
    for path in reports.rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            assert not [s for s in secrets if s in text], path
    assert not [s for s in secrets if s in output]
