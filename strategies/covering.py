"""The covering set: a small, deterministic list of named valid payloads, derived from the contract.

Four groups, each payload with a readable id:
- `enum`: one payload per value of every request enum, the value alone on a
  required-only body (`locale=nb-NO`, `proxy=custom/protocol=socks5`). Kept
  for diagnosis but not sent by default (`default=False`) when the default
  rows already hold that value in that branch: the pairwise rows do, and a
  failing row is narrowed down adaptively (strategies/isolate.py).
- `variant`: every oneOf branch, absent and explicit null included, each with
  all its optional fields and with none (`proxy=null`, `proxy=absent`,
  `proxy=saved/affinity=sticky`, `proxy=saved/affinity=sticky-no-key`).
- `fields`: every optional field present (`fields=all`), all absent
  (`fields=required-only`), and optional objects present but empty
  (`fields=empty-objects`).
- `pairwise`: every pair of options of two different dimensions of one scope
  together in at least one payload. A scope is the body itself or one leaf
  oneOf branch (`proxy=custom`, `proxy=saved`, `proxy=saved/affinity=sticky`).
  In the body a dimension is a request enum with two or more values or an
  optional oneOf (its leaf branches plus `absent`): `browser=edge,locale=de-DE,
  stealth=high,proxy=saved`. Inside a branch every optional field is a
  dimension too, at any depth but not into a nested branch (which is a scope of
  its own): `absent`, `null` where allowed, then its enum values, its branch
  labels, or `present` (`proxy=custom/protocol=socks5,username=absent,
  password=present`). A field can only be there when the objects holding it
  are, so such pairs as `overrides=absent` with `ipFamily=ipv4-only` are
  infeasible and left out. Rows come from allpairspy where no field nests
  (greedy, deterministic, pinned; it reaches the lower bound in the body,
  20 x 4 = 80 rows) and from a deterministic AETG-style greedy where fields
  nest (`pairwise_rows`). A scope with one dimension gets one row per option.

`default` says which rows a run sends: a row whose body (but for its name)
another default row already has, and an `enum` row whose value in its branch
a default row already holds, are kept but not sent by default. Every enum
value, branch and pair stays covered by the default rows (a selftest proves
it). `factors` says what a row was built from, one (pointer, option) each, so
a failing row can be narrowed down (strategies/isolate.py).

Nothing is hard-coded: a new enum value, branch or field in the contract
shows up here with no code change.
"""
from __future__ import annotations

import copy
import hashlib
import itertools
import json
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable, Literal, Mapping, Sequence

from allpairspy import AllPairs
from jsonschema import Draft202012Validator

from contracts import Contract
from strategies.builder import ABSENT, Branch, Builder, Fill, fill_all, fill_empty_objects, fill_none
from strategies.domains import Domains, load_domains
from strategies.schema import (MISSING, chain_id, escape, is_free_form, labels, leaf_labels, node_at, normalize_chain,
                               parent, primary_type, resolve, segments, short_name, split_branch, types_of)

Group = Literal["enum", "variant", "fields", "pairwise"]
VOID = ("absent", "null")  # options under which nothing below the field can be there


@dataclass(frozen=True)
class Option:
    label: str  # as it reads in ids: a value, a branch label, "absent", "null" or "present"
    plan: tuple[tuple[str, Any], ...]  # pointer -> value / Branch / ABSENT
    present: tuple[str, ...] = ()  # optional properties to include (with their holders)


@dataclass(frozen=True)
class Dimension:
    """One choice point of the request: an enum, an optional/nullable oneOf, or an optional field's presence."""

    pointer: str
    name: str  # in ids: `locale`, `proxy`, `overrides.ipFamily`, `username`
    chain: tuple[str, ...]  # oneOf branches that lead here (the catalog's)
    options: tuple[Option, ...]
    kind: Literal["enum", "variant", "presence"]
    optional: bool = True  # False: absent only when an enclosing optional object is
    holder: str | None = None  # the nearest enclosing dimension of the same scope (an optional object)

    @property
    def scope(self) -> tuple[str, ...]:
        return normalize_chain(self.chain)

    def option(self, label: str) -> Option | None:
        return next((o for o in self.options if o.label == label), None)


