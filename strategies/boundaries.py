"""The boundary catalogue: schema-valid values at the edges of every field, each on a minimal body.

For every declared field of the request schema, in every oneOf branch it
lives in, one case per edge value, the rest of the payload as small as it can
be (required fields, the field and the objects holding it, its branch):

- `integer`: the plausible domain's bounds (strategies/domains.yaml, the type's
  default when the field has none) and bounds +- 1, 0, -1, and the machine
  edges 2^31-1, 2^31, 2^53, 2^63 and their negatives (`edges.machine_integers`),
  deduplicated: `boundary:/config/proxy/port=65536`;
- `length`: strings of 0, 1, the domain's maximum, maximum + 1 characters, and
  the far lengths (`edges.far_lengths`) while the body stays within
  `payload.max_bytes`: `boundary:/name=len:256`;
- `class`: text classes (`edges.text_classes`: outside the BMP, combining marks,
  bidi controls, NUL and other controls, surrounding whitespace, NFC and NFD
  forms of one text, compatibility characters): `boundary:/name=class:bidi`;
- `items`: arrays of 0, 1, the domain's max_items and one more distinct items,
  and one item twice: `boundary:/config/extensions=items:21`, `=duplicates`;
- free-form objects: nesting `depth` at the domain's max_depth, one beyond and
  far beyond; one member of every JSON `kind` (the falsy ones included);
  unicode member names (`keys`); large `number`s (2^53, 2^63, 1e308, -0.0); the
  serialized size at `bytes` max_bytes and one beyond;
- `uuid`: the upper-case form of every `format: uuid` field (braces and urn
  forms are not uuids to JSON Schema's format: they are invalid, not edges);
- `boolean`: both values (`false` is the one the other generators rarely send).

Enums, consts and oneOfs have no edges of their own (the covering set and the
invalid catalogue have them). The run's own values keep their role: the space
id and the saved proxy id only get their upper-case form; the name keeps the
run's prefix at its start wherever the length allows (a case's `note` says
where it cannot: such a runtime is not found by the prefix cleanup);
credentials keep their recognisable prefix and token, so the secrets check can
search for them (a note says where the length leaves no room).

Each case carries its `classify()` verdict: ordinary (intent "valid": a
correct server must accept it) or extreme (intent "extreme": a clean 4xx is a
warning). Every payload validates against `contract.request_validator()`; a
candidate the schema forbids is left out. Deterministic.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any, Collection, Literal

from contracts import Contract
from contracts.credentials import CREDENTIAL_FIELDS, SEARCH_MIN_LENGTH
from strategies.builder import Builder, secret
from strategies.covering import chain_plan
from strategies.domains import Classification, Domains, Rule, classify, load_domains
from strategies.schema import (MISSING, Field, chain_id, fields, is_free_form, normalize_chain, primary_type, resolve,
                               segments)

TECHNIQUES = ("integer", "length", "class", "items", "depth", "kind", "keys", "number", "bytes", "uuid", "boolean")


@dataclass(frozen=True)
class BoundaryCase:
    id: str  # `boundary:/config/proxy/port=65536`, `boundary:/name=len:256`, `boundary:/name=class:bidi`
    pointer: str  # the instance pointer of the edge value (`/config/extensions/0` for an item)
    technique: str  # one of TECHNIQUES
    payload: Any = field(repr=False)
    classification: Classification = field(default=Classification("ordinary", ()))
    note: str = ""  # what could not be kept (the name prefix, a credential's recognisable form)

    @property
    def intent(self) -> Literal["valid", "extreme"]:
        return self.classification.intent

    @property
    def label(self) -> str:
        text = self.classification.label(self.id)
        return f"{text} ({self.note})" if self.note else text


def _instance(pointer: str) -> str:
    return "/".join("0" if part == "*" else part for part in pointer.split("/"))


def _cycle(base: str, n: int) -> str:
    return (base * (n // max(len(base), 1) + 1))[:n]


def _fill(example: Any, n: int, pattern: str | None) -> str:
    """n characters of ordinary-looking text: the field's example repeated, kept inside its pattern if one can be."""
    seed = example if isinstance(example, str) and example else "x"
    for base in (seed + ".", seed, "x"):
        text = _cycle(base, n)
        if text and text[-1] in ".-":
            text = text[:-1] + "x"
        if not pattern or re.fullmatch(pattern, text):
            return text
    return "x" * n


