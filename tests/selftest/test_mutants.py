"""Every mutant is caught by the default conformance run, with the right check named; correct servers pass.

Each mutant of the catalog is served and the whole default run goes against
it in a subprocess, as a user runs it (`pytest --base-url ...`, key in the
environment, every layer: the plan's deterministic cases, the Hypothesis
property test and schemathesis; no --maxfail), with one difference: mutants
get the `dev` Hypothesis profile (10 generated examples per exploratory test
instead of the default `ci` profile's 40), which keeps 40 whole runs within
the selftest budget. The three correct servers get the default run exactly,
`ci` profile included: a false alarm must not hide behind fewer examples.
Which checks failed is read from the run's event log, so a layer's claim
(e.g. "schemathesis catches ignored-auth too") is checked against the tests
that recorded the failing exchanges. Runs go two at a time (the machine has
two cores); results are computed once per selftest session, also under xdist.
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import ContextManager

import pytest

from harness.recording import read_events
from tests.selftest.independent_server import IndependentServer
from tests.selftest.strict_server import StrictServer
from tests.selftest.mutants import MUTANTS, serve
from tests.selftest.shared import once
from tests.selftest.suite_runner import SuiteRun, run_suite

# Runs the whole suite in subprocesses (deselect with -m "not suite_run" for the fast unit part).
pytestmark = pytest.mark.suite_run

KEY = "selftest-mutants-key-7f3a9c21"
WORKERS = 2
REFERENCE, INDEPENDENT, STRICT = "reference", "independent-server", "strict-server"
CORRECT = (REFERENCE, INDEPENDENT, STRICT)


def _server(name: str) -> ContextManager:
    if name == INDEPENDENT:
        return IndependentServer(KEY)
    if name == STRICT:
        return StrictServer(KEY)
    return serve(name, KEY)


MUTANT_PROFILE = "--hypothesis-profile=dev"


def _run(name: str, folder: Path) -> tuple[SuiteRun, float]:
    started = time.monotonic()
    with _server(name) as server:
        run = run_suite(server.url, KEY, folder / name, *(() if name in CORRECT else (MUTANT_PROFILE,)))
    return run, time.monotonic() - started


def _all_runs(folder: Path) -> dict[str, tuple[SuiteRun, float]]:
    names = [*CORRECT, *sorted(MUTANTS)]
    started = time.monotonic()
    with ThreadPoolExecutor(WORKERS) as pool:
        futures = {name: pool.submit(_run, name, folder) for name in names}
        results = {name: future.result() for name, future in futures.items()}
    times = ", ".join(f"{name} {seconds:.0f}s" for name, (_, seconds) in results.items())
    print(f"\n{len(names)} whole-suite runs in {time.monotonic() - started:.0f} s ({WORKERS} at a time): {times}")
    return results


@pytest.fixture(scope="session")
def suite_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[SuiteRun, float]]:
    return once(tmp_path_factory, "mutant-runs", _all_runs)


def failures(run: SuiteRun) -> list[tuple[str, str]]:
    """(test module stem, check) of every failure finding the run recorded."""
    found = []
    for event in read_events(run.reports / ".events"):
        if event.get("kind") == "exchange":
            module = Path(str(event.get("test", "")).split("::", 1)[0]).stem
            found += [(module, f["check"]) for f in event.get("findings", []) if f["severity"] == "failure"]
    return found


def _tail(run: SuiteRun, lines: int = 60) -> str:
    return "\n".join(run.output.splitlines()[-lines:])


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_mutant_is_caught_by_name(suite_runs: dict[str, tuple[SuiteRun, float]], name: str) -> None:
    run, seconds = suite_runs[name]
    spec = MUTANTS[name]
    assert run.returncode == 1, f"{name} ({spec.description}) was not caught (exit {run.returncode}):\n{_tail(run)}"
    found = failures(run)
    named = {check for _, check in found}
    missing = [check for check in spec.catches if check not in named]
    assert not missing, (f"{name} ({spec.description}): expected {missing} among the failing checks, "
                         f"got {sorted(named)}\n{_tail(run)}")
    for layer, checks in spec.caught_in.items():
        there = {check for module, check in found if module == layer}
        assert there & set(checks), f"{name}: the layer {layer} claims {checks}, it named {sorted(there)}"
    assert KEY not in run.output, f"the API key leaked into the output of the run against {name}"


@pytest.mark.parametrize("name", CORRECT)
def test_correct_server_passes(suite_runs: dict[str, tuple[SuiteRun, float]], name: str) -> None:
    run, seconds = suite_runs[name]
    assert run.returncode == 0, f"false alarm against {name}: {failures(run)[:20]}\n{_tail(run)}"
    assert not failures(run)
    assert KEY not in run.output


def test_every_check_has_a_mutant() -> None:
    """A check no mutant proves is a check nobody has seen fail."""
    from contracts.checks import REGISTRY

    proven = {check for spec in MUTANTS.values() for check in spec.catches}
    unproven = set(REGISTRY) - proven
    assert not unproven, f"no mutant proves the checks {sorted(unproven)}"
