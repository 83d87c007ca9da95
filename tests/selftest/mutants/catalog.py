"""Imports every mutant module so each registers itself; add new modules here."""
from tests.selftest.mutants import response_shape  # noqa: F401