@dataclass(frozen=True)
class Factor:
    """One (pointer, option) assignment a row was built from: `browser=edge`, `username=absent`."""

    pointer: str
    name: str
    option: str
    chain: tuple[str, ...] = ()  # the branches it lives in (normalized)
    plan: tuple[tuple[str, Any], ...] = field(default=(), repr=False)
    present: tuple[str, ...] = field(default=(), repr=False)

    @property
    def label(self) -> str:
        return f"{self.name}={self.option}"

    @property
    def scope(self) -> tuple[str, ...]:
        return normalize_chain(self.chain)

    @property
    def key(self) -> tuple[str, str, tuple[str, ...]]:
        return self.pointer, self.option, self.scope

    def sentence(self) -> str:
        """`/config/stealth = ultra`, `/config/proxy/username is absent`."""
        if self.option in ("absent", "present", "null"):
            return f"{self.pointer} is {self.option}"
        return f"{self.pointer} = {self.option}"

    @classmethod
    def of(cls, dim: Dimension, option: Option) -> "Factor":
        return cls(dim.pointer, dim.name, option.label, dim.scope, option.plan, option.present)


@dataclass(frozen=True)
class CoveringCase:
    id: str
    group: Group
    payload: Any = field(repr=False)
    covers: tuple[str, ...] = ()  # what the case is there for: `pointer=value` / `pointer=branch`
    factors: tuple[Factor, ...] = field(default=(), repr=False)  # what it was built from (isolate.py)
    default: bool = True  # sent by a default run; False: the default rows already cover it


def chain_plan(chain: tuple[str, ...]) -> dict[str, Any]:
    """The Branch choices a chain implies (the last branch at a pointer wins: it is the innermost)."""
    return {pointer: Branch(label) for pointer, label in map(split_branch, chain)}


def presence_fill(present: Iterable[str]) -> Fill:
    """A Builder fill including the optional properties at `present` and every object holding one."""
    wanted = frozenset(present)
    if not wanted:
        return fill_none
    return lambda pointer, node: pointer in wanted or any(p.startswith(pointer + "/") for p in wanted)


def _prefix(chain: tuple[str, ...]) -> str:
    text = chain_id(chain)
    return text + "/" if text else ""


def _scope_pointer(chain: tuple[str, ...]) -> str:
    scope = normalize_chain(chain)
    return split_branch(scope[-1])[0] if scope else ""


def dimensions(contract: Contract) -> tuple[Dimension, ...]:
    """Every enum and oneOf choice point of the request, in document order (enums, then oneOfs).

    These are the body scope's dimensions (and, for reference, the enums and
    oneOfs inside branches); `scope_dimensions` adds the presence of optional
    fields inside each branch.
    """
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
        labels_ = ["absent"] * optional + leaf_labels(node)
        options = tuple(Option(label, ((variant.pointer, ABSENT if label == "absent" else Branch(label)),))
                        for label in labels_)
        found.append(Dimension(variant.pointer, "", variant.branches, options, "variant", optional))
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
        named.append(replace(dim, name=name))
    return named


def scopes(dims: tuple[Dimension, ...]) -> dict[tuple[str, ...], list[Dimension]]:
    grouped: dict[tuple[str, ...], list[Dimension]] = {}
    for dim in dims:
        grouped.setdefault(dim.scope, []).append(dim)
    return grouped


# --- dimensions inside each branch ---------------------------------------------------------------

