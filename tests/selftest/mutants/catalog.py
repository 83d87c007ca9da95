"""Imports every mutant module so each registers itself; add new modules here."""
from tests.selftest.mutants import response_shape  # noqa: F401
from tests.selftest.mutants import crashes  # noqa: F401  (the strategies issue's: 500 on one value, pair or branch)
