"""Servers that crash on one narrow slice of valid input are caught on every run, by payload name, and narrowed down.

Each run is the suite as a user runs it (`run_suite`: pytest in a subprocess
with --base-url), restricted to the strategies' modules of the default run, so
that the default run fails whenever these fail. "Every time": the covering set
is deterministic, so the failing ids must be exactly the default covering rows
that hit the slice (computed here from the set), whatever the Hypothesis seed;
and the follow-up requests must name the slice ("only when ...").
"""
from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any, Callable

import pytest

from contracts import Contract
from strategies import covering_set
from strategies.schema import resolve
from tests.selftest.mutants import MUTANTS, serve
from tests.selftest.mutants import catalog  # noqa: F401  (registers the mutants)
from tests.selftest.mutants.crashes import AFFINITY, LOCALE, STEALTH, crashing_branch, crashing_locale, crashing_pair
from tests.selftest.suite_runner import SuiteRun, run_suite

# Runs the whole suite in subprocesses (deselect with -m "not suite_run" for the fast unit part).
pytestmark = pytest.mark.suite_run

KEY = "strategies-mutant-key-7f3a9c"
SPACE = "3f0c9a52-7d1e-4c1b-9a55-2b7f0e6d1c88"
MODULES = ("tests/conformance/test_covering_set.py", "tests/conformance/test_valid_payloads.py",
           "tests/conformance/test_invalid_payloads.py")
# The id ends where pytest's " - message" begins: with CI set, pytest prints the whole message,
# which itself holds "[payload-id [ordinary]]", on the same line.
FAILED_COVERING = re.compile(r"^FAILED tests/conformance/test_covering_set\.py::\w+\[(.+?)\](?= - |$)", re.MULTILINE)


def _slices(contract: Contract) -> dict[str, Callable[[Any], bool]]:
    """Per mutant: which payloads it crashes on (the same slice, read from the catalog)."""
    locale = crashing_locale(contract)
    pair = crashing_pair(contract)
    _, discriminator, label, optional = crashing_branch(contract)

    def sticky_without_key(payload: Any) -> bool:
        affinity = resolve(payload, AFFINITY)
        return isinstance(affinity, dict) and affinity.get(discriminator) == label and not set(optional) & set(affinity)

    return {
        "crash-on-one-locale": lambda p: resolve(p, LOCALE) == locale,
        "crash-on-locale-and-stealth": lambda p: (resolve(p, LOCALE), resolve(p, STEALTH)) == pair,
        "crash-on-sticky-without-key": sticky_without_key,
    }


def _run(name: str, tmp_path: Path) -> tuple[SuiteRun, str]:
    seed = random.randrange(2**32)  # any seed: the covering set does not depend on it
    with serve(name, KEY) as server:
        run = run_suite(server.url, KEY, tmp_path / name, *MODULES, f"--hypothesis-seed={seed}")
    return run, f"(--hypothesis-seed={seed})\n" + run.output[-3000:]


@pytest.mark.parametrize("name", ["crash-on-one-locale", "crash-on-locale-and-stealth", "crash-on-sticky-without-key"])
def test_the_run_fails_and_names_exactly_the_crashing_payloads(name: str, tmp_path: Path, loaded_contract: Contract) -> None:
    hits = _slices(loaded_contract)[name]
    expected = {c.id for c in covering_set(loaded_contract, space_id=SPACE) if c.default and hits(c.payload)}
    assert expected, f"the covering set never reaches the slice {name} crashes on"
    run, tail = _run(name, tmp_path)
    assert run.returncode == 1, tail
    assert set(FAILED_COVERING.findall(run.output)) == expected, tail
    for case_id in expected:
        assert f"[{case_id} [ordinary]]" in run.output  # the failure message names the payload
    for check in MUTANTS[name].catches:
        assert f"[failure] {check} " in run.output
    assert ISOLATED[name](loaded_contract) in run.output, tail
    assert KEY not in run.output


ISOLATED: dict[str, Callable[[Contract], str]] = {
    # What the follow-up requests conclude, in the words of strategies/isolate.py.
    "crash-on-one-locale": lambda c: f"only when {LOCALE} = {crashing_locale(c)}",
    "crash-on-locale-and-stealth": lambda c: f"only when {LOCALE} = {crashing_pair(c)[0]} and {STEALTH} = "
                                             f"{crashing_pair(c)[1]}",
    "crash-on-sticky-without-key": lambda c: "is absent (in proxy=saved/affinity=sticky)",
}


def test_the_pair_crash_is_found_only_by_the_pairwise_rows(loaded_contract: Contract) -> None:
    # Each value alone passes: only an interaction test can see this server's fault.
    hits = _slices(loaded_contract)["crash-on-locale-and-stealth"]
    groups = {c.group for c in covering_set(loaded_contract, space_id=SPACE) if hits(c.payload)}
    assert groups == {"pairwise"}


def test_the_reference_passes(tmp_path: Path) -> None:
    run, tail = _run("reference", tmp_path)
    assert run.returncode == 0, tail