def branch_scopes(schema: Mapping[str, Any]) -> list[tuple[tuple[str, ...], str, Mapping[str, Any]]]:
    """(chain, pointer, branch node) of every leaf oneOf branch that is an object with properties."""
    found: list[tuple[tuple[str, ...], str, Mapping[str, Any]]] = []

    def visit(node: Any, pointer: str, chain: tuple[str, ...]) -> None:
        if not isinstance(node, Mapping):
            return
        if isinstance(node.get("oneOf"), list):
            for branch, label in zip(node["oneOf"], labels(node)):
                here = (*chain, f"{pointer}={label}")
                if isinstance(branch, Mapping) and "oneOf" in branch:
                    visit(branch, pointer, here)  # a wrapper: its branches are the leaves
                elif isinstance(branch, Mapping) and branch.get("properties"):
                    found.append((normalize_chain(here), pointer, branch))
                    visit_members(branch, pointer, here)
            return
        visit_members(node, pointer, chain)

    def visit_members(node: Mapping[str, Any], pointer: str, chain: tuple[str, ...]) -> None:
        for name, child in (node.get("properties") or {}).items():
            visit(child, f"{pointer}/{escape(name)}", chain)
        if isinstance(node.get("items"), Mapping):
            visit(node["items"], f"{pointer}/*", chain)

    visit(schema, "", ())
    return found


def _nullable(node: Mapping[str, Any]) -> bool:
    if "oneOf" in node:
        return any(isinstance(b, Mapping) and b.get("type") == "null" for b in node["oneOf"])
    return "null" in types_of(node) and "enum" not in node


def _within(node: Mapping[str, Any], pointer: str, chain: tuple[str, ...], holder: str | None) -> list[Dimension]:
    """The dimensions of one branch: its enums, optional oneOfs and optional fields, at any depth.

    At each level the choices (enums, oneOfs) come first, then each optional
    field followed by the fields inside it, so ids read `protocol=socks5,
    username=absent` and a holder comes before what it holds.
    """
    choices: list[Dimension] = []
    groups: list[Dimension] = []
    required = set(node.get("required") or ())
    for name, child in (node.get("properties") or {}).items():
        if not isinstance(child, Mapping):
            continue
        here = f"{pointer}/{escape(name)}"
        optional = name not in required
        # A required field of an optional object is absent exactly when that object is.
        head = [Option("absent", ((here, ABSENT),))] if optional or holder else []
        null = [Option("null", ((here, None),))] if _nullable(child) and "oneOf" not in child else []
        if "oneOf" in child:
            branch_labels = leaf_labels(child)
            if head or len(branch_labels) > 1:
                options = head + [Option(label, ((here, Branch(label)),)) for label in branch_labels]
                choices.append(Dimension(here, "", chain, tuple(options), "variant", optional, holder))
            continue
        values = child.get("enum") if isinstance(child.get("enum"), list) else (
            [child["const"]] if "const" in child else None)
        if values is not None:
            if head or len(values) > 1:
                options = head + [Option("null" if v is None else str(v), ((here, v),)) for v in values]
                choices.append(Dimension(here, "", chain, tuple(options), "enum", optional, holder))
            continue
        if head:
            options = head + null + [Option("present", (), (here,))]
            groups.append(Dimension(here, "", chain, tuple(options), "presence", optional, holder))
        if primary_type(child) == "object" and not is_free_form(child):
            groups += _within(child, here, chain, here if head else holder)
    return choices + groups


def _suffix_names(dims: list[Dimension], within: str) -> list[Dimension]:
    """The shortest path suffix below the scope that tells the dimensions apart: `username`, `geo.city`."""
    paths = [[p for p in segments(d.pointer[len(within):]) if p != "*"] for d in dims]
    named = []
    for dim, path in zip(dims, paths):
        for k in range(1, len(path) + 1):
            if sum(1 for other in paths if other[-k:] == path[-k:]) == 1:
                break
        named.append(replace(dim, name=".".join(path[-k:]) or "body"))
    return named


