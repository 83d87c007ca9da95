"""One registry of checks: plain functions `(contract, request, response) -> findings`.

Each check says when it applies (`applies`): a check that could not have
failed on an exchange has not judged it. The per-check verdicts of a run count
only the exchanges a check applied to, so a run that sent nothing invalid says
"not applicable" for negative_data instead of "passed".
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

from contracts.checks.model import Finding, Received, SentRequest
from contracts.loader import Contract

CheckFn = Callable[[Contract, SentRequest, Received], Iterable[Finding]]
Applies = Callable[[Contract, SentRequest, Received], bool]


def always(contract: Contract, request: SentRequest, response: Received) -> bool:
    return True


@dataclass(frozen=True)
class Check:
    name: str
    fn: CheckFn
    summary: str
    applies: Applies = always
    stateful: bool = False  # needs the whole run (e.g. ids unique across it)


REGISTRY: dict[str, Check] = {}


def check(name: str, *, applies: Applies = always, stateful: bool = False) -> Callable[[CheckFn], CheckFn]:
    """Register a check under `name`; its docstring's first line is its summary in reports.

    `applies(contract, request, response)` says whether the check can judge that
    exchange at all; the check function is only called when it does.
    """

    def register(fn: CheckFn) -> CheckFn:
        if name in REGISTRY:
            raise ValueError(f"check {name!r} registered twice")
        summary = (fn.__doc__ or name).strip().splitlines()[0]
        REGISTRY[name] = Check(name, fn, summary, applies, stateful)
        return fn

    return register


def on_operation(contract: Contract, request: SentRequest) -> bool:
    """Was the request sent with the operation's own method (not a probe with another method)?"""
    return request.method.upper() == contract.method.upper()


@dataclass(frozen=True)
class Judged:
    """What the checks made of one exchange: the findings, and which checks applied to it."""

    findings: tuple[Finding, ...]
    applied: tuple[str, ...]


def judge_exchange(contract: Contract, request: SentRequest, response: Received,
                   names: Iterable[str] | None = None) -> Judged:
    """The checks' entry point: run every check (or those named) that applies to the exchange."""
    selected = [REGISTRY[n] for n in names] if names is not None else list(REGISTRY.values())
    findings: list[Finding] = []
    applied: list[str] = []
    for item in selected:
        if item.applies(contract, request, response):
            applied.append(item.name)
            findings.extend(item.fn(contract, request, response))
    return Judged(tuple(findings), tuple(applied))


def run_checks(contract: Contract, request: SentRequest, response: Received,
               names: Iterable[str] | None = None) -> list[Finding]:
    """The findings of every applicable check (or of those named), in registry order."""
    return list(judge_exchange(contract, request, response, names).findings)
