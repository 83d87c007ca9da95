"""Mutants that answer with a well-formed body that does not reflect the request."""
from __future__ import annotations

from typing import Any

from contracts import load_contract
from contracts.checks import pointer
from tests.selftest.mutants.base import mutant, on_created


def _first_enum_value(ptr: str) -> Any:
    entry = next(e for e in load_contract().enums_on("request") if e.pointer == ptr)
    return entry.values[0]


def _pin(ptr: str):  # type: ignore[no-untyped-def]
    """Always answer the enum's first value at `ptr`, whatever was asked for."""
    value = _first_enum_value(ptr)
    *parents, leaf = pointer.parts(ptr)

    def change(data: dict) -> None:
        node: Any = data
        for part in parents:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node[leaf] = value

    return on_created(change)


@mutant("ignores-stealth", catches="semantics", description="config.stealth is always the first level, whatever was asked")
def ignores_stealth(app):  # type: ignore[no-untyped-def]
    return _pin("/config/stealth")(app)


@mutant("ignores-locale", catches="semantics",
        description="config.fingerprint.locale is always the first locale, whatever was asked")
def ignores_locale(app):  # type: ignore[no-untyped-def]
    return _pin("/config/fingerprint/locale")(app)


@mutant("drops-name", catches="semantics", description="the given name is replaced by a generated one")
def drops_name(app):  # type: ignore[no-untyped-def]
    return on_created(lambda d: d.__setitem__("name", "runtime-" + str(d.get("id", ""))[:8]))(app)
