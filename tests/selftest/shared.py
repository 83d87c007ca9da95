"""Expensive selftest fixtures computed once per selftest session, also under pytest-xdist.

With `-n N`, every worker would otherwise rebuild each module- or
session-scoped fixture (a module's whole-suite runs) for the tests it happens
to get: the work is done N times over and `-n` slows the selftests down. The
first worker to need a value computes it under a file lock in the session's
shared temporary folder; the others wait for it and read it back.
"""
from __future__ import annotations

import fcntl
import os
import pickle
from pathlib import Path
from typing import Callable, TypeVar

import pytest

T = TypeVar("T")


def shared_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.getbasetemp()
    return root.parent if os.environ.get("PYTEST_XDIST_WORKER") else root


def once(tmp_path_factory: pytest.TempPathFactory, name: str, compute: Callable[[Path], T]) -> T:
    """`compute(folder)` once for the whole selftest session (every xdist worker included); its value, pickled."""
    root = shared_root(tmp_path_factory)
    value_file, lock_file = root / f"shared-{name}.pickle", root / f"shared-{name}.lock"
    with lock_file.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if value_file.exists():
            return pickle.loads(value_file.read_bytes())
        folder = root / f"shared-{name}"
        folder.mkdir(parents=True, exist_ok=True)
        value = compute(folder)
        value_file.write_bytes(pickle.dumps(value))
        return value
