"""Deterministic payloads from a plan: which branch, which values, which optional fields.

A plan maps instance pointers to what must be there: a literal value, a
`Branch("saved")` (take that oneOf branch, through wrappers), or `ABSENT`
(leave the property out). Everything else comes from the schema: required
properties always, optional ones when `fill` says so or the plan needs them,
the first enum value, the first branch, and ordinary example values from the
plausible-domains table. A plan entry the schema cannot honour is an error,
never silently dropped.
"""
from __future__ import annotations

import copy
import hashlib
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from contracts import Contract
from contracts.credentials import CREDENTIAL_FIELDS
from strategies.domains import Domains, load_domains
from strategies.schema import MISSING, escape, is_free_form, pick_branch, primary_type, resolve, segments

EXAMPLE_NAMESPACE = uuid.UUID("6f2c1d4e-0000-4000-8000-000000000000")


class _Absent:
    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()


@dataclass(frozen=True)
class Branch:
    label: str


Plan = Mapping[str, Any]
Fill = Callable[[str, Mapping[str, Any]], bool]  # (pointer, schema node) -> include this optional property?


def fill_none(pointer: str, node: Mapping[str, Any]) -> bool:
    return False


def fill_all(under: str = "") -> Fill:
    """Every optional property at or below `under` ("" = the whole body)."""
    return lambda pointer, node: pointer == under or pointer.startswith(under + "/")


def fill_empty_objects(under: str = "") -> Fill:
    """Optional plain objects below `under`, but none of their optional leaves: `{"browser": {}}`.

    Free-form objects (metadata) are empty too, instead of their example.
    """
    def fill(pointer: str, node: Mapping[str, Any]) -> bool:
        return pointer.startswith(under + "/") and "oneOf" not in node and primary_type(node) == "object"

    fill.empty_objects = True  # type: ignore[attr-defined]
    return fill


def secret(prefix: str, seed: str) -> str:
    """A recognisable, unique credential: `pw-` + 16 hex characters derived from the seed."""
    return prefix + hashlib.sha256(seed.encode()).hexdigest()[:16]


class Builder:
    """Builds payloads for one contract, space and name prefix (see the module doc)."""

    def __init__(self, contract: Contract, *, space_id: str, name_prefix: str = "",
                 saved_proxy_id: str | None = None, domains: Domains | None = None) -> None:
        self.schema = contract.request_schema
        self.domains = domains or load_domains()
        self.space_id = space_id
        self.name_prefix = name_prefix
        self.saved_proxy_id = saved_proxy_id

    def build(self, plan: Plan, *, fill: Fill = fill_none, seed: str = "") -> Any:
        """One payload honouring `plan`; `seed` (the case id) makes credentials unique per case."""
        value = self._value(self.schema, "", plan, fill, seed)
        for pointer, wanted in plan.items():
            if wanted is ABSENT:
                if resolve(value, pointer) is not MISSING:
                    raise ValueError(f"plan says {pointer} absent, but the schema requires it")
            elif not isinstance(wanted, Branch) and resolve(value, pointer) != wanted:
                raise ValueError(f"plan value for {pointer} did not land in the payload (no such field?)")
        return value

    def name_for(self, case_id: str) -> str:
        return f"{self.name_prefix}{case_id}"

    def _value(self, node: Mapping[str, Any], pointer: str, plan: Plan, fill: Fill, seed: str) -> Any:
        wanted = plan.get(pointer, MISSING)
        if wanted is not MISSING and wanted is not ABSENT and not isinstance(wanted, Branch):
            return copy.deepcopy(wanted)
        if "oneOf" in node:
            branch = pick_branch(node, wanted.label if isinstance(wanted, Branch) else None)
            return self._value(branch, pointer, plan, fill, seed)
        if "const" in node:
            return copy.deepcopy(node["const"])
        if "enum" in node:
            return copy.deepcopy(node["enum"][0])
        kind = primary_type(node)
        if kind == "object":
            return self._object(node, pointer, plan, fill, seed)
        if kind == "array":
            items = node.get("items") if isinstance(node.get("items"), Mapping) else {}
            return [self._value(items, f"{pointer}/*", plan, fill, seed)]
        if kind == "string":
            return self._string(node, pointer, seed)
        if kind == "integer":
            example = self.domains.example(pointer, "integer")
            return 1 if example is MISSING else example
        if kind == "number":
            return 1.5
        if kind == "boolean":
            return True
        return None

    def _object(self, node: Mapping[str, Any], pointer: str, plan: Plan, fill: Fill, seed: str) -> dict[str, Any]:
        if is_free_form(node):
            example = {} if getattr(fill, "empty_objects", False) else self.domains.example(pointer, "object")
            return {} if example is MISSING else copy.deepcopy(example)
        required = set(node.get("required") or ())
        out: dict[str, Any] = {}
        for name, child in (node.get("properties") or {}).items():
            child_pointer = f"{pointer}/{escape(name)}"
            if plan.get(child_pointer) is ABSENT:
                continue
            needed = any(key == child_pointer or key.startswith(child_pointer + "/")
                         for key, wanted in plan.items() if wanted is not ABSENT or key != child_pointer)
            if name in required or needed or fill(child_pointer, child):
                out[name] = self._value(child, child_pointer, plan, fill, seed)
        return out

    def _string(self, node: Mapping[str, Any], pointer: str, seed: str) -> str:
        field = (segments(pointer) or [""])[-1]
        if pointer == self.domains.role("space_id"):
            return self.space_id
        if pointer == self.domains.role("name"):
            return self.name_for(seed or "runtime")
        if pointer == self.domains.role("saved_proxy_id") and self.saved_proxy_id:
            return self.saved_proxy_id
        if field in CREDENTIAL_FIELDS:
            return secret(self.domains.secret_prefix(field), f"{seed}|{pointer}")
        if node.get("format") == "uuid":
            return str(uuid.uuid5(EXAMPLE_NAMESPACE, pointer))
        if node.get("format") == "date-time":
            return "2026-01-01T00:00:00Z"
        example = self.domains.example(pointer, "string")
        if example is not MISSING:
            return str(example)
        return f"{field if field != '*' else 'item'}-example"
