"""Adaptive follow-up: narrow a failing covering row down to its smallest failing combination.

When a row of the covering set fails in a way that depends on its payload (a
500, say), which of its values did it? A row is built from k factors, one
(pointer, option) assignment each (`CoveringCase.factors`: `browser=edge`,
`stealth=ultra`, `username=absent`). Following Nie & Leung, "The Minimal
Failure-Causing Schema of Combinatorial Testing" (TOSEM 20(4), 2011), a
*schema* is a subset of the row's factors; a *failure-causing* schema fails
in every request holding it; a *minimal* one (MFS) has no failure-causing
proper subset. We look for the MFS of size one or two, in two rounds:

1. every factor alone: k probes;
2. only if none failed alone: every pair of the row's factors, k(k-1)/2 probes.

A probe for schema S holds S's factors at the row's options and gives every
other factor of the row *another* option: absent where the row had a value (so
the body stays minimal), present (or the first value) where the row had it
absent, the row's own option only where no other is consistent (a field needs
the objects and branches holding it; such factors are the probe's `shared`).
Holding no other part of the row is what makes a failing probe evidence
against S alone (a probe shares only S with the failing row, as adaptive
fault characterization does; cf. Zhang & Zhang, "Characterizing
failure-causing parameter interactions by adaptive testing", ISSTA 2011): had
`protocol=socks5` alone been tried on a bare body, the absent username would
have ridden along, and a server that fails only for socks5 *without* a
username would have been blamed on socks5.
Each probe also takes the branches its factors live in (`key=absent` is tried
inside `proxy=saved/affinity=sticky`).

Bound: at most k + k(k-1)/2 requests for a row of k factors (k for the first
round alone when a factor fails alone); fewer when answers are already known
(`known`, by probe id) or two probes have the same body (one answer serves
both). Schemas of three or more factors are not searched: when neither round
fails, the row is reported as not reproduced: a flaky server, or an
interaction of three or more factors (re-sending the row tells them apart).

Pure functions: nothing is sent here. `isolate()` takes a `send(probe) ->
failed` callback or `known` answers; without either it returns the probes of
the next round as `pending`, to be answered and passed back in `known`.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Mapping, Sequence

from contracts import Contract
from strategies.builder import ABSENT, Builder
from strategies.covering import (VOID, CoveringCase, Dimension, Factor, Option, body_key, case_name, chain_plan,
                                 complete, conflict, presence_fill, scope_dimensions)
from strategies.domains import Domains, load_domains
from strategies.schema import chain_id, normalize_chain, split_branch

Status = Literal["isolated", "pending", "not-reproduced", "nothing-to-isolate"]


def bound(k: int) -> int:
    """The most requests isolating a row of k factors takes: k alone, then k(k-1)/2 pairs."""
    return k + k * (k - 1) // 2


@dataclass(frozen=True)
class Probe:
    """One follow-up request: the schema under test at the row's options, every other factor changed."""

    id: str  # `isolate:<row id>:<factor>+<factor>`
    schema: tuple[Factor, ...]
    payload: Any = field(repr=False)
    round: int  # 1: a factor alone, 2: a pair
    shared: tuple[Factor, ...] = ()  # other factors that had to keep the row's option

    @property
    def label(self) -> str:
        return "+".join(f.label for f in self.schema)


