"""Load contracts/semantics.yaml and prove it against the contract."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from contracts import yamlfile
from contracts.checks import pointer
from contracts.errors import ContractError
from contracts.loader import Contract

SEMANTICS_FILE = Path(__file__).resolve().parent.parent / "semantics.yaml"
COMPARISONS = frozenset({"equal", "same_set", "same_uuid", "nullness"})
SEVERITIES = frozenset({"failure", "warning"})


@dataclass(frozen=True)
class Reflection:
    name: str
    request: str
    response: str
    compare: str = "equal"
    when: Mapping[str, Any] = field(default_factory=dict)
    if_absent: str = "warning"
    empty_is_null: bool = False


@dataclass(frozen=True)
class Semantics:
    reflections: tuple[Reflection, ...]
    unique: tuple[str, ...]
    timestamps: tuple[str, ...]
    fresh: tuple[str, ...]  # timestamps a freshly created resource sets to "now"
    not_before: tuple[tuple[str, str], ...]  # (later, earlier)
    null_or_uuid: tuple[str, ...]
    statuses: Mapping[str, frozenset[int]]

    def usual(self, kind: str) -> frozenset[int]:
        return self.statuses.get(kind, frozenset())


def _reflection(entry: Mapping[str, Any], source: str) -> Reflection:
    try:
        rule = Reflection(name=str(entry["name"]), request=str(entry["request"]), response=str(entry["response"]),
                          compare=str(entry.get("compare", "equal")), when=dict(entry.get("when") or {}),
                          if_absent=str(entry.get("if_absent", "warning")),
                          empty_is_null=bool(entry.get("empty_is_null", False)))
    except KeyError as exc:
        raise ContractError(f"{source}: reflection {entry!r} lacks {exc.args[0]!r}") from None
    if rule.compare not in COMPARISONS:
        raise ContractError(f"{source}: reflection {rule.name!r} has unknown compare {rule.compare!r}")
    if rule.if_absent not in SEVERITIES:
        raise ContractError(f"{source}: reflection {rule.name!r} has unknown if_absent {rule.if_absent!r}")
    return rule


def parse(document: Mapping[str, Any], source: str = "semantics") -> Semantics:
    invariants = document.get("invariants") or {}
    return Semantics(
        reflections=tuple(_reflection(e, source) for e in document.get("reflections") or ()),
        unique=tuple(invariants.get("unique") or ()),
        timestamps=tuple(invariants.get("timestamps") or ()),
        fresh=tuple(invariants.get("fresh") or ()),
        not_before=tuple((p["later"], p["earlier"]) for p in invariants.get("not_before") or ()),
        null_or_uuid=tuple(invariants.get("null_or_uuid") or ()),
        statuses={k: frozenset(int(c) for c in v) for k, v in (document.get("statuses") or {}).items()},
    )


@lru_cache(maxsize=4)
def load_semantics(path: str = str(SEMANTICS_FILE)) -> Semantics:
    with open(path, encoding="utf-8") as handle:
        return parse(yamlfile.load(handle.read()) or {}, path)


def problems(semantics: Semantics, contract: Contract) -> list[str]:
    """Every pointer or value in the table that the contract does not know (empty list: all good)."""
    found: list[str] = []

    def known(schema: Mapping[str, Any], where: str, ptr: str, what: str) -> list[Mapping[str, Any]]:
        schemas = pointer.schemas_at(schema, ptr)
        if not schemas:
            found.append(f"{what}: {where} pointer {ptr} is not in the contract's {where} schema")
        return schemas

    for rule in semantics.reflections:
        known(contract.request_schema, "request", rule.request, f"reflection {rule.name!r}")
        known(contract.response_schema, "response", rule.response, f"reflection {rule.name!r}")
        for ptr, value in rule.when.items():
            schemas = known(contract.request_schema, "request", ptr, f"reflection {rule.name!r} (when)")
            enums = [s["enum"] for s in schemas if isinstance(s.get("enum"), list)]
            if enums and not any(value in e for e in enums):
                found.append(f"reflection {rule.name!r}: when {ptr} == {value!r}, a value not in the contract's enum")
    for ptr in (*semantics.unique, *semantics.timestamps, *semantics.fresh, *semantics.null_or_uuid,
                *(p for pair in semantics.not_before for p in pair)):
        known(contract.response_schema, "response", ptr, "invariant")
    return found
