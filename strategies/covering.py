"""The covering set: a small, deterministic list of named valid payloads, derived from the contract.

Four groups, each payload with a readable id:
- `enum`: one payload per value of every request enum, the value alone on a
  required-only body (`locale=nb-NO`, `proxy=custom/protocol=socks5`). A server
  that fails on one value fails exactly these, which names the culprit.
- `variant`: every oneOf branch, absent and explicit null included, each with
  all its optional fields and with none (`proxy=null`, `proxy=absent`,
  `proxy=saved/affinity=sticky`, `proxy=saved/affinity=sticky-no-key`).
- `fields`: every optional field present (`fields=all`), all absent
  (`fields=required-only`), and optional objects present but empty
  (`fields=empty-objects`).
- `pairwise`: every pair of values of two different dimensions of one scope
  together in at least one payload (`browser=edge,locale=de-DE,stealth=high,proxy=saved`).
  A dimension is a request enum with two or more values or an optional oneOf
  (its leaf branches plus `absent`); a scope is the body itself or one oneOf
  branch (the saved proxy's overrides pair among themselves). Rows come from
  allpairspy: its greedy search reaches the lower bound here (product of the
  two largest dimensions: 20 x 4 = 80 rows at the top, 4 x 3 = 12 in the saved
  proxy), is deterministic (no randomness, no hash order), and is pinned.

Nothing is hard-coded: a new enum value, branch or field in the contract
shows up here with no code change.
"""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any, Literal, Mapping

from allpairspy import AllPairs

from contracts import Contract
from strategies.builder import ABSENT, Branch, Builder, fill_all, fill_empty_objects, fill_none
from strategies.domains import Domains, load_domains
from strategies.schema import (chain_id, escape, leaf_labels, node_at, normalize_chain, parent, resolve, segments,
                               short_name, split_branch)

Group = Literal["enum", "variant", "fields", "pairwise"]


@dataclass(frozen=True)
class Option:
    label: str  # as it reads in ids: a value, a branch label, or "absent"
    plan: tuple[tuple[str, Any], ...]  # pointer -> value / Branch / ABSENT


@dataclass(frozen=True)
class Dimension:
    """One choice point of the request: an enum, or an optional/nullable oneOf."""

    pointer: str
    name: str  # in ids: `locale`, `proxy`, `overrides.ipFamily`
    chain: tuple[str, ...]  # oneOf branches that lead here (the catalog's)
    options: tuple[Option, ...]
    kind: Literal["enum", "variant"]

    @property
    def scope(self) -> tuple[str, ...]:
        return normalize_chain(self.chain)


@dataclass(frozen=True)
class CoveringCase:
    id: str
    group: Group
    payload: Any = field(repr=False)
    covers: tuple[str, ...] = ()  # what the case is there for: `pointer=value` / `pointer=branch`


def chain_plan(chain: tuple[str, ...]) -> dict[str, Any]:
    """The Branch choices a chain implies (the last branch at a pointer wins: it is the innermost)."""
    return {pointer: Branch(label) for pointer, label in map(split_branch, chain)}


def _prefix(chain: tuple[str, ...]) -> str:
    text = chain_id(chain)
    return text + "/" if text else ""


def _scope_pointer(chain: tuple[str, ...]) -> str:
    scope = normalize_chain(chain)
    return split_branch(scope[-1])[0] if scope else ""


def dimensions(contract: Contract) -> tuple[Dimension, ...]:
    """Every choice point of the request, in document order (enums, then oneOfs)."""
    schema = contract.request_schema
    found: list[Dimension] = []
    for entry in contract.enums_on("request"):
        if len(entry.values) < 2:
            continue
        options = tuple(Option(str(v), ((entry.pointer, v),)) for v in entry.values)
        found.append(Dimension(entry.pointer, "", entry.branches, options, "enum"))
    for variant in contract.variants_on("request"):
        if any(split_branch(b)[0] == variant.pointer for b in variant.branches):
            continue  # a wrapper's inner oneOf: its branches are flattened into the outer one
        node = node_at(schema, variant.pointer, variant.branches)
        holder = node_at(schema, parent(variant.pointer), variant.branches)
        optional = holder is not None and segments(variant.pointer)[-1] not in (holder.get("required") or ())
        labels = ["absent"] * optional + leaf_labels(node)
        options = tuple(Option(label, ((variant.pointer, ABSENT if label == "absent" else Branch(label)),))
                        for label in labels)
        found.append(Dimension(variant.pointer, "", variant.branches, options, "variant"))
    return tuple(_named(found))


def _named(found: list[Dimension]) -> list[Dimension]:
    named = []
    for dim in found:
        within = _scope_pointer(dim.chain)
        if within:
            name = short_name(dim.pointer, within)
        else:
            last = segments(dim.pointer)[-1]
            clash = sum(1 for d in found if not d.scope and segments(d.pointer)[-1] == last) > 1
            name = short_name(dim.pointer) if clash else last
        named.append(Dimension(dim.pointer, name, dim.chain, dim.options, dim.kind))
    return named


def scopes(dims: tuple[Dimension, ...]) -> dict[tuple[str, ...], list[Dimension]]:
    grouped: dict[tuple[str, ...], list[Dimension]] = {}
    for dim in dims:
        grouped.setdefault(dim.scope, []).append(dim)
    return grouped


