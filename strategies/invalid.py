"""Named invalid payloads: one mutation of a valid payload each, derived from the request schema.

Each case has an id that reads like the catalog (`missing:/spaceId`,
`type:/config/proxy/port=boolean`, `enum:/config/fingerprint/browser=Chrome`,
`format:/spaceId=no-hyphens`, `discriminator:/config/proxy/mode=unknown-value`,
`mix:/config/proxy=saved-with-custom-fields`, `body:array`), the JSON pointer
it breaks and why. Kinds:
- missing: each required property, in each oneOf branch it is required in;
- type: each typed field given a value of a confusable wrong type
  (strategies/invalid.yaml), and null for each required non-nullable field;
- enum / discriminator: a case variant of the first value and an unknown
  value, plus values the response allows at the same pointer but the request
  does not (`type=desktop`);
- format: non-uuids in each `format: uuid` field;
- mix: a discriminated branch's required fields under a sibling's discriminator
  value, only where that truly breaks the schema;
- body: JSON that is not an object.

Every candidate is validated against the request schema (formats checked);
one the schema allows is not invalid and is left out, so nothing the schema
permits (an extra property, say) can end up here.
"""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import yaml

from contracts import Contract
from strategies.builder import Builder, fill_none
from strategies.covering import chain_plan
from strategies.domains import Domains
from strategies.schema import (Field, chain_id, fields, json_type, normalize_chain, parent, segments, split_branch,
                               types_of)

INGREDIENTS = Path(__file__).resolve().parent / "invalid.yaml"


@dataclass(frozen=True)
class InvalidCase:
    id: str
    pointer: str  # the instance JSON pointer the mutation breaks ("" = the whole body)
    reason: str
    payload: Any = field(repr=False)

    @property
    def label(self) -> str:
        return f"{self.id}: {self.reason}"