def scope_dimensions(contract: Contract) -> dict[tuple[str, ...], tuple[Dimension, ...]]:
    """The pairwise dimensions of every scope: the body's enums and oneOfs, and inside each leaf
    oneOf branch its enums, optional oneOfs and optional fields' presence (see the module doc)."""
    out: dict[tuple[str, ...], tuple[Dimension, ...]] = {(): tuple(d for d in dimensions(contract) if not d.scope)}
    for chain, pointer, node in branch_scopes(contract.request_schema):
        dims = _within(node, pointer, chain, None)
        if dims:
            out[chain] = tuple(_suffix_names(dims, pointer))
    return out


# --- constraints and rows ------------------------------------------------------------------------

def _branch_at(chain: tuple[str, ...], pointer: str) -> str | None:
    for at, label in map(split_branch, normalize_chain(chain)):
        if at == pointer:
            return label
    return None


def conflict(x: Dimension, x_label: str, y: Dimension, y_label: str) -> bool:
    """Can these two options not be in one payload? (A field needs the objects and branches holding it.)"""
    if x.pointer == y.pointer and x.kind == y.kind == "variant":
        return x_label != y_label
    for (a, la), (b, lb) in (((x, x_label), (y, y_label)), ((y, y_label), (x, x_label))):
        if not b.pointer.startswith(a.pointer + "/"):
            continue  # a is not above b
        if lb != "absent":
            if la in VOID:
                return True
            wanted = _branch_at(b.chain, a.pointer)
            if a.kind == "variant" and wanted is not None and la != wanted:
                return True
        elif not b.optional and b.holder == a.pointer and la not in VOID:
            return True  # a required field of a present object
    return False


def complete(dims: Sequence[Dimension], fixed: Mapping[int, str], *,
             preference: Callable[[int, Mapping[int, str]], Sequence[str]] | None = None,
             clash: Callable[[int, str, int, str], bool] | None = None) -> dict[int, str] | None:
    """A full, consistent assignment of option labels extending `fixed` (None: there is none).

    Depth-first in dimension order, trying each dimension's options in the
    order `preference(index, chosen so far)` gives (default: document order).
    `clash(i, a, j, b)`: may option a of dimension i and option b of dimension j
    not go together (default: `conflict`)?
    """
    clash = clash or (lambda i, a, j, b: conflict(dims[i], a, dims[j], b))
    for (i, a), (j, b) in itertools.combinations(fixed.items(), 2):
        if clash(i, a, j, b):
            return None
    chosen = dict(fixed)

    def step(k: int) -> bool:
        if k == len(dims):
            return True
        if k in fixed:
            return step(k + 1)
        order = preference(k, chosen) if preference else [o.label for o in dims[k].options]
        for label in order:
            if not any(clash(k, label, j, other) for j, other in chosen.items()):
                chosen[k] = label
                if step(k + 1):
                    return True
                del chosen[k]
        return False

    return chosen if step(0) else None


Pair = tuple[tuple[int, str], tuple[int, str]]


def feasible_pairs(dims: Sequence[Dimension]) -> list[Pair]:
    """Every pair of options of two dimensions that some consistent payload holds, in document order."""
    pairs = []
    for i, j in itertools.combinations(range(len(dims)), 2):
        for a in dims[i].options:
            for b in dims[j].options:
                if not conflict(dims[i], a.label, dims[j], b.label) and complete(dims, {i: a.label, j: b.label}):
                    pairs.append(((i, a.label), (j, b.label)))
    return pairs


SEEDS = 20  # rows tried per greedy step (one per uncovered pair, first in document order); the best is kept


