"""Every mutant, registered by importing its module (add new modules here), and a way to serve one by name."""
from __future__ import annotations

from contracts import Contract, load_contract
from mock import MockSettings, ServerThread, create_app
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
from tests.selftest.mutants import round2  # noqa: F401  (one per technique: boundaries, variants, framing, time, overlap)
from tests.selftest.mutants.base import MUTANTS, ASGIApp


def build_app(name: str, api_key: str, contract: Contract | None = None) -> ASGIApp:
    """The reference app (name 'reference') or a mutant of it, accepting `api_key`."""
    contract = contract or load_contract()
    if name == "reference":
        return create_app(MockSettings(frozenset({api_key})), contract)
    spec = MUTANTS[name]
    return spec.wrap(create_app(MockSettings(frozenset({api_key}), **spec.settings), contract))


def serve(name: str, api_key: str, contract: Contract | None = None, port: int = 0) -> ServerThread:
    """A started-on-enter server for the reference mock or one mutant."""
    return ServerThread(build_app(name, api_key, contract), port=port)