@dataclass(frozen=True)
class Isolation:
    """What the rounds found for one failing row."""

    case_id: str
    factors: tuple[Factor, ...]
    status: Status
    schemas: tuple[tuple[Factor, ...], ...] = ()  # the minimal failing schemas found
    probes: tuple[Probe, ...] = ()  # every probe of the rounds that ran
    answers: Mapping[str, bool] = field(default_factory=dict)  # probe id -> failed
    pending: tuple[Probe, ...] = ()  # probes to answer before the next step
    requests: int = 0  # distinct bodies (but for their names) answered: at most bound(len(factors))

    def sentences(self) -> tuple[str, ...]:
        """One readable sentence per minimal failing schema, or one saying why there is none."""
        k = len(self.factors)
        if self.status == "isolated":
            return tuple(describe(schema) for schema in self.schemas)
        if self.status == "pending":
            return (f"waiting for {len(self.pending)} answer(s) of round {self.pending[0].round}",)
        if self.status == "nothing-to-isolate":
            return ("the row is not a combination of factors: it is itself the smallest failing request",)
        tried = "alone" if k == 1 else "alone nor any pair of them"
        return (f"did not reproduce: none of the row's {k} factor(s) {tried} failed ({self.requests} requests); "
                "the failure is flaky (the same request does not always fail) or needs three or more factors "
                "together: re-send the row to tell which",)


def describe(schema: Sequence[Factor]) -> str:
    """`only when /config/fingerprint/browser = edge and /config/stealth = ultra` (+ the branch it lives in)."""
    scope = max((f.scope for f in schema), key=len, default=())
    where = f" (in {chain_id(scope)})" if scope else ""
    return "only when " + " and ".join(f.sentence() for f in schema) + where


class _Prober:
    def __init__(self, contract: Contract, case: CoveringCase, builder: Builder) -> None:
        self.case = case
        self.builder = builder
        by_scope = scope_dimensions(contract)
        self.dims = [self._dimension(by_scope, f) for f in case.factors]

    @staticmethod
    def _dimension(by_scope: Mapping[tuple[str, ...], tuple[Dimension, ...]], f: Factor) -> Dimension:
        found = next((d for d in by_scope.get(f.scope, ()) if d.pointer == f.pointer), None)
        if found is not None and found.option(f.option) is not None:
            return found
        # Not a choice point (a single-valued enum, say): it can only keep its option.
        return Dimension(f.pointer, f.name, f.chain, (Option(f.option, f.plan, f.present),), "enum")

    def _preference(self, index: int) -> list[str]:
        own = self.case.factors[index].option
        labels = [o.label for o in self.dims[index].options]
        if own in VOID:
            others = [x for x in labels if x not in VOID] + [x for x in VOID if x in labels and x != own]
        else:
            others = [x for x in ("absent",) if x in labels] + [x for x in labels if x not in ("absent", own)]
        return others + [own]

    def probe(self, schema: tuple[int, ...], round_: int) -> Probe:
        factors = self.case.factors
        # The branches the schema's factors live in are fixed too (as variant choices at their pointers).
        dims = list(self.dims)
        fixed = {i: factors[i].option for i in schema}
        for i in schema:
            scope = factors[i].scope
            for n, (at, label) in enumerate(map(split_branch, scope)):
                dims.append(Dimension(at, "", scope[:n], (Option(label, ()),), "variant"))
                fixed[len(dims) - 1] = label
        chosen = _complete(dims, fixed, lambda k: self._preference(k) if k < len(factors) else [fixed[k]])
        if chosen is None:
            raise ValueError(f"{self.case.id}: the factors {[factors[i].label for i in schema]} cannot be together")
        plan: dict[str, Any] = {}
        present: list[str] = []
        options = [self.dims[i].option(chosen[i]) for i in range(len(factors))]
        for i, option in enumerate(options):
            if i in fixed or option.label not in VOID:  # type: ignore[union-attr]
                plan.update(chain_plan(factors[i].scope))
        for option in options:
            plan.update(option.plan)  # type: ignore[union-attr]
            present += option.present  # type: ignore[union-attr]
        labels = "+".join(factors[i].label for i in schema)
        probe_id = f"isolate:{self.case.id}:{labels}"
        name = self.builder.domains.role("name")
        if name and plan.get(name, ABSENT) is ABSENT and not any(p == name for p in present):
            plan[name] = case_name(self.builder, probe_id)
        payload = self.builder.build(plan, fill=presence_fill(present), seed=probe_id)
        shared = tuple(factors[i] for i in range(len(factors))
                       if i not in fixed and chosen[i] == factors[i].option and factors[i].option != "absent")
        return Probe(probe_id, tuple(factors[i] for i in schema), payload, round_, shared)