@lru_cache(maxsize=2)
def _ingredients(path: Path = INGREDIENTS) -> Mapping[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _instance_pointer(pointer: str) -> str:
    return "/".join("0" if part == "*" else part for part in pointer.split("/"))


def _set(payload: Any, pointer: str, value: Any) -> Any:
    """A copy of payload with the value at pointer replaced (or removed when value is _REMOVE)."""
    out = copy.deepcopy(payload)
    *path, last = segments(_instance_pointer(pointer))
    holder = out
    for part in path:
        holder = holder[int(part)] if isinstance(holder, list) else holder[part]
    if value is _REMOVE:
        del holder[last]
    elif isinstance(holder, list):
        holder[int(last)] = value
    else:
        holder[last] = value
    return out


_REMOVE: Any = object()


class _Catalog:
    def __init__(self, contract: Contract, builder: Builder, ingredients: Mapping[str, Any]) -> None:
        self.contract = contract
        self.builder = builder
        self.ingredients = ingredients
        self.validator = contract.request_validator()
        self.fields = fields(contract.request_schema)
        counts: dict[str, int] = {}
        for f in self.fields:
            counts[f.pointer] = counts.get(f.pointer, 0) + 1
        self.shared = {p for p, n in counts.items() if n > 1}  # same pointer in several branches
        self.cases: dict[str, InvalidCase] = {}

    def where(self, f: Field) -> str:
        """`@proxy=custom` when the pointer exists in more than one branch."""
        scope = normalize_chain(f.branches)
        return f"@{chain_id(scope)}" if f.pointer in self.shared and scope else ""

    def base(self, f: Field) -> Any:
        """The smallest valid payload holding f: required fields, f and its parents, in f's branches.

        Small on purpose: the one broken value is easy to spot, and no other
        optional field (credentials, say) muddies what the answer is about.
        """
        def on_path(pointer: str, node: Mapping[str, Any]) -> bool:
            return f.pointer == pointer or f.pointer.startswith(pointer + "/")

        plan = chain_plan(f.branches)
        name = self.builder.domains.role("name")
        if name and name != f.pointer and not name.startswith(f.pointer + "/"):
            plan[name] = self.builder.name_for("invalid")  # should a server accept it, the run's prefix finds it
        return self.builder.build(plan, fill=on_path, seed="invalid")

    def add(self, case_id: str, pointer: str, reason: str, payload: Any) -> None:
        if self.validator.is_valid(payload) or case_id in self.cases:
            return  # the schema allows it (or it is already here): not an invalid case
        self.cases[case_id] = InvalidCase(case_id, _instance_pointer(pointer), reason, payload)

    def build(self) -> tuple[InvalidCase, ...]:
        for f in self.fields:
            self.missing(f)
        for f in self.fields:
            self.wrong_types(f)
        self.enums()
        self.formats()
        self.mixes()
        self.bodies()
        return tuple(self.cases.values())

    def missing(self, f: Field) -> None:
        if not f.required:
            return
        branch = normalize_chain(f.branches)
        within = f" in the {chain_id(branch)} branch" if branch else ""
        holder = parent(f.pointer) or "the body"
        self.add(f"missing:{f.pointer}{self.where(f)}", f.pointer,
                 f"{f.name!r} is required in {holder}{within}", _set(self.base(f), f.pointer, _REMOVE))

    def wrong_types(self, f: Field) -> None:
        allowed = types_of(f.schema)
        if len(allowed) == 7:  # an untyped field: no type is wrong
            return
        base = self.base(f)
        probes = []
        for kind in sorted(allowed - {"null"}) or []:
            probes += self.ingredients["wrong_types"].get(kind, [])
        for probe in probes:
            kind = json_type(probe["value"])
            if kind in allowed or (kind == "integer" and "number" in allowed):
                continue
            self.add(f"type:{f.pointer}={kind}{self.where(f)}", f.pointer,
                     f"{probe['why']}; {f.pointer} must be {' or '.join(sorted(allowed))}",
                     _set(base, f.pointer, probe["value"]))
        if f.required and "null" not in allowed:
            self.add(f"type:{f.pointer}=null{self.where(f)}", f.pointer, self.ingredients["null_why"],
                     _set(base, f.pointer, None))

    def enums(self) -> None:
        response_values = {e.pointer: e.values for e in self.contract.enums_on("response")}
        unknown = self.ingredients["unknown_value"]
        for entry in self.contract.enums_on("request"):
            scope = normalize_chain(entry.branches)
            discriminator = (len(entry.values) == 1 and bool(scope)
                             and split_branch(scope[-1]) == (parent(entry.pointer), str(entry.values[0])))
            kind = "discriminator" if discriminator else "enum"
            where = f"@{chain_id(scope)}" if scope and any(
                e.pointer == entry.pointer and e is not entry for e in self.contract.enums_on("request")) else ""
            f = Field(entry.pointer, segments(entry.pointer)[-1], {}, False, entry.branches)
            base = self.base(f)
            documented = ", ".join(map(str, entry.values[:6])) + (", ..." if len(entry.values) > 6 else "")
            candidates = []
            first = entry.values[0]
            if isinstance(first, str):
                # The mistakes clients make: `Chrome` for `chrome`, `en-us` for `en-US`.
                variant = first.lower() if first != first.lower() else first.capitalize()
                if variant == first:
                    variant = first.swapcase()
                candidates.append((variant, f"enum values are case-sensitive: {variant!r} is not {first!r}"))
            candidates.append((unknown["value"], f"{unknown['why']} ({documented})"))
            for value in response_values.get(entry.pointer, ()):
                if value not in entry.values:
                    candidates.append((value, f"{value!r} is a response value here, not a request one ({documented})"))
            for value, why in candidates:
                self.add(f"{kind}:{entry.pointer}={value}{where}", entry.pointer, why, _set(base, entry.pointer, value))

    def formats(self) -> None:
        for f in self.fields:
            if f.schema.get("format") != "uuid":
                continue
            base = self.base(f)
            for probe in self.ingredients["non_uuids"]:
                self.add(f"format:{f.pointer}={probe['id']}{self.where(f)}", f.pointer,
                         f"{probe['why']}; {f.pointer} is format: uuid", _set(base, f.pointer, probe["value"]))

    def mixes(self) -> None:
        """For each discriminated oneOf: branch B's required fields under branch A's discriminator value."""
        for variant in self.contract.variants_on("request"):
            named = [label for label in variant.labels if label not in ("object", "null")]
            for a in named:
                for b in named:
                    if a == b:
                        continue
                    chain_b = (*variant.branches, f"{variant.pointer}={b}")
                    payload = self.builder.build(chain_plan(chain_b), fill=fill_none, seed="invalid")
                    discriminator = self._discriminator(variant.pointer, chain_b)
                    if discriminator is None:
                        continue
                    mixed = _set(payload, f"{variant.pointer}/{discriminator}", a)
                    self.add(f"mix:{variant.pointer}={a}-with-{b}-fields", variant.pointer,
                             f"{discriminator}={a!r} with only the {b} branch's required fields: "
                             f"the {a} branch's required fields are missing", mixed)

    def _discriminator(self, pointer: str, chain: tuple[str, ...]) -> str | None:
        for e in self.contract.enums_on("request"):
            if e.branches == chain and parent(e.pointer) == pointer and len(e.values) == 1:
                return segments(e.pointer)[-1]
        return None

    def bodies(self) -> None:
        name = self.builder.domains.role("name")
        payload = self.builder.build({name: self.builder.name_for("invalid")} if name else {}, seed="invalid")
        shapes = {"array-of-payload": [payload], "string-of-payload": json.dumps(payload), "null": None}
        for probe in self.ingredients["non_object_bodies"]:
            self.add(f"body:{probe['id']}", "", probe["why"], shapes[probe["shape"]])


def invalid_payloads(contract: Contract, *, space_id: str, name_prefix: str = "",
                     domains: Domains | None = None) -> tuple[InvalidCase, ...]:
    """The named invalid payloads for `contract` (see the module doc), each otherwise valid and in `space_id`.

    Deterministic; `name_prefix` starts every name, so an invalid payload a
    broken server accepts is still found and cleaned up with the run's runtimes.
    """
    builder = Builder(contract, space_id=space_id, name_prefix=name_prefix, domains=domains)
    return _Catalog(contract, builder, _ingredients()).build()

