"""Mutants that crash (500) on one narrow slice of valid input: one enum value, one pair, one branch.

Chance finds such a server only sometimes; the covering set must find it on
every run and name the payload. The slices are read from the contract's
catalog at run time (a position in an enum, a label of a oneOf), so the
mutants follow the contract like the suite does. Only requests the reference
accepted (200) crash, so invalid input still gets its 4xx.
"""
from __future__ import annotations

from typing import Any, Callable

from contracts import Contract, load_contract
from strategies.schema import node_at, resolve
from tests.selftest.mutants.base import Reply, mutant, request_json, rewrite

LOCALE = "/config/fingerprint/locale"
STEALTH = "/config/stealth"
AFFINITY = "/config/proxy/overrides/affinity"


def _values(contract: Contract, pointer: str) -> tuple[Any, ...]:
    return next(e.values for e in contract.enums_on("request") if e.pointer == pointer and len(e.values) > 1)


def crashing_locale(contract: Contract) -> str:
    """The 15th locale of the catalog (nb-NO today)."""
    return _values(contract, LOCALE)[14]


def crashing_pair(contract: Contract) -> tuple[str, str]:
    """The 3rd locale with the 2nd stealth level (de-DE with high today)."""
    return _values(contract, LOCALE)[2], _values(contract, STEALTH)[1]


def crashing_branch(contract: Contract) -> tuple[tuple[str, ...], str, str, tuple[str, ...]]:
    """The last affinity branch (sticky) without its optional fields (key): chain, discriminator, label, optional."""
    variant = next(v for v in contract.variants_on("request") if v.pointer == AFFINITY)
    label = variant.labels[-1]
    chain = (*variant.branches, f"{AFFINITY}={label}")
    discriminator = next(e.pointer.rsplit("/", 1)[-1] for e in contract.enums_on("request") if e.branches == chain)
    branch = node_at(contract.request_schema, AFFINITY, chain) or {}
    optional = tuple(n for n in branch.get("properties", {}) if n not in branch.get("required", ()))
    return chain, discriminator, label, optional


def _crash_when(predicate: Callable[[Any], bool]) -> Callable[[Any], Any]:
    def fn(scope: dict, body: bytes, reply: Reply) -> Reply:
        if reply.status == 200 and predicate(request_json(body)):
            reply.status = 500
            reply.set_json({"error": {"code": "internal", "message": "internal server error"}})
            reply.set_header("content-type", "application/json")
        return reply

    return rewrite(fn)


@mutant("crash-on-one-locale", catches="status_code",
        description="500 for the 15th locale of the catalog (nb-NO), 200 for every other")
def crash_on_one_locale(app):  # type: ignore[no-untyped-def]
    locale = crashing_locale(load_contract())
    return _crash_when(lambda payload: resolve(payload, LOCALE) == locale)(app)


@mutant("crash-on-locale-and-stealth", catches="status_code", caught_in={"test_covering_set": ("status_code",)},
        description="500 only for the 3rd locale together with the 2nd stealth level (de-DE with high); "
                    "each value alone works")
def crash_on_locale_and_stealth(app):  # type: ignore[no-untyped-def]
    locale, stealth = crashing_pair(load_contract())
    return _crash_when(lambda payload: resolve(payload, LOCALE) == locale and resolve(payload, STEALTH) == stealth)(app)


@mutant("crash-on-sticky-without-key", catches="status_code",
        description="500 for a saved proxy with sticky affinity but no key; sticky with a key, and rotate, work")
def crash_on_sticky_without_key(app):  # type: ignore[no-untyped-def]
    _, discriminator, label, optional = crashing_branch(load_contract())

    def crashes(payload: Any) -> bool:
        affinity = resolve(payload, AFFINITY)
        return (isinstance(affinity, dict) and affinity.get(discriminator) == label
                and not any(name in affinity for name in optional))

    return _crash_when(crashes)(app)
