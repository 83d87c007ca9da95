"""Bad input to the suite: every wrong option or environment variable gets one line, exit 4, no traceback.

Each case runs `python -m pytest ...` in a subprocess, as a user would type it.
Start-up dominates (~2.6 s of CPU each on the 2-core machine), so the cases run
a few at a time in a module fixture and each test only reads its outcome.
"""
from __future__ import annotations

import os
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

# Runs the whole suite in subprocesses (deselect with -m "not suite_run" for the fast unit part).
pytestmark = pytest.mark.suite_run

ROOT = Path(__file__).resolve().parents[2]
EXIT_USAGE = 4
SPACE = str(uuid.uuid4())
REMOTE = {"BCTRL_BASE_URL": "http://127.0.0.1:9", "BCTRL_API_KEY": "usage-key-1234", "BCTRL_SPACE_ID": SPACE}


@dataclass(frozen=True)
class Case:
    id: str
    args: tuple[str, ...]
    problem: str  # the line names the problem ...
    fix: str  # ... and how to fix it
    env: dict[str, str] = field(default_factory=dict)
    one_line: bool = True  # pytest's own argparse errors print usage lines around the message
    reports_options: bool = True


def _files(folder: Path) -> dict[str, Path]:
    upstream = (ROOT / "contracts" / "upstream" / "create-runtime.openapi.yaml").read_text()
    files = {
        "bad_yaml": ("bad.yaml", "openapi: 3.1.0\npaths: [\n"),
        "not_openapi": ("not-openapi.yaml", "swagger: '2.0'\ninfo: {title: x}\n"),
        "no_match": ("no-match.overlay.yaml",
                     "overlay: 1.0.0\ninfo: {title: t, version: '1'}\nactions:\n"
                     "  - target: $.paths['/v9/nothing'].post\n    remove: true\n"),
        "outside_contract": ("copy.openapi.yaml", upstream),
        "a_file": ("a-file", ""),
    }
    out = {}
    for key, (name, text) in files.items():
        (folder / name).write_text(text)
        out[key] = folder / name
    return out


def cases(files: dict[str, Path]) -> list[Case]:
    return [
        Case("malformed-base-url", ("--base-url=staging.example.com",), "is not an http(s) URL", "use e.g."),
        Case("base-url-env", (), "BCTRL_BASE_URL 'ftp://example.com' is not an http(s) URL", "use e.g.",
             env={**REMOTE, "BCTRL_BASE_URL": "ftp://example.com"}),
        Case("space-id-not-uuid", ("--space-id=my-space",), "'my-space' is not a uuid", "pass the id"),
        Case("space-id-env-not-uuid", (), "BCTRL_SPACE_ID 'space-1' is not a uuid", "pass the id",
             env={**REMOTE, "BCTRL_SPACE_ID": "space-1"}),
        Case("remote-without-key", (), "no API key for the remote target", "set BCTRL_API_KEY=",
             env={**REMOTE, "BCTRL_API_KEY": ""}),
        Case("remote-without-space", (), "no space for the remote target", "set BCTRL_SPACE_ID=",
             env={**REMOTE, "BCTRL_SPACE_ID": ""}),
        Case("unknown-profile", ("--hypothesis-profile=thorough",), "unknown --hypothesis-profile 'thorough'",
             "use dev, ci or nightly"),
        Case("missing-contract", ("--contract=/nonexistent/contract.yaml",), "contract file not found",
             "pass an existing file"),
        Case("contract-not-yaml", (f"--contract={files['bad_yaml']}",), "is not valid YAML", "fix the file"),
        Case("contract-not-openapi", (f"--contract={files['not_openapi']}",), "is not an OpenAPI 3.x document",
             "'openapi: 3.x'"),
        Case("overlay-matches-nothing", (f"--errata={files['no_match']}",), "matches nothing in the contract",
             "fix or drop the action"),
        Case("zero-timeout", ("--request-timeout=0",), "--request-timeout must be a positive", "seconds"),
        Case("infinite-timeout", ("--request-timeout=inf",), "--request-timeout must be a positive", "seconds"),
        Case("timeout-not-a-number", ("--request-timeout=soon",), "argument --request-timeout: invalid float value",
             "'soon'", one_line=False),
        Case("reports-dir-under-a-file", (f"--reports-dir={files['a_file']}/reports",), "--reports-dir",
             "writable folder", reports_options=False),
        Case("negative-dead-answers", ("--max-dead-answers=-1",), "--max-dead-answers", "0 never stops"),
        # pytest finds its rootdir (and so this suite's plugin) from the positional arguments before it
        # knows the plugin's options: in `--contract /elsewhere/file.yaml` the path reads as a test path
        # outside the repo, so the options are unknown. The README says to use the `=` form; this case
        # pins the symptom (pytest's usage error, exit 4, no traceback) ...
        Case("contract-space-form-outside-repo", ("--contract", str(files["outside_contract"])),
             "unrecognized arguments", "--contract", one_line=False),
        # ... and this one shows the `=` form works: the contract loads, then the next problem is named.
        Case("contract-equals-form-outside-repo", (f"--contract={files['outside_contract']}", "--space-id=nope"),
             "'nope' is not a uuid", "pass the id"),
    ]


@dataclass(frozen=True)
class Outcome:
    returncode: int
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[str]:
        return [line for line in (self.stdout + self.stderr).splitlines() if line.strip()]


def _run(case: Case, reports: Path) -> Outcome:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BCTRL_")}
    env.update(case.env, PYTHONDONTWRITEBYTECODE="1")
    folder = reports / case.id
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"]
    if case.reports_options:
        command += [f"--reports-dir={folder}", f"--html={folder}/c.html", f"--junitxml={folder}/j.xml"]
    done = subprocess.run(command + list(case.args), cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    return Outcome(done.returncode, done.stdout, done.stderr)


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Case, Outcome]]:
    folder = tmp_path_factory.mktemp("usage")
    all_cases = cases(_files(folder))
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda c: _run(c, folder / "reports"), all_cases))
    return {case.id: (case, outcome) for case, outcome in zip(all_cases, results)}


CASE_IDS = [case.id for case in cases({k: Path("/x") for k in
                                         ("bad_yaml", "not_openapi", "no_match", "outside_contract", "a_file")})]


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_bad_input_gets_one_clear_line_and_the_usage_exit_code(case_id: str,
                                                               outcomes: dict[str, tuple[Case, Outcome]]) -> None:
    case, outcome = outcomes[case_id]
    text = "\n".join(outcome.lines)
    assert outcome.returncode == EXIT_USAGE, f"exit {outcome.returncode}, expected {EXIT_USAGE}:\n{text[-2000:]}"
    assert "Traceback" not in text, text
    named = [line for line in outcome.lines if case.problem in line]
    assert named, f"no line names the problem {case.problem!r}:\n{text}"
    assert case.fix in text, f"no fix {case.fix!r} offered:\n{text}"
    if case.one_line:
        assert len(outcome.lines) == 1, f"expected one line, got {len(outcome.lines)}:\n{text}"
