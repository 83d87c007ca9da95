"""Named invalid payloads: one mutation of a valid payload each, derived from the request schema.

Each case has an id that reads like the catalog (`missing:/spaceId`,
`type:/config/proxy/port=boolean`, `enum:/config/fingerprint/browser=Chrome`,
`format:/spaceId=no-hyphens`, `discriminator:/config/proxy/mode=direct`,
`mix:/config/proxy=saved-with-custom-fields`, `body:array`), the JSON pointer
it breaks and why. Kinds:
- missing: each required property, in each oneOf branch it is required in;
- type: each typed field, optional ones included, given a value of a
  confusable wrong type (strategies/invalid.yaml `wrong_types`), then one value
  of every other JSON type it does not allow (`any_type`), and null wherever
  null is not allowed (an optional field is left out, not nulled);
- enum / discriminator: a case variant of the first value, an unknown value,
  the plausible neighbours of strategies/neighbours.yaml (`mode=direct`,
  `locale=en_US`), values the response allows at the same pointer but the
  request does not (`type=desktop`), and a bounded sample of the values other
  enums of the contract use (`stealth=http`);
- format: non-uuids in each `format: uuid` field;
- mix: a discriminated branch's required fields under a sibling's discriminator
  value, only where that truly breaks the schema;
- credentials: a branch holding credentials, with them, missing a required
  field: the error answer must not quote the credentials;
- body: JSON that is not an object.

Every candidate is validated against the request schema (formats checked);
one the schema allows is not invalid and is left out, so nothing the schema
permits (an extra property, say) can end up here.

`lax_json_bodies()` adds raw bodies that are not JSON at all by RFC 8259 but
that a lax parser reads (NaN, trailing commas, comments, single quotes, bytes
that are not UTF-8, ...), each with the section that forbids it; what RFC 8259
allows (a byte order mark, duplicate names, a lone surrogate escape) is left
out, with the reason, in strategies/invalid.yaml.
"""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from contracts import Contract, yamlfile
from contracts.credentials import is_credential_field
from contracts.credentials import CREDENTIAL_FIELDS
from strategies.builder import Builder, fill_none
from strategies.covering import chain_plan
from strategies.domains import Domains, load_domains
from strategies.schema import (Field, chain_id, fields, is_free_form, json_type, normalize_chain, parent, primary_type,
                               segments, split_branch, types_of)

INGREDIENTS = Path(__file__).resolve().parent / "invalid.yaml"
NEIGHBOURS = Path(__file__).resolve().parent / "neighbours.yaml"


@dataclass(frozen=True)
class InvalidCase:
    id: str
    pointer: str  # the instance JSON pointer the mutation breaks ("" = the whole body)
    reason: str
    payload: Any = field(repr=False)

    @property
    def label(self) -> str:
        return f"{self.id}: {self.reason}"


@dataclass(frozen=True)
class RawCase:
    """A body that is not JSON by RFC 8259 (but a lax parser reads it), sent as raw bytes."""

    id: str  # `lax-json:nan`
    pointer: str  # where the offending text sits (`/metadata/lax`; "" = the whole body)
    reason: str  # what it is and the RFC section that forbids it
    body: bytes = field(repr=False)
    content_type: str = "application/json"

    @property
    def label(self) -> str:
        return f"{self.id}: {self.reason}"


@lru_cache(maxsize=2)
def _ingredients(path: Path = INGREDIENTS) -> Mapping[str, Any]:
    return yamlfile.load(path.read_text(encoding="utf-8"))


