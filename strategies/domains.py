"""Plausible domains (strategies/domains.yaml) and the ordinary/extreme classification of a payload.

`classify(payload, contract)` walks a schema-valid payload alongside the
request schema and names every value outside the plausible domains. No reason:
`ordinary` (a correct server must accept it: send with intent "valid"); some
reason: `extreme` (schema-valid but implausible: intent "extreme", where a
clean 4xx is a warning).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, fields as dataclass_fields
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, Mapping

from jsonschema import Draft202012Validator

from contracts import Contract, yamlfile
from strategies.schema import MISSING, escape, is_free_form, json_type, types_of

DEFAULT_DOMAINS = Path(__file__).resolve().parent / "domains.yaml"
Kind = Literal["ordinary", "extreme"]


@dataclass(frozen=True)
class Rule:
    """What is plausible for one value; None: no opinion."""

    min_length: int | None = None
    max_length: int | None = None
    printable: bool | None = None
    pattern: str | None = None  # matched in full
    values: tuple[Any, ...] | None = None  # the plausible values, when they are few
    minimum: int | None = None
    maximum: int | None = None
    max_items: int | None = None
    unique: bool | None = None
    max_depth: int | None = None
    max_bytes: int | None = None
    max_integer: int | None = None
    example: Any = MISSING

    def merged(self, override: Mapping[str, Any]) -> "Rule":
        known = {f.name for f in dataclass_fields(self)}
        unknown = set(override) - known
        if unknown:
            raise ValueError(f"unknown domain rule key(s) {sorted(unknown)}; known: {sorted(known)}")
        merged = {**{f.name: getattr(self, f.name) for f in dataclass_fields(self)}, **override}
        if merged["values"] is not None:
            merged["values"] = tuple(merged["values"])
        return Rule(**merged)


@dataclass(frozen=True)
class Domains:
    """The table in strategies/domains.yaml, read once."""

    defaults: Mapping[str, Any]
    fields: Mapping[str, Mapping[str, Any]]
    roles: Mapping[str, str]
    secret_prefixes: Mapping[str, str]
    edges: Mapping[str, Any]
    source: str
    _rules: dict[tuple[str, str], Rule] = field(default_factory=dict, init=False, repr=False, compare=False)

    def rule(self, pointer: str, kind: str) -> Rule:
        """Defaults for the JSON type, overridden by the field's own entry."""
        key = (pointer, kind)
        if key not in self._rules:  # the table is read once: a classification asks for the same rules again
            base = Rule().merged({k: v for k, v in (self.defaults.get(kind) or {}).items()})
            self._rules[key] = base.merged(self.fields.get(pointer, {}))
        return self._rules[key]

    def example(self, pointer: str, kind: str) -> Any:
        return self.rule(pointer, kind).example

    def role(self, name: str) -> str | None:
        return self.roles.get(name)

    def secret_prefix(self, field: str) -> str:
        return self.secret_prefixes.get(field, self.secret_prefixes.get("default", "secret-"))

    @property
    def uuid_lower_case(self) -> bool:
        return bool((self.defaults.get("uuid") or {}).get("lower_case", False))

    @property
    def payload_max_bytes(self) -> int | None:
        return (self.defaults.get("payload") or {}).get("max_bytes")

    @property
    def unknown_properties_extreme(self) -> bool:
        return self.defaults.get("unknown_properties", "extreme") == "extreme"

    @property
    def integer_edges(self) -> tuple[int, ...]:
        return tuple(int(v) for v in self.edges.get("integers", ()))

    @property
    def string_edges(self) -> tuple[str, ...]:
        return tuple(str(v) for v in self.edges.get("strings", ()))

    @property
    def long_string_max(self) -> int:
        return int(self.edges.get("long_string_max", 4096))


@lru_cache(maxsize=8)
def load_domains(path: str | Path = DEFAULT_DOMAINS) -> Domains:
    document = yamlfile.load(Path(path).read_text(encoding="utf-8"))
    domains = Domains(defaults=document.get("defaults") or {}, fields=document.get("fields") or {},
                      roles=document.get("roles") or {}, secret_prefixes=document.get("secret_prefixes") or {},
                      edges=document.get("edges") or {}, source=str(path))
    for pointer in domains.fields:  # fail early on a typo in a rule key
        for kind in ("string", "integer", "array", "object"):
            domains.rule(pointer, kind)
    return domains


@dataclass(frozen=True)
class Classification:
    kind: Kind
    reasons: tuple[str, ...]

    @property
    def intent(self) -> Literal["valid", "extreme"]:
        return "valid" if self.kind == "ordinary" else "extreme"

    def label(self, name: str = "") -> str:
        """`name [ordinary]` or `name [extreme: /config/proxy/port 70000 > 65535; ...]`."""
        head = f"{name} " if name else ""
        if not self.reasons:
            return f"{head}[ordinary]"
        more = f"; +{len(self.reasons) - 3} more" if len(self.reasons) > 3 else ""
        return f"{head}[extreme: {'; '.join(self.reasons[:3])}{more}]"


_VALIDATORS: dict[int, tuple[Mapping[str, Any], Draft202012Validator]] = {}


def _branch_validator(branch: Mapping[str, Any]) -> Draft202012Validator:
    """One validator per `oneOf` branch of a contract, kept for the process (a plan classifies hundreds of payloads).

    Keyed by identity; the entry holds the branch itself, so its id is not reused while the entry lives.
    """
    entry = _VALIDATORS.get(id(branch))
    if entry is None or entry[0] is not branch:
        entry = _VALIDATORS[id(branch)] = (branch, Draft202012Validator(
            branch, format_checker=Draft202012Validator.FORMAT_CHECKER))
    return entry[1]


