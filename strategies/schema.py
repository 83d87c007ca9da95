"""Small helpers for reading a resolved request schema the way the strategies need it.

Pointers and branch chains are the catalog's (contracts/catalog.py): an
instance pointer such as `/config/proxy/port`, `/*` for every array item, and
a chain of `pointer=label` oneOf branches such as
`("/config/proxy=object", "/config/proxy=custom")`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from contracts.catalog import branch_label, discriminator_of
from contracts.checks.model import MISSING
from contracts.checks.pointer import escape
from contracts.checks.pointer import parts as segments
JSON_TYPES = ("null", "boolean", "integer", "number", "string", "array", "object")


def parent(pointer: str) -> str:
    return pointer.rsplit("/", 1)[0]


def resolve(instance: Any, pointer: str) -> Any:
    """The value at an instance pointer (`*` takes the first item), or MISSING."""
    node = instance
    for part in segments(pointer):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part == "*" and node:
            node = node[0]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return MISSING
    return node


def split_branch(entry: str) -> tuple[str, str]:
    """`/config/proxy=custom` -> (`/config/proxy`, `custom`)."""
    pointer, _, label = entry.rpartition("=")
    return pointer, label


def normalize_chain(chain: tuple[str, ...]) -> tuple[str, ...]:
    """Drop wrapper branches: `proxy=object` followed by `proxy=custom` says no more than `proxy=custom`."""
    kept = []
    for index, entry in enumerate(chain):
        following = chain[index + 1] if index + 1 < len(chain) else None
        if following is not None and split_branch(following)[0] == split_branch(entry)[0]:
            continue
        kept.append(entry)
    return tuple(kept)


def short_name(pointer: str, relative_to: str = "") -> str:
    """A readable field name: the path below `relative_to`, dotted (`overrides.ipFamily`)."""
    rest = pointer[len(relative_to):] if relative_to and pointer.startswith(relative_to + "/") else pointer
    return ".".join(p for p in segments(rest) if p != "*") or "body"


def chain_id(chain: tuple[str, ...]) -> str:
    """`("/config/proxy=object", "/config/proxy=saved", "/config/proxy/overrides/affinity=sticky")`
    -> `proxy=saved/affinity=sticky`."""
    return "/".join(f"{short_name(p).rsplit('.', 1)[-1]}={label}" for p, label in map(split_branch, normalize_chain(chain)))


def labels(node: Mapping[str, Any]) -> list[str]:
    disc = discriminator_of(dict(node))
    return [branch_label(b, i, disc) for i, b in enumerate(node["oneOf"])]


def leaf_labels(node: Mapping[str, Any]) -> list[str]:
    """Branch labels with wrapper branches (a branch that is itself a oneOf) flattened."""
    out: list[str] = []
    for branch, label in zip(node["oneOf"], labels(node)):
        out += leaf_labels(branch) if isinstance(branch, Mapping) and "oneOf" in branch else [label]
    return out


def pick_branch(node: Mapping[str, Any], label: str | None) -> Mapping[str, Any]:
    """The branch named `label` (directly or through a wrapper); the first branch when None."""
    branches = node["oneOf"]
    if label is None:
        return branches[0]
    for branch, name in zip(branches, labels(node)):
        if name == label:
            return branch
    for branch in branches:
        if isinstance(branch, Mapping) and "oneOf" in branch and label in leaf_labels(branch):
            return branch
    raise KeyError(f"no oneOf branch labelled {label!r}; branches: {leaf_labels(node)}")


def types_of(node: Mapping[str, Any]) -> set[str]:
    """JSON types a node allows (integer implied by number); every type when it says nothing."""
    if "oneOf" in node:
        return set().union(*(types_of(b) for b in node["oneOf"] if isinstance(b, Mapping)))
    if "enum" in node:
        return {json_type(v) for v in node["enum"]}
    kind = node.get("type")
    if kind is None:
        return {"object"} if "properties" in node else set(JSON_TYPES)
    kinds = {kind} if isinstance(kind, str) else set(kind)
    return kinds | ({"integer"} if "number" in kinds else set())


def primary_type(node: Mapping[str, Any]) -> str | None:
    kind = node.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None and "properties" in node:
        return "object"
    return kind


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def is_free_form(node: Mapping[str, Any]) -> bool:
    """An object declared without properties (such as metadata): any members go."""
    return primary_type(node) == "object" and not node.get("properties") and "oneOf" not in node


@dataclass(frozen=True)
class Field:
    """One declared property, under the oneOf branches that lead to it."""

    pointer: str
    name: str
    schema: Mapping[str, Any]
    required: bool
    branches: tuple[str, ...]


def fields(schema: Mapping[str, Any]) -> tuple[Field, ...]:
    """Every declared property of a resolved schema, in every branch, in document order."""
    out: list[Field] = []

    def walk(node: Any, pointer: str, branches: tuple[str, ...]) -> None:
        if not isinstance(node, Mapping):
            return
        if isinstance(node.get("oneOf"), list):
            for branch, label in zip(node["oneOf"], labels(node)):
                walk(branch, pointer, (*branches, f"{pointer}={label}"))
        required = set(node.get("required") or ())
        for name, child in (node.get("properties") or {}).items():
            child_pointer = f"{pointer}/{escape(name)}"
            out.append(Field(child_pointer, name, child, name in required, branches))
            walk(child, child_pointer, branches)
        if isinstance(node.get("items"), Mapping):
            out.append(Field(f"{pointer}/*", "*", node["items"], False, branches))
            walk(node["items"], f"{pointer}/*", branches)

    walk(schema, "", ())
    return tuple(out)


def node_at(schema: Mapping[str, Any], pointer: str, branches: tuple[str, ...] = ()) -> Mapping[str, Any] | None:
    """The schema node an instance pointer leads to, following the branches named in the chain (None: no such field)."""
    chosen: dict[str, list[str]] = {}
    for entry in branches:
        at, label = split_branch(entry)
        chosen.setdefault(at, []).append(label)

    def descend(node: Mapping[str, Any], at: str) -> Mapping[str, Any]:
        wanted = list(chosen.get(at, ()))
        while isinstance(node, Mapping) and "oneOf" in node and wanted:
            direct = wanted[0] in labels(node)  # else pick_branch goes through a wrapper first
            node = pick_branch(node, wanted[0])
            if direct:
                wanted.pop(0)
        return node

    node = descend(schema, "")
    here = ""
    for part in segments(pointer):
        here = f"{here}/{escape(part)}"
        if part == "*":
            node = node.get("items") or {}
        else:
            node = (node.get("properties") or {}).get(part)
            if node is None:
                return None
        node = descend(node, here)
    return node
