"""Hypothesis profiles are selectable from the command line, shrink, and a seed replays the draws."""
from __future__ import annotations

import pytest

import json
import subprocess
import sys
from pathlib import Path

from hypothesis import Phase, given, seed, settings

from contracts import Contract
from harness.profiles import DEFAULT_PROFILE, PROFILES
from strategies import runtime_payloads

ROOT = Path(__file__).resolve().parents[2]


def test_profiles_shrink_and_keep_no_database() -> None:
    assert set(PROFILES) == {"dev", "ci", "nightly"} and DEFAULT_PROFILE == "ci"
    assert PROFILES["dev"].max_examples < PROFILES["ci"].max_examples < PROFILES["nightly"].max_examples
    for profile in PROFILES.values():
        assert Phase.shrink in profile.phases and profile.database is None and profile.deadline is None


def test_the_same_seed_draws_the_same_payloads(loaded_contract: Contract) -> None:
    strategy = runtime_payloads(loaded_contract, space_id="3f0c9a52-7d1e-4c1b-9a55-2b7f0e6d1c88", name_prefix="p-")

    def draws(number: int) -> list[str]:
        out: list[str] = []

        @seed(number)
        @settings(max_examples=30, database=None, deadline=None)
        @given(strategy)
        def collect(payload: dict) -> None:
            out.append(json.dumps(payload, sort_keys=True))

        collect()
        return out

    assert draws(11) == draws(11) != draws(12)


@pytest.mark.suite_run
@pytest.mark.parametrize("profile", ["dev", "ci"])
def test_hypothesis_profile_option_sets_the_example_count(tmp_path: Path, profile: str) -> None:
    # The embedded mock (fast: no prefetch dry pass); each example is one create, counted in the event log.
    command = [sys.executable, "-m", "pytest", "tests/conformance/test_valid_payloads.py",
               f"--hypothesis-profile={profile}", "--hypothesis-seed=3", "-q", "-p", "no:cacheprovider",
               f"--reports-dir={tmp_path}", f"--html={tmp_path / 'c.html'}", f"--junitxml={tmp_path / 'j.xml'}"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["requests"]["exchanges"] == PROFILES[profile].max_examples, summary["requests"]
