"""Every mutant is caught by the default conformance run, with the right check named; correct servers pass.

Each mutant of the catalog is served and the whole default suite (as a user
runs it: `pytest --base-url ...`, key in the environment) is run against it
in a subprocess, with the `dev` Hypothesis profile to bound the time. Runs go
two at a time (the machine has two cores); results are computed once per
session and each mutant is its own test id.
"""
from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import ContextManager, Iterator

import pytest

from tests.selftest.independent_server import IndependentServer
from tests.selftest.mutants import MUTANTS, serve
from tests.selftest.mutants import catalog  # noqa: F401  (registers every mutant)
from tests.selftest.suite_runner import SuiteRun, run_suite

# Runs the whole suite in subprocesses (deselect with -m "not suite_run" for the fast unit part).
pytestmark = pytest.mark.suite_run

KEY = "selftest-mutants-key-7f3a9c21"
PROFILE = "--hypothesis-profile=dev"
# A mutant changes one behaviour, so its first failure already names the check;
# stopping there keeps ~25 whole-suite runs within the selftest budget.
# The correct servers run the whole suite.
STOP_AT_FIRST = "--maxfail=1"
WORKERS = 2
REFERENCE, INDEPENDENT = "reference", "independent-server"


def _server(name: str) -> ContextManager:
    if name == INDEPENDENT:
        return IndependentServer(KEY)
    return serve(name, KEY)


def _run(name: str, folder: Path) -> tuple[SuiteRun, float]:
    started = time.monotonic()
    with _server(name) as server:
        extra = () if name in (REFERENCE, INDEPENDENT) else (STOP_AT_FIRST,)
        run = run_suite(server.url, KEY, folder / name, PROFILE, *extra)
    return run, time.monotonic() - started


@pytest.fixture(scope="session")
def suite_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[SuiteRun, float]]]:
    folder = tmp_path_factory.mktemp("mutant-runs")
    names = [REFERENCE, INDEPENDENT, *sorted(MUTANTS)]
    started = time.monotonic()
    with ThreadPoolExecutor(WORKERS) as pool:
        futures = {name: pool.submit(_run, name, folder) for name in names}
        results = {name: future.result() for name, future in futures.items()}
    times = ", ".join(f"{name} {seconds:.0f}s" for name, (_, seconds) in results.items())
    print(f"\n{len(names)} whole-suite runs in {time.monotonic() - started:.0f} s ({WORKERS} at a time): {times}")
    yield results


def failure_lines(output: str) -> list[str]:
    return re.findall(r"\[failure\] [\w.]+ at [^\n]*", output)


def _tail(run: SuiteRun, lines: int = 60) -> str:
    return "\n".join(run.output.splitlines()[-lines:])


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_mutant_is_caught_by_name(suite_runs: dict[str, tuple[SuiteRun, float]], name: str) -> None:
    run, seconds = suite_runs[name]
    spec = MUTANTS[name]
    assert run.returncode == 1, f"{name} ({spec.description}) was not caught (exit {run.returncode}):\n{_tail(run)}"
    named = {line.split()[1] for line in failure_lines(run.output)}
    missing = [check for check in spec.catches if check not in named]
    assert not missing, (f"{name} ({spec.description}): expected {missing} among the failing checks, "
                         f"got {sorted(named)}\n{_tail(run)}")
    assert KEY not in run.output, f"the API key leaked into the output of the run against {name}"


@pytest.mark.parametrize("name", [REFERENCE, INDEPENDENT])
def test_correct_server_passes(suite_runs: dict[str, tuple[SuiteRun, float]], name: str) -> None:
    run, seconds = suite_runs[name]
    assert run.returncode == 0, f"false alarm against {name}:\n" + "\n".join(failure_lines(run.output)[:20]) + \
        "\n" + _tail(run)
    assert not failure_lines(run.output)
    assert KEY not in run.output


def test_every_check_has_a_mutant() -> None:
    """A check no mutant proves is a check nobody has seen fail."""
    from contracts.checks import REGISTRY

    proven = {check for spec in MUTANTS.values() for check in spec.catches}
    unproven = set(REGISTRY) - proven
    assert not unproven, f"no mutant proves the checks {sorted(unproven)}"