def _complete(dims: list[Dimension], fixed: Mapping[int, str],
              preference: Callable[[int], list[str]]) -> dict[int, str] | None:
    """A consistent choice for every dimension, extending `fixed`, trying options in `preference` order."""
    def compatible(i: int, a: str, j: int, b: str) -> bool:
        if conflict(dims[i], a, dims[j], b):
            return False
        if a in VOID or b in VOID:
            return True
        # Two present factors cannot live in two different branches of one oneOf.
        branches_i = dict(map(split_branch, normalize_chain(dims[i].chain)))
        branches_j = map(split_branch, normalize_chain(dims[j].chain))
        return all(branches_i.get(at, label) == label for at, label in branches_j)

    return complete(dims, fixed, preference=lambda k, _chosen: preference(k),
                    clash=lambda i, a, j, b: not compatible(i, a, j, b))


def probes(contract: Contract, case: CoveringCase, *, space_id: str, round: int = 1, name_prefix: str = "",
           saved_proxy_id: str | None = None, domains: Domains | None = None) -> tuple[Probe, ...]:
    """The probes of one round for a failing row: round 1 every factor alone, round 2 every pair.

    Each probe is a valid payload in `space_id` named `name_prefix` + its id;
    the schema's factors keep the row's options and every other factor gets
    another one where the schema allows (see the module doc). Deterministic.
    """
    builder = Builder(contract, space_id=space_id, name_prefix=name_prefix, saved_proxy_id=saved_proxy_id,
                      domains=domains or load_domains())
    prober = _Prober(contract, case, builder)
    size = {1: 1, 2: 2}[round]
    return tuple(prober.probe(schema, round) for schema in itertools.combinations(range(len(case.factors)), size))


def isolate(contract: Contract, case: CoveringCase, *, space_id: str,
            send: Callable[[Probe], bool] | None = None, known: Mapping[str, bool] | None = None,
            name_prefix: str = "", saved_proxy_id: str | None = None, domains: Domains | None = None) -> Isolation:
    """Narrow the failing row `case` down to its minimal failing schemas (see the module doc).

    Answers come from `known` (probe id -> failed) first, then from any probe
    with the same body already answered, then from `send(probe)` (True: it
    failed the same way). Without `send`, a round with unanswered probes ends
    the call with `status="pending"` and those probes in `pending`; call again
    with their answers added to `known`. At most `bound(len(case.factors))`
    distinct requests.
    """
    factors = case.factors
    if not factors:
        return Isolation(case.id, factors, "nothing-to-isolate")
    answers: dict[str, bool] = dict(known or {})
    by_body: dict[str, bool] = {}
    seen: list[Probe] = []
    name = (domains or load_domains()).role("name")

    def result(status: Status, **more: Any) -> Isolation:
        asked = {body_key(p.payload, name) for p in seen if p.id in answers}
        return Isolation(case.id, factors, status, probes=tuple(seen), answers=answers, requests=len(asked), **more)

    for round_ in (1, 2):
        batch = probes(contract, case, space_id=space_id, round=round_, name_prefix=name_prefix,
                       saved_proxy_id=saved_proxy_id, domains=domains)
        seen += batch
        for probe in batch:  # what is known already, by id, serves every probe with the same body
            if probe.id in answers:
                by_body.setdefault(body_key(probe.payload, name), answers[probe.id])
        pending = []
        for probe in batch:
            key = body_key(probe.payload, name)
            if probe.id not in answers and key in by_body:
                answers[probe.id] = by_body[key]
            elif probe.id not in answers and send is not None:
                answers[probe.id] = by_body[key] = bool(send(probe))
            elif probe.id not in answers:
                pending.append(probe)
        if pending:
            return result("pending", pending=tuple(pending))
        failing = tuple(p.schema for p in batch if answers[p.id])
        if failing:
            return result("isolated", schemas=failing)
    return result("not-reproduced")