class _Classifier:
    def __init__(self, contract: Contract, domains: Domains) -> None:
        self.schema = contract.request_schema
        self.domains = domains
        self.reasons: list[str] = []

    def branch(self, node: Mapping[str, Any], value: Any) -> Mapping[str, Any] | None:
        for candidate in node["oneOf"]:
            if _branch_validator(candidate).is_valid(value):
                return candidate
        return None

    def walk(self, value: Any, node: Mapping[str, Any], pointer: str) -> None:
        if "oneOf" in node:
            chosen = self.branch(node, value)
            if chosen is not None:
                self.walk(value, chosen, pointer)
            return
        kind = json_type(value)
        if kind == "string":
            self.string(value, node, pointer)
        elif kind in ("integer", "number") and "integer" in types_of(node) and "number" not in types_of(node):
            self.integer(value, pointer)
        elif kind == "array":
            self.array(value, node, pointer)
        elif kind == "object":
            self.object(value, node, pointer)

    def string(self, value: str, node: Mapping[str, Any], pointer: str) -> None:
        rule = self.domains.rule(pointer, "string")
        where = pointer or "(body)"
        if rule.printable and not value.isprintable():
            self.reasons.append(f"{where} has non-printable characters")
        if rule.min_length is not None and len(value) < rule.min_length:
            self.reasons.append(f"{where} is {len(value)} characters < {rule.min_length}")
        if rule.max_length is not None and len(value) > rule.max_length:
            self.reasons.append(f"{where} is {len(value)} characters > {rule.max_length}")
        if rule.pattern and not re.fullmatch(rule.pattern, value):
            self.reasons.append(f"{where} does not look like {rule.pattern}")
        if rule.values is not None and value not in rule.values:
            self.reasons.append(f"{where} is none of the {len(rule.values)} plausible values")
        if node.get("format") == "uuid" and self.domains.uuid_lower_case and value != value.lower():
            self.reasons.append(f"{where} is an upper-case uuid")

    def integer(self, value: int | float, pointer: str) -> None:
        rule = self.domains.rule(pointer, "integer")
        if isinstance(value, float):
            self.reasons.append(f"{pointer} is an integer written as {value!r}")
        if rule.minimum is not None and value < rule.minimum:
            self.reasons.append(f"{pointer} {value} < {rule.minimum}")
        if rule.maximum is not None and value > rule.maximum:
            self.reasons.append(f"{pointer} {value} > {rule.maximum}")

    def array(self, value: list[Any], node: Mapping[str, Any], pointer: str) -> None:
        rule = self.domains.rule(pointer, "array")
        if rule.max_items is not None and len(value) > rule.max_items:
            self.reasons.append(f"{pointer} has {len(value)} items > {rule.max_items}")
        if rule.unique and len({json.dumps(v, sort_keys=True) for v in value}) < len(value):
            self.reasons.append(f"{pointer} repeats an item")
        items = node.get("items") if isinstance(node.get("items"), Mapping) else {}
        for item in value:
            self.walk(item, items, f"{pointer}/*")

    def object(self, value: dict[str, Any], node: Mapping[str, Any], pointer: str) -> None:
        if is_free_form(node):
            self.free_form(value, pointer)
            return
        properties = node.get("properties") or {}
        for key, member in value.items():
            if key in properties:
                self.walk(member, properties[key], f"{pointer}/{escape(key)}")
            elif self.domains.unknown_properties_extreme:
                self.reasons.append(f"{pointer}/{escape(key)} is not a documented property")

    def free_form(self, value: Any, pointer: str) -> None:
        rule = self.domains.rule(pointer, "object")
        depth, strings, integers = _shape(value)
        if rule.max_depth is not None and depth > rule.max_depth:
            self.reasons.append(f"{pointer} nests {depth} levels > {rule.max_depth}")
        size = len(json.dumps(value).encode())
        if rule.max_bytes is not None and size > rule.max_bytes:
            self.reasons.append(f"{pointer} is {size} bytes > {rule.max_bytes}")
        if rule.printable is not False and not all(s.isprintable() for s in strings):
            self.reasons.append(f"{pointer} holds non-printable text")
        if rule.max_integer is not None and any(abs(i) > rule.max_integer for i in integers):
            self.reasons.append(f"{pointer} holds an integer beyond {rule.max_integer}")


def _shape(value: Any, depth: int = 0) -> tuple[int, list[str], list[int]]:
    """Nesting depth (an object or array is one level), every string (keys too), every integer."""
    if isinstance(value, dict):
        parts = [_shape(v, depth + 1) for v in value.values()]
        strings = list(value.keys())
    elif isinstance(value, list):
        parts, strings = [_shape(v, depth + 1) for v in value], []
    else:
        if isinstance(value, str):
            return depth, [value], []
        if isinstance(value, int) and not isinstance(value, bool):
            return depth, [], [value]
        return depth, [], []
    deepest = max([depth + 1] + [p[0] for p in parts])
    return deepest, strings + [s for p in parts for s in p[1]], [i for p in parts for i in p[2]]


def classify(payload: Any, contract: Contract, domains: Domains | None = None) -> Classification:
    """Ordinary or extreme, with a reason per implausible value (see strategies/domains.yaml)."""
    domains = domains or load_domains()
    classifier = _Classifier(contract, domains)
    classifier.walk(payload, contract.request_schema, "")
    size = len(json.dumps(payload).encode())
    if domains.payload_max_bytes is not None and size > domains.payload_max_bytes:
        classifier.reasons.append(f"the body is {size} bytes > {domains.payload_max_bytes}")
    reasons = tuple(classifier.reasons)
    return Classification("extreme" if reasons else "ordinary", reasons)