def pairwise_rows(dims: list[Dimension]) -> list[tuple[Option, ...]]:
    """Rows in which every feasible pair of options of two different dimensions appears.

    Without nested fields, allpairspy's rows (the body: 80, its lower bound).
    With them, allpairspy stops early under a constraint, so a greedy of our
    own in the manner of AETG (Cohen et al., 1997) but deterministic: each row
    starts from one of the first `SEEDS` uncovered feasible pairs, every other
    dimension takes the consistent option that covers most uncovered pairs
    with those already chosen (ties: document order), and the row covering
    most wins. One row per option when there is only one dimension.
    """
    if not dims:
        return []
    if len(dims) == 1:
        return [(o,) for o in dims[0].options]
    nested = any(d.holder or any(e.pointer.startswith(d.pointer + "/") for e in dims) for d in dims)
    if not nested:
        return [tuple(row) for row in AllPairs([list(d.options) for d in dims])]
    order = {pair: n for n, pair in enumerate(feasible_pairs(dims))}
    uncovered = set(order)
    rows = []
    while uncovered:
        def preference(k: int, chosen: Mapping[int, str]) -> list[str]:
            gain = {o.label: sum(1 for m, other in chosen.items()
                                 if tuple(sorted(((k, o.label), (m, other)))) in uncovered) for o in dims[k].options}
            return sorted(gain, key=lambda label: -gain[label])  # stable: ties keep document order

        best: tuple[int, dict[int, str]] | None = None
        for (i, a), (j, b) in sorted(uncovered, key=order.__getitem__)[:SEEDS]:
            assignment = complete(dims, {i: a, j: b}, preference=preference)
            assert assignment is not None  # the pair is feasible
            gained = len(_pairs_of(assignment) & uncovered)
            if best is None or gained > best[0]:
                best = (gained, assignment)
        assert best is not None
        rows.append(tuple(dims[k].option(best[1][k]) for k in range(len(dims))))  # type: ignore[misc]
        uncovered -= _pairs_of(best[1])
    return rows


def _pairs_of(assignment: Mapping[int, str]) -> set[Pair]:
    return {tuple(sorted(pair)) for pair in itertools.combinations(assignment.items(), 2)}  # type: ignore[misc]


# --- observing a payload -------------------------------------------------------------------------

class Observer:
    """Which option of a dimension a payload holds (for rows not built from a pairwise row)."""

    def __init__(self, contract: Contract) -> None:
        self.schema = contract.request_schema
        self._validators: dict[tuple[str, tuple[str, ...], str], Draft202012Validator] = {}

    def option(self, payload: Any, dim: Dimension) -> str | None:
        value = resolve(payload, dim.pointer)
        if value is MISSING:
            return "absent"
        if value is None:
            return "null"
        if dim.kind == "presence":
            return "present"
        if dim.kind == "enum":
            return str(value)
        for option in dim.options:
            if option.label not in VOID and self._validator(dim, option.label).is_valid(value):
                return option.label
        return None

    def _validator(self, dim: Dimension, label: str) -> Draft202012Validator:
        key = (dim.pointer, dim.chain, label)
        if key not in self._validators:
            node = node_at(self.schema, dim.pointer, (*dim.chain, f"{dim.pointer}={label}"))
            self._validators[key] = Draft202012Validator(dict(node or {}),
                                                         format_checker=Draft202012Validator.FORMAT_CHECKER)
        return self._validators[key]

    def in_chain(self, payload: Any, chain: tuple[str, ...], dims: Iterable[Dimension]) -> bool:
        """Does the payload take every branch of `chain`? (Judged by the variant dimensions at those pointers.)"""
        by_pointer = {d.pointer: d for d in dims if d.kind == "variant"}
        for at, label in map(split_branch, normalize_chain(chain)):
            dim = by_pointer.get(at)
            if dim is None or self.option(payload, dim) != label:
                return False
        return True


# --- the set -------------------------------------------------------------------------------------