def pairwise_rows(dims: list[Dimension]) -> list[tuple[Option, ...]]:
    """Rows in which every pair of options of two different dimensions appears (allpairspy)."""
    if len(dims) < 2:
        return []
    return [tuple(row) for row in AllPairs([list(d.options) for d in dims])]


class _Collector:
    def __init__(self, builder: Builder) -> None:
        self.builder = builder
        self.cases: list[CoveringCase] = []
        self.seen: set[str] = set()

    def add(self, case_id: str, group: Group, plan: Mapping[str, Any], *, fill: Any = fill_none,
            covers: tuple[str, ...] = (), named: bool = True) -> None:
        plan = dict(plan)
        name_pointer = self.builder.domains.role("name")
        if named and name_pointer:
            plan[name_pointer] = self.builder.name_for(case_id)
        payload = self.builder.build(plan, fill=fill, seed=case_id)
        # The same body but for its name, in the same group, proves nothing new; across
        # groups it stays, so `fields=required-only` reads as such next to `type=browser`.
        key = group + json.dumps(_without(payload, name_pointer), sort_keys=True)
        if key in self.seen:
            return
        self.seen.add(key)
        self.cases.append(CoveringCase(case_id, group, payload, covers))


def _without(payload: Any, pointer: str | None) -> Any:
    if not pointer or not isinstance(payload, dict):
        return payload
    *path, last = segments(pointer)
    trimmed = copy.deepcopy(payload)
    holder = resolve(trimmed, "".join("/" + escape(p) for p in path)) if path else trimmed
    if isinstance(holder, dict):
        holder.pop(last, None)
    return trimmed


def covering_set(contract: Contract, *, space_id: str, name_prefix: str = "", saved_proxy_id: str | None = None,
                 domains: Domains | None = None) -> tuple[CoveringCase, ...]:
    """The covering set for `contract` (see the module doc), every payload in `space_id`.

    `name_prefix` starts every generated name; `saved_proxy_id` is used for the
    saved-proxy branch (a real server may refuse an id it does not know; the
    default is a fixed example uuid).
    """
    domains = domains or load_domains()
    builder = Builder(contract, space_id=space_id, name_prefix=name_prefix, saved_proxy_id=saved_proxy_id,
                      domains=domains)
    dims = dimensions(contract)
    out = _Collector(builder)
    _enum_cases(contract, dims, out)
    _variant_cases(contract, dims, out)
    out.add("fields=all", "fields", {}, fill=fill_all(""))
    out.add("fields=required-only", "fields", {}, named=False)
    out.add("fields=empty-objects", "fields", {}, fill=fill_empty_objects(""))
    for scope, members in scopes(dims).items():
        for row in pairwise_rows(members):
            plan = chain_plan(members[0].chain)
            for option in row:
                plan.update(option.plan)
            text = ",".join(f"{d.name}={o.label}" for d, o in zip(members, row))
            out.add(_prefix(scope) + text, "pairwise", plan, covers=tuple(f"{d.pointer}={o.label}" for d, o in zip(members, row)))
    return tuple(out.cases)


def _enum_cases(contract: Contract, dims: tuple[Dimension, ...], out: _Collector) -> None:
    names = {(d.pointer, d.chain): d.name for d in dims}
    for entry in contract.enums_on("request"):
        scope = normalize_chain(entry.branches)
        for value in entry.values:
            if len(entry.values) == 1 and scope and split_branch(scope[-1]) == (parent(entry.pointer), str(value)):
                continue  # a discriminator: its branch is the variant group's
            within = _scope_pointer(entry.branches)
            name = names.get((entry.pointer, entry.branches)) or (
                short_name(entry.pointer, within) if within else segments(entry.pointer)[-1])
            plan = {**chain_plan(entry.branches), entry.pointer: value}
            out.add(f"{_prefix(entry.branches)}{name}={value}", "enum", plan, covers=(f"{entry.pointer}={value}",))


def _variant_cases(contract: Contract, dims: tuple[Dimension, ...], out: _Collector) -> None:
    schema = contract.request_schema
    for dim in (d for d in dims if d.kind == "variant"):
        base = chain_plan(dim.chain)
        head = _prefix(dim.chain) + segments(dim.pointer)[-1]
        for option in dim.options:
            plan = {**base, **dict(option.plan)}
            covers = (f"{dim.pointer}={option.label}",)
            if option.label in ("absent", "null"):
                out.add(f"{head}={option.label}", "variant", plan, covers=covers)
                continue
            out.add(f"{head}={option.label}", "variant", plan, fill=fill_all(dim.pointer), covers=covers)
            branch = node_at(schema, dim.pointer, (*dim.chain, f"{dim.pointer}={option.label}")) or {}
            optional = [n for n in (branch.get("properties") or {}) if n not in (branch.get("required") or ())]
            bare = f"-no-{'-'.join(optional)}" if 0 < len(optional) <= 2 else "-required-only"
            out.add(f"{head}={option.label}{bare}", "variant", plan, covers=covers)
            out.add(f"{head}={option.label}-empty-objects", "variant", plan, fill=fill_empty_objects(dim.pointer),
                    covers=covers)