def _distinct(example: str, n: int) -> list[str]:
    """n different strings shaped like `example`: its tail replaced by a counter in its own alphabet."""
    alphabet = sorted(set(example)) or ["x"]
    width = 1
    while len(alphabet) ** width < n:
        width += 1
    out = []
    for i in range(n):
        digits, value = [], i
        for _ in range(width):
            digits.append(alphabet[value % len(alphabet)])
            value //= len(alphabet)
        tail = "".join(reversed(digits))
        out.append(example[: max(len(example) - width, 0)] + tail if len(example) >= width else example + tail)
    return out


def _on_path(pointer: str) -> Any:
    """A Builder fill including the optional properties on the way to `pointer`, and nothing else."""
    return lambda p, node: pointer == p or pointer.startswith(p + "/")


def _nested(depth: int) -> dict[str, Any]:
    """An object nesting `depth` levels (an object or array is one level): {"level": {"level": 1}} is 2."""
    value: Any = 1
    for _ in range(depth):
        value = {"level": value}
    return value


class _Catalogue:
    def __init__(self, contract: Contract, builder: Builder, domains: Domains, techniques: Collection[str]) -> None:
        self.contract = contract
        self.builder = builder
        self.domains = domains
        self.techniques = set(techniques)
        self.validator = contract.request_validator()
        self.fields = fields(contract.request_schema)
        counts: dict[str, int] = {}
        for f in self.fields:
            counts[f.pointer] = counts.get(f.pointer, 0) + 1
        self.shared = {p for p, n in counts.items() if n > 1}
        self.name_pointer = domains.role("name")
        self.cases: dict[str, BoundaryCase] = {}

    # --- payloads ---------------------------------------------------------------------------------

    def where(self, f: Field) -> str:
        scope = normalize_chain(f.branches)
        return f"@{chain_id(scope)}" if f.pointer in self.shared and scope else ""

    def add(self, f: Field, technique: str, label: str, value: Any, *, note: str = "", at: str | None = None) -> None:
        """One case: `value` at f's pointer (or `at`) on the smallest payload holding it."""
        if technique not in self.techniques:
            return
        case_id = f"boundary:{f.pointer}={label}{self.where(f)}"
        target = at or f.pointer
        plan = chain_plan(f.branches)
        if self.name_pointer and self.name_pointer != target:
            plan[self.name_pointer] = self.builder.name_for(case_id)
        plan[target] = value
        payload = self.builder.build(plan, seed=case_id)
        if case_id in self.cases or not self.validator.is_valid(payload):
            return  # already there, or the schema forbids it: not a boundary case
        verdict = classify(payload, self.contract, self.domains)
        self.cases[case_id] = BoundaryCase(case_id, _instance(target), technique, payload, verdict, note)

    def fits(self, f: Field, text: str) -> bool:
        """Does a body holding `text` at f stay within the payload limit (far lengths only go that far)?"""
        limit = self.domains.payload_max_bytes
        return limit is None or len(json.dumps(text).encode()) + 1024 <= limit

    # --- techniques -------------------------------------------------------------------------------

    def build(self) -> tuple[BoundaryCase, ...]:
        for f in self.fields:
            node = f.schema
            if any(k in node for k in ("enum", "const", "oneOf")):
                continue
            kind = primary_type(node)
            if kind == "integer":
                self.integers(f)
            elif kind == "boolean":
                for value in (True, False):
                    self.add(f, "boolean", json.dumps(value), value)
            elif kind == "string" and node.get("format") == "uuid":
                self.uuid(f)
            elif kind == "string":
                self.strings(f)
            elif kind == "array":
                self.arrays(f)
            elif kind == "object" and is_free_form(node):
                self.free_form(f)
        return tuple(self.cases.values())

    def integers(self, f: Field) -> None:
        rule = self.domains.rule(f.pointer, "integer")
        default = Rule().merged(dict(self.domains.defaults.get("integer") or {}))
        low = next(v for v in (rule.minimum, default.minimum, 0) if v is not None)
        high = next(v for v in (rule.maximum, default.maximum, 2**31 - 1) if v is not None)
        machine = [int(v) for v in self.domains.edges.get("machine_integers", ())]
        values = [low - 1, low, low + 1, high - 1, high, high + 1, 0, -1, *machine, *(-v for v in machine)]
        for value in dict.fromkeys(values):
            self.add(f, "integer", str(value), value)

    def uuid(self, f: Field) -> None:
        role = next((r for r in ("space_id", "saved_proxy_id") if self.domains.role(r) == f.pointer), None)
        plan = chain_plan(f.branches)
        own = resolve(self.builder.build(plan, fill=_on_path(f.pointer), seed="boundary"), f.pointer)
        if isinstance(own, str):
            note = f"the run's own {role.replace('_', ' ')}, upper-cased" if role else ""
            self.add(f, "uuid", "upper-case", own.upper(), note=note)

    def _text(self, f: Field, core: str | None = None) -> tuple[str, str]:
        """The field's ordinary text and its kind: `name` (run prefix), `credential`, or `plain`."""
        field_name = (segments(f.pointer) or [""])[-1]
        if f.pointer == self.name_pointer:
            return "name", self.builder.name_prefix
        if field_name in CREDENTIAL_FIELDS:
            return "credential", secret(self.domains.secret_prefix(field_name), f"boundary|{f.pointer}")
        rule = self.domains.rule(f.pointer, "string")
        return "plain", str(rule.example) if rule.example is not MISSING else "x"

    def strings(self, f: Field) -> None:
        if f.pointer in {self.domains.role("space_id"), self.domains.role("saved_proxy_id")}:
            return  # the run's own values (uuids: see `uuid`)
        rule = self.domains.rule(f.pointer, "string")
        role, core = self._text(f)
        longest = rule.max_length if rule.max_length is not None else 255
        far = [int(n) for n in self.domains.edges.get("far_lengths", ())]
        # A field whose plausible values are a closed list (a country code, a city) has no ordinary text
        # beyond them: every length or character class is extreme there, so only its length edges are
        # sent (empty, one past the longest, the farthest). A pattern field keeps its lengths (they can be
        # filled inside the pattern) but not the character classes, which no pattern of a name or host allows.
        closed, shaped = rule.values is not None, rule.pattern is not None
        lengths = [0, longest + 1, *far[-1:]] if closed else [0, 1, longest, longest + 1, *far]
        for n in dict.fromkeys(lengths):
            text, note = self._of_length(f, role, core, rule, n)
            if self.fits(f, text):
                self.add(f, "length", f"len:{n}", text, note=note)
        if closed or shaped:
            return
        for entry in self.domains.edges.get("text_classes", ()):
            base = core + "class-" + entry["id"] if role == "name" else core
            text = str(entry["template"]).replace("{core}", base)
            note = ""
            if role == "name" and self.builder.name_prefix and not text.startswith(self.builder.name_prefix):
                note = "the name does not start with the run's prefix (leading characters): cleanup by prefix misses it"
            self.add(f, "class", f"class:{entry['id']}", text, note=note)

    def _of_length(self, f: Field, role: str, core: str, rule: Rule, n: int) -> tuple[str, str]:
        if role == "name":
            prefix = self.builder.name_prefix
            if n < len(prefix):
                return prefix[:n], ("shorter than the run's name prefix, so it cannot start with it: "
                                    "cleanup by prefix misses it")
            return prefix + _fill(f"boundary-len{n}-", n - len(prefix), None), ""
        if role == "credential":
            text = core + _cycle(hashlib.sha256(core.encode()).hexdigest(), max(n - len(core), 0))
            if n < len(core):
                prefix = self.domains.secret_prefix((segments(f.pointer) or [""])[-1])
                readable = n >= len(prefix) + SEARCH_MIN_LENGTH
                return core[:n], "" if readable else (
                    f"too short to carry the recognisable credential prefix and a {SEARCH_MIN_LENGTH}-character "
                    "token: the secrets check does not search for it")
            return text[:n], ""
        return _fill(core, n, rule.pattern), ""

    def arrays(self, f: Field) -> None:
        rule = self.domains.rule(f.pointer, "array")
        most = rule.max_items if rule.max_items is not None else 20
        item_pointer = f"{f.pointer}/*"
        sample = resolve(self.builder.build(chain_plan(f.branches), fill=_on_path(f.pointer), seed="boundary"),
                         item_pointer)
        for n in dict.fromkeys([0, 1, most, most + 1]):
            items = _distinct(sample, n) if isinstance(sample, str) else [sample] * n
            if n == 1:
                items = [sample]
            self.add(f, "items", f"items:{n}", items)
        if sample is not MISSING:
            self.add(f, "items", "duplicates", [sample, sample])

    def free_form(self, f: Field) -> None:
        rule = self.domains.rule(f.pointer, "object")
        edges = self.domains.edges
        deepest = rule.max_depth if rule.max_depth is not None else 5
        for depth in dict.fromkeys([deepest, deepest + 1, *(int(d) for d in edges.get("far_depths", ()))]):
            self.add(f, "depth", f"depth:{depth}", _nested(depth))
        for kind in edges.get("json_kinds", ()):
            self.add(f, "kind", f"kind:{kind['id']}", {"value": kind["value"]})
        keys = list(edges.get("unicode_keys", ()))
        if keys:
            self.add(f, "keys", "keys:unicode", {key: index for index, key in enumerate(keys)})
        for number in edges.get("json_numbers", ()):
            self.add(f, "number", f"number:{json.dumps(number)}", {"value": number})
        if rule.max_bytes is not None:
            for size in (rule.max_bytes, rule.max_bytes + 1):
                overhead = len(json.dumps({"blob": ""}).encode())
                self.add(f, "bytes", f"bytes:{size}", {"blob": "x" * (size - overhead)})


def boundary_cases(contract: Contract, *, space_id: str, name_prefix: str = "", saved_proxy_id: str | None = None,
                   domains: Domains | None = None,
                   techniques: Collection[str] = TECHNIQUES) -> tuple[BoundaryCase, ...]:
    """The boundary catalogue for `contract` (see the module doc), every payload in `space_id`.

    Generates schema-valid payloads, one edge value each, with its
    classification (ordinary or extreme, by strategies/domains.yaml) and a
    readable, stable id; `techniques` picks a subset of TECHNIQUES. Names
    start with `name_prefix` (but for the name's own cases, where a note says
    when they cannot); `saved_proxy_id` stands in the saved proxy branch.
    Deterministic: the same contract and domains give the same cases, in order.
    """
    unknown = set(techniques) - set(TECHNIQUES)
    if unknown:
        raise ValueError(f"unknown boundary technique(s) {sorted(unknown)}; known: {list(TECHNIQUES)}")
    domains = domains or load_domains()
    builder = Builder(contract, space_id=space_id, name_prefix=name_prefix, saved_proxy_id=saved_proxy_id,
                      domains=domains)
    return _Catalogue(contract, builder, domains, techniques).build()