@lru_cache(maxsize=2)
def load_neighbours(path: Path = NEIGHBOURS) -> Mapping[str, Mapping[str, str]]:
    """strategies/neighbours.yaml: pointer -> {plausible wrong value: why}."""
    return yamlfile.load(path.read_text(encoding="utf-8")) or {}


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
    def __init__(self, contract: Contract, builder: Builder, ingredients: Mapping[str, Any],
                 neighbours: Mapping[str, Mapping[str, str]]) -> None:
        self.contract = contract
        self.builder = builder
        self.ingredients = ingredients
        self.neighbours = neighbours
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

        Small on purpose, so the one broken value is easy to spot, with one
        exception: the credentials of an object on f's path (a custom proxy's
        username and password) are filled in. A payload refused for another
        field still carries them, and a server quoting the refused body in its
        error answer leaks them: the secrets check searches every answer.
        """
        def on_path(pointer: str, node: Mapping[str, Any]) -> bool:
            if f.pointer == pointer or f.pointer.startswith(pointer + "/"):
                return True
            holder, field_name = parent(pointer), segments(pointer)[-1]
            return is_credential_field(field_name) and (f.pointer == holder or f.pointer.startswith(holder + "/"))

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
        self.credentials()
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
        probes += self.ingredients["any_type"]  # then every other type, once each (the first probe of a type wins)
        for probe in probes:
            kind = json_type(probe["value"])
            if kind in allowed or (kind == "integer" and "number" in allowed):
                continue
            self.add(f"type:{f.pointer}={kind}{self.where(f)}", f.pointer,
                     f"{probe['why']}; {f.pointer} must be {' or '.join(sorted(allowed))}",
                     _set(base, f.pointer, probe["value"]))
        if "null" not in allowed:
            why = self.ingredients["null_why" if f.required else "null_why_optional"]
            self.add(f"type:{f.pointer}=null{self.where(f)}", f.pointer, why, _set(base, f.pointer, None))

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
            for value, why in (self.neighbours.get(entry.pointer) or {}).items():
                candidates.append((value, f"{value!r}: {why}; not one of the documented values ({documented})"))
            candidates += self._cross_enum(entry, documented, {value for value, _ in candidates})
            for value, why in candidates:
                if value in entry.values:
                    continue  # the contract allows it (now): not invalid
                self.add(f"{kind}:{entry.pointer}={value}{where}", entry.pointer, why, _set(base, entry.pointer, value))

    def _cross_enum(self, entry: Any, documented: str, already: set[Any]) -> list[tuple[Any, str]]:
        """Up to `cross_enum_max` values other enums use: the first new value of each, in document order."""
        out: list[tuple[Any, str]] = []
        taken = set(entry.values) | already
        for other in self.contract.enums_on("request"):
            if len(out) >= int(self.ingredients.get("cross_enum_max", 4)):
                break
            if other.pointer == entry.pointer:
                continue
            value = next((v for v in other.values if v not in taken), None)
            if value is not None:
                taken.add(value)
                out.append((value, f"{value!r} is a value of {other.pointer}, not of {entry.pointer} ({documented})"))
        return out

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

    def credentials(self) -> None:
        """Per branch holding credentials: them present, a required sibling missing (the error must not quote them)."""
        groups: dict[tuple[str, ...], list[Field]] = {}
        for f in self.fields:
            if f.name in CREDENTIAL_FIELDS and primary_type(f.schema) == "string":
                groups.setdefault(f.branches, []).append(f)
        for branches, creds in groups.items():
            holder = parent(creds[0].pointer)
            siblings = [g for g in self.fields if g.branches == branches and g.required and parent(g.pointer) == holder
                        and not (isinstance(g.schema.get("enum"), list) and len(g.schema["enum"]) == 1)]
            if not siblings:
                continue
            target = siblings[0]
            wanted = {c.pointer for c in creds}
            plan = chain_plan(branches)
            name = self.builder.domains.role("name")
            if name:
                plan[name] = self.builder.name_for("invalid")
            payload = self.builder.build(
                plan, seed=f"invalid|credentials|{target.pointer}",
                fill=lambda p, n: any(w == p or w.startswith(p + "/") for w in wanted))
            names = " and ".join(repr(c.name) for c in creds)
            scope = normalize_chain(branches)
            within = f" in the {chain_id(scope)} branch" if scope else ""
            self.add(f"credentials:{target.pointer}=missing{self.where(target)}", target.pointer,
                     f"{target.name!r} is required{within}; the request carries {names}, "
                     "which the error answer must not quote", _set(payload, target.pointer, _REMOVE))

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
    return _Catalog(contract, builder, _ingredients(), load_neighbours()).build()


_MARK = "@@lax-json@@"


def lax_json_bodies(contract: Contract, *, space_id: str, name_prefix: str = "",
                    domains: Domains | None = None) -> tuple[RawCase, ...]:
    """Raw bodies RFC 8259 forbids but a lax parser reads, each built from a valid payload.

    Generates one `RawCase` per entry of strategies/invalid.yaml `lax_json`:
    the valid payload's free-form object (metadata; an undeclared top-level
    member when the contract has none) holds `"lax": <placeholder>`, and the
    placeholder, that member or the whole text is replaced by the offending
    text, so a lax parser would read a valid payload and only a strict one
    refuses it. Names start with `name_prefix` + the case id (a server that
    accepts one is cleaned up with the run). Deterministic.
    """
    domains = domains or load_domains()
    builder = Builder(contract, space_id=space_id, name_prefix=name_prefix, domains=domains)
    holder = next((f.pointer for f in fields(contract.request_schema)
                   if not f.branches and "oneOf" not in f.schema and is_free_form(f.schema)), None)
    name = domains.role("name")
    out = []
    for entry in _ingredients()["lax_json"]:
        case_id = f"lax-json:{entry['id']}"
        plan: dict[str, Any] = {name: builder.name_for(case_id)} if name else {}
        if holder is not None:
            plan[holder] = {"lax": _MARK}
        payload = builder.build(plan, seed=case_id)
        if holder is None:
            payload["lax"] = _MARK
        text = json.dumps(payload, ensure_ascii=False)
        member, value = f'"lax": "{_MARK}"', f'"{_MARK}"'
        new = str(entry["text"])
        if entry["replace"] == "body":
            text = new.replace("{body}", text)
        else:
            text = text.replace(member if entry["replace"] == "member" else value, new)
        body = text.encode(entry.get("encoding", "utf-8"))
        if "bytes_hex" in entry:
            body = body.replace(b"{bytes}", bytes.fromhex(str(entry["bytes_hex"])))
        where = f"{holder or ''}/lax" if entry["replace"] != "body" else ""
        out.append(RawCase(case_id, where, str(entry["rfc"]), body))
    return tuple(out)

