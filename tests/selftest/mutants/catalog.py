"""Imports every mutant module so each registers itself; add new modules here."""
from tests.selftest.mutants import response_shape  # noqa: F401
from tests.selftest.mutants import (  # noqa: F401  (the checks issue's mutants)
    auth_handling,
    input_validation,
    leaks,
    reflection,
    run_invariants,
    status_and_media,
)
from tests.selftest.mutants import crashes  # noqa: F401  (the strategies issue's: 500 on one value, pair or branch)
from tests.selftest.mutants import leak_everywhere  # noqa: F401  (the report issue's: every credential echoed)
