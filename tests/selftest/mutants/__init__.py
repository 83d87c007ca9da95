"""Deliberately broken variants of the reference mock, one changed behaviour each.

A mutant is the reference app wrapped by a function that changes exactly one
thing (an ASGI wrapper); `catches` names the check(s) the suite must report
against it. Mutant modules register themselves with `@mutant(...)`; import
`tests.selftest.mutants.catalog` to load them all.
"""
from tests.selftest.mutants.base import MUTANTS, Mutant, mutant, rewrite
from tests.selftest.mutants.catalog import build_app, serve

__all__ = ["MUTANTS", "Mutant", "build_app", "mutant", "rewrite", "serve"]