def case_name(builder: Builder, case_id: str) -> str:
    """The run's prefix and the case id; a hash stands in for the id's tail when the name would
    be longer than the plausible domain of names (and so no longer ordinary)."""
    text = builder.name_for(case_id)
    pointer = builder.domains.role("name")
    longest = (builder.domains.rule(pointer, "string").max_length if pointer else None) or 255
    if len(text) <= longest:
        return text
    return text[: longest - 9] + "~" + hashlib.sha256(case_id.encode()).hexdigest()[:8]


class _Collector:
    def __init__(self, builder: Builder) -> None:
        self.builder = builder
        self.cases: list[CoveringCase] = []
        self.seen: set[str] = set()
        self.name_pointer = builder.domains.role("name")

    def name(self, case_id: str) -> str:
        return case_name(self.builder, case_id)

    def add(self, case_id: str, group: Group, plan: Mapping[str, Any], *, fill: Any = fill_none,
            covers: tuple[str, ...] = (), named: bool = True, factors: tuple[Factor, ...] = ()) -> Any:
        plan = dict(plan)
        if named and self.name_pointer:
            plan[self.name_pointer] = self.name(case_id)
        payload = self.builder.build(plan, fill=fill, seed=case_id)
        # The same body but for its name, in the same group, proves nothing new; across
        # groups it stays, so `fields=required-only` reads as such next to `type=browser`.
        key = group + body_key(payload, self.name_pointer)
        if key in self.seen:
            return None
        self.seen.add(key)
        self.cases.append(CoveringCase(case_id, group, payload, covers, factors))
        return payload


