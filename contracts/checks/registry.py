"""One registry of checks: plain functions `(contract, request, response) -> findings`."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

from contracts.checks.model import Finding, Received, SentRequest
from contracts.loader import Contract

CheckFn = Callable[[Contract, SentRequest, Received], Iterable[Finding]]


@dataclass(frozen=True)
class Check:
    name: str
    fn: CheckFn
    summary: str
    stateful: bool = False  # needs the whole run (e.g. ids unique across it)


REGISTRY: dict[str, Check] = {}


def check(name: str, *, stateful: bool = False) -> Callable[[CheckFn], CheckFn]:
    """Register a check under `name`; its docstring's first line is its summary in reports."""

    def register(fn: CheckFn) -> CheckFn:
        if name in REGISTRY:
            raise ValueError(f"check {name!r} registered twice")
        summary = (fn.__doc__ or name).strip().splitlines()[0]
        REGISTRY[name] = Check(name, fn, summary, stateful)
        return fn

    return register


def on_operation(contract: Contract, request: SentRequest) -> bool:
    """Was the request sent with the operation's own method (not a probe with another method)?"""
    return request.method.upper() == contract.method.upper()


def run_checks(contract: Contract, request: SentRequest, response: Received,
               names: Iterable[str] | None = None) -> list[Finding]:
    selected = [REGISTRY[n] for n in names] if names is not None else list(REGISTRY.values())
    findings: list[Finding] = []
    for item in selected:
        findings.extend(item.fn(contract, request, response))
    return findings