def body_key(payload: Any, name_pointer: str | None) -> str:
    """The payload as canonical JSON, without its name."""
    return json.dumps(_without(payload, name_pointer), sort_keys=True)


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

    Generates every row of the four groups, `default=False` on those a default
    run need not send. `name_prefix` starts every generated name (a hash
    replaces the end of an id that would make the name longer than the
    plausible domain of names); `saved_proxy_id` is used for the saved-proxy
    branch (a real server may refuse an id it does not know; the default is a
    fixed example uuid). Deterministic: the same contract gives the same rows,
    in the same order, in every process.
    """
    domains = domains or load_domains()
    builder = Builder(contract, space_id=space_id, name_prefix=name_prefix, saved_proxy_id=saved_proxy_id,
                      domains=domains)
    dims = dimensions(contract)
    by_scope = scope_dimensions(contract)
    out = _Collector(builder)
    _enum_cases(contract, dims, by_scope, out)
    _variant_cases(contract, dims, by_scope, out)
    out.add("fields=all", "fields", {}, fill=fill_all(""))
    out.add("fields=required-only", "fields", {}, named=False)
    out.add("fields=empty-objects", "fields", {}, fill=fill_empty_objects(""))
    for scope, members in by_scope.items():
        for row in pairwise_rows(list(members)):
            plan = chain_plan(scope)
            present: list[str] = []
            for option in row:
                plan.update(option.plan)
                present += option.present
            text = ",".join(f"{d.name}={o.label}" for d, o in zip(members, row))
            out.add(_prefix(scope) + text, "pairwise", plan, fill=presence_fill(present),
                    covers=tuple(f"{d.pointer}={o.label}" for d, o in zip(members, row)),
                    factors=tuple(Factor.of(d, o) for d, o in zip(members, row)))
    return _defaults(out.cases, out.name_pointer)


def _defaults(cases: list[CoveringCase], name_pointer: str | None) -> tuple[CoveringCase, ...]:
    """Mark what a default run need not send: repeated bodies, and enum rows the default rows cover."""
    bodies: set[str] = set()
    held: set[tuple[str, str, tuple[str, ...]]] = set()
    marked: dict[str, bool] = {}
    for case in cases:
        if case.group == "enum":
            continue
        key = body_key(case.payload, name_pointer)
        marked[case.id] = key not in bodies
        if marked[case.id]:
            bodies.add(key)
            held.update(f.key for f in case.factors)
    for case in cases:
        if case.group == "enum":
            covered = bool(case.factors) and all(f.key in held for f in case.factors)
            marked[case.id] = not covered and body_key(case.payload, name_pointer) not in bodies
    return tuple(replace(case, default=marked[case.id]) for case in cases)


def _lookup(by_scope: Mapping[tuple[str, ...], tuple[Dimension, ...]], pointer: str,
            chain: tuple[str, ...]) -> Dimension | None:
    return next((d for d in by_scope.get(normalize_chain(chain), ()) if d.pointer == pointer), None)


def _enum_cases(contract: Contract, dims: tuple[Dimension, ...],
                by_scope: Mapping[tuple[str, ...], tuple[Dimension, ...]], out: _Collector) -> None:
    names = {(d.pointer, d.chain): d.name for d in dims}
    for entry in contract.enums_on("request"):
        scope = normalize_chain(entry.branches)
        dim = _lookup(by_scope, entry.pointer, entry.branches)
        for value in entry.values:
            if len(entry.values) == 1 and scope and split_branch(scope[-1]) == (parent(entry.pointer), str(value)):
                continue  # a discriminator: its branch is the variant group's
            within = _scope_pointer(entry.branches)
            name = names.get((entry.pointer, entry.branches)) or (
                short_name(entry.pointer, within) if within else segments(entry.pointer)[-1])
            plan = {**chain_plan(entry.branches), entry.pointer: value}
            option = dim.option(str(value)) if dim else None
            factor = Factor.of(dim, option) if dim and option else Factor(
                entry.pointer, name, str(value), scope, ((entry.pointer, value),))
            out.add(f"{_prefix(entry.branches)}{name}={value}", "enum", plan, covers=(f"{entry.pointer}={value}",),
                    factors=(factor,))


def _variant_cases(contract: Contract, dims: tuple[Dimension, ...],
                   by_scope: Mapping[tuple[str, ...], tuple[Dimension, ...]], out: _Collector) -> None:
    schema = contract.request_schema
    observer = Observer(contract)
    every = [d for members in by_scope.values() for d in members]
    for dim in (d for d in dims if d.kind == "variant"):
        base = chain_plan(dim.chain)
        head = _prefix(dim.chain) + segments(dim.pointer)[-1]
        scoped = _lookup(by_scope, dim.pointer, dim.chain) or dim
        for option in dim.options:
            plan = {**base, **dict(option.plan)}
            covers = (f"{dim.pointer}={option.label}",)
            chosen = scoped.option(option.label) or option

            def add(case_id: str, fill: Fill) -> None:
                payload = out.builder.build({**plan, **({out.name_pointer: "x"} if out.name_pointer else {})},
                                            fill=fill, seed=case_id)
                inner = (*dim.scope, f"{dim.pointer}={option.label}")
                # The branch's own dimensions (and those of branches below it) as this payload holds them.
                below = [d for d in every
                         if d.scope[:len(inner)] == inner and observer.in_chain(payload, d.scope, every)]
                factors = (Factor.of(scoped, chosen),) + tuple(
                    Factor.of(d, d.option(label)) for d in below  # type: ignore[arg-type]
                    if (label := observer.option(payload, d)) is not None and d.option(label) is not None)
                out.add(case_id, "variant", plan, fill=fill, covers=covers, factors=factors)

            if option.label in ("absent", "null"):
                add(f"{head}={option.label}", fill_none)
                continue
            add(f"{head}={option.label}", fill_all(dim.pointer))
            branch = node_at(schema, dim.pointer, (*dim.chain, f"{dim.pointer}={option.label}")) or {}
            optional = [n for n in (branch.get("properties") or {}) if n not in (branch.get("required") or ())]
            bare = f"-no-{'-'.join(optional)}" if 0 < len(optional) <= 2 else "-required-only"
            add(f"{head}={option.label}{bare}", fill_none)
            add(f"{head}={option.label}-empty-objects", fill_empty_objects(dim.pointer))
