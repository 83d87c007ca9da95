"""Compare two resolved JSON Schemas (no `$ref`s left) node by node, by instance pointer.

Nodes are matched by what they govern, never by position in the text: object
properties by name, array items as `/*`, `oneOf`/`anyOf` branches by label
(discriminator value, else JSON type, as contracts/catalog.py names them).
Before comparing, each node is put in a canonical form so that spellings of
the same schema compare equal: `const` is a one-value `enum`, OpenAPI 3.0
`nullable` is a `null` type, a one-branch `oneOf` is its branch, a branch that
is itself a bare `oneOf` is spliced into its parent, and `required`, `type`
and `enum` are sets. A subtree that was added or removed is reported once, at
its top.

`title` is not compared: generators (this contract's included) set it to the
component's name, so renaming or inlining a component, a pure `$ref` layout
change, would otherwise report a change no client can see on the wire.
"""
from __future__ import annotations

import json
from typing import Any, Mapping

from contracts.catalog import branch_label, discriminator_of
from contracts.drift.emitter import Emitter

IGNORED = frozenset({"title"})  # see the module doc
ANNOTATIONS = frozenset({"description", "examples", "example", "$comment", "deprecated", "readOnly",
                         "writeOnly", "externalDocs", "xml", "$id", "$schema", "$anchor"})
UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
BRANCH_KEYS = ("oneOf", "anyOf")
HANDLED = frozenset({"type", "enum", "format", "properties", "required", "items", "discriminator", "default",
                     "pattern", "additionalProperties", "uniqueItems", *BRANCH_KEYS, *UPPER_BOUNDS, *LOWER_BOUNDS})


def is_annotation(key: str) -> bool:
    return key in ANNOTATIONS or key.startswith("x-")


def canonical(node: Any) -> Any:
    """The node in the canonical form described in the module doc (a shallow rewrite; children stay)."""
    if not isinstance(node, dict):
        return node
    node = {k: v for k, v in node.items() if k not in IGNORED}
    if "const" in node and "enum" not in node:
        node["enum"] = [node.pop("const")]
    if "nullable" in node:
        if node.pop("nullable") is True and "type" in node:
            kinds = [node["type"]] if isinstance(node["type"], str) else list(node["type"])
            node["type"] = kinds + ["null"] * ("null" not in kinds)
    for key in BRANCH_KEYS:
        branches = node.get(key)
        if isinstance(branches, list) and len(branches) == 1 and isinstance(branches[0], dict):
            # The wrapper's own annotations go: the branch's (its title, its description) are the ones
            # that match the same schema written without the wrapper.
            rest = {k: v for k, v in node.items() if k not in (key, "discriminator") and not is_annotation(k)}
            return canonical({**rest, **branches[0]})
    return node


def _key(value: Any) -> str:
    # JSON identity, not Python's: True == 1 in Python, not in JSON Schema. YAML may hand over dates
    # (an unquoted `example: 2026-01-01`): they compare by their text.
    return json.dumps(value, sort_keys=True, default=str)


def same(a: Any, b: Any) -> bool:
    """Two schemas (or any JSON values) are the same once put in canonical, order-free form."""
    return _key(_comparable(a)) == _key(_comparable(b))


def _comparable(node: Any) -> Any:
    """Order-free form of a whole subtree, for the "nothing changed here" shortcut."""
    if isinstance(node, list):
        return [_comparable(v) for v in node]
    if not isinstance(node, dict):
        return node
    node = canonical(node)
    out = {k: _comparable(v) for k, v in node.items()}
    for key in ("required", "enum", "type"):
        if isinstance(out.get(key), list):
            out[key] = sorted(out[key], key=_key)
    for key in BRANCH_KEYS:
        if isinstance(node.get(key), list):
            out[key] = sorted((label, _comparable(branch))
                              for label, branch in _labelled(node, key, discriminator_of(node)).items())
    return out


def _types(node: Mapping[str, Any]) -> frozenset[str] | None:
    """The JSON types allowed, integer implied by number; None when `type` says nothing (any type)."""
    kind = node.get("type")
    if kind is None:
        return None
    kinds = {kind} if isinstance(kind, str) else set(kind)
    return frozenset(kinds | ({"integer"} if "number" in kinds else set()))


def _type_text(node: Mapping[str, Any]) -> str:
    kind = node.get("type")
    if kind is None:
        return "any"
    return kind if isinstance(kind, str) else "|".join(sorted(kind))


def _branch_key(node: Mapping[str, Any]) -> str | None:
    return next((k for k in BRANCH_KEYS if isinstance(node.get(k), list)), None)


def _is_wrapper(branch: Any, key: str) -> bool:
    return (isinstance(branch, dict) and isinstance(branch.get(key), list)
            and all(k in (key, "discriminator") or k in IGNORED or is_annotation(k) for k in branch))


def _labelled(node: Mapping[str, Any], key: str, discriminator: str | None) -> dict[str, Any]:
    """Branches by label, wrapper branches spliced in, repeated labels told apart by position."""
    pairs: list[tuple[str, Any]] = []

    def collect(holder: Mapping[str, Any], disc: str | None) -> None:
        for index, branch in enumerate(holder[key]):
            if _is_wrapper(branch, key):
                collect(branch, discriminator_of(branch) or disc)
            else:
                pairs.append((branch_label(canonical(branch), index, discriminator_of(branch) or disc), branch))

    collect(node, discriminator)
    # The first of equal labels keeps the plain name, so a branch dropped from after it leaves the
    # survivors matched as before (`object`, `object#1` -> `object`).
    out: dict[str, Any] = {}
    for index, (label, branch) in enumerate(pairs):
        out[label if label not in out else f"{label}#{index}"] = branch
    return out


def _wrap(node: dict[str, Any], other: dict[str, Any], key: str) -> dict[str, Any]:
    """A plain node as a one-branch oneOf, to compare with `other`, a node that has branches.

    The plain node keeps its annotations inside the branch (they describe it);
    the wrapper borrows `other`'s, which have no counterpart on this side.
    """
    return {**{k: v for k, v in other.items() if is_annotation(k)}, key: [node]}


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class SchemaDiff:
    """Compares the schemas of one body (`side` request or response, `where` e.g. `200 application/json`)."""

    def __init__(self, emitter: Emitter, side: str, where: str) -> None:
        self.emitter = emitter
        self.side = side
        self.where = where

    def compare(self, old: Any, new: Any, pointer: str = "", branches: tuple[str, ...] = ()) -> None:
        """Report every change from `old` to `new`, the schemas of the instance at `pointer`."""
        if same(old, new):
            return
        o, n = canonical(old), canonical(new)
        if not isinstance(o, dict) or not isinstance(n, dict):
            self._emit("schema-keyword-changed", pointer, branches, detail="boolean schema", old=o, new=n)
            return
        ko, kn = _branch_key(o), _branch_key(n)
        if (ko is None) != (kn is None):  # a plain schema on one side, branches on the other
            o, n = (o, _wrap(n, o, ko)) if ko else (_wrap(o, n, kn), n)  # type: ignore[arg-type]
        self._enum(o, n, pointer, branches)
        self._type_and_format(o, n, pointer, branches)
        self._bounds(o, n, pointer, branches)
        self._properties(o, n, pointer, branches)
        self._items(o, n, pointer, branches)
        self._branches(o, n, pointer, branches)
        self._rest(o, n, pointer, branches)

    def _emit(self, kind: str, pointer: str, branches: tuple[str, ...], **fields: Any) -> None:
        self.emitter.emit(kind, self.side, pointer, branches=branches, where=self.where, **fields)

    def _enum(self, o: dict[str, Any], n: dict[str, Any], pointer: str, branches: tuple[str, ...]) -> None:
        eo, en = o.get("enum"), n.get("enum")
        if isinstance(eo, list) and isinstance(en, list):
            before, after = {_key(v) for v in eo}, {_key(v) for v in en}
            for value in en:
                if _key(value) not in before:
                    self._emit("enum-value-added", pointer, branches, value=value)
            for value in eo:
                if _key(value) not in after:
                    self._emit("enum-value-removed", pointer, branches, value=value)
        elif isinstance(en, list):
            self._emit("enum-constraint-added", pointer, branches, new=en)
        elif isinstance(eo, list):
            self._emit("enum-constraint-removed", pointer, branches, old=eo)

    def _type_and_format(self, o: dict[str, Any], n: dict[str, Any], pointer: str,
                         branches: tuple[str, ...]) -> None:
        to, tn = _types(o), _types(n)
        if to != tn:
            if tn is None or (to is not None and tn > to):
                kind = "type-widened"
            elif to is None or tn < to:
                kind = "type-narrowed"
            else:
                kind = "type-changed"
            self._emit(kind, pointer, branches, old=_type_text(o), new=_type_text(n))
        fo, fn = o.get("format"), n.get("format")
        if fo != fn:
            kind = "format-added" if fo is None else "format-removed" if fn is None else "format-changed"
            self._emit(kind, pointer, branches, old=fo, new=fn)

    def _bounds(self, o: dict[str, Any], n: dict[str, Any], pointer: str, branches: tuple[str, ...]) -> None:
        for keyword in (*UPPER_BOUNDS, *LOWER_BOUNDS):
            a, b = o.get(keyword), n.get(keyword)
            if a == b:
                continue
            if not all(v is None or _number(v) for v in (a, b)):  # OpenAPI 3.0 boolean exclusive bounds
                self._emit("schema-keyword-changed", pointer, branches, detail=keyword, old=a, new=b)
                continue
            upper = keyword in UPPER_BOUNDS
            if a is None:
                narrowed, detail = True, f"{keyword} {b} added"
            elif b is None:
                narrowed, detail = False, f"{keyword} {a} removed"
            else:
                narrowed, detail = (b < a) if upper else (b > a), f"{keyword} {a} -> {b}"
            self._emit("constraint-narrowed" if narrowed else "constraint-widened", pointer, branches,
                       detail=detail, old=a, new=b)
        if bool(o.get("uniqueItems")) != bool(n.get("uniqueItems")):
            narrowed = bool(n.get("uniqueItems"))
            self._emit("constraint-narrowed" if narrowed else "constraint-widened", pointer, branches,
                       detail=f"uniqueItems {'added' if narrowed else 'removed'}")
        self._additional(o, n, pointer, branches)
        po, pn = o.get("pattern"), n.get("pattern")
        if po != pn:
            self._emit("pattern-changed", pointer, branches, old=po, new=pn)

    def _additional(self, o: dict[str, Any], n: dict[str, Any], pointer: str, branches: tuple[str, ...]) -> None:
        ao, an = o.get("additionalProperties", True), n.get("additionalProperties", True)
        if same(ao, an):
            return
        closed_o, closed_n = ao is False, an is False
        if closed_o != closed_n and all(v is True or v is False or v == {} for v in (ao, an)):
            self._emit("constraint-narrowed" if closed_n else "constraint-widened", pointer, branches,
                       detail=f"additionalProperties {'false' if closed_n else 'allowed'}")
        else:
            self._emit("schema-keyword-changed", pointer, branches, detail="additionalProperties", old=ao, new=an)

    def _properties(self, o: dict[str, Any], n: dict[str, Any], pointer: str, branches: tuple[str, ...]) -> None:
        po, pn = o.get("properties") or {}, n.get("properties") or {}
        ro, rn = set(o.get("required") or ()), set(n.get("required") or ())
        names = list(dict.fromkeys([*po, *pn, *sorted(ro), *sorted(rn)]))
        for name in names:
            child = f"{pointer}/{name.replace('~', '~0').replace('/', '~1')}"
            was, now = name in po or name in ro, name in pn or name in rn
            if was and not now:
                self._emit("required-property-removed" if name in ro else "optional-property-removed", child,
                           branches)
            elif now and not was:
                self._emit("required-property-added" if name in rn else "optional-property-added", child, branches)
            else:
                if name in rn and name not in ro:
                    self._emit("property-became-required", child, branches)
                elif name in ro and name not in rn:
                    self._emit("property-became-optional", child, branches)
                self.compare(po.get(name, {}), pn.get(name, {}), child, branches)

    def _items(self, o: dict[str, Any], n: dict[str, Any], pointer: str, branches: tuple[str, ...]) -> None:
        io, in_ = o.get("items"), n.get("items")
        if isinstance(io, dict) and isinstance(in_, dict):
            self.compare(io, in_, f"{pointer}/*", branches)
        elif not same(io, in_):
            self._emit("schema-keyword-changed", pointer, branches, detail="items", old=io, new=in_)

    def _branches(self, o: dict[str, Any], n: dict[str, Any], pointer: str, branches: tuple[str, ...]) -> None:
        ko, kn = _branch_key(o), _branch_key(n)
        if ko is None or kn is None:
            return
        if ko != kn:
            self._emit("schema-keyword-changed", pointer, branches, detail=f"{ko} -> {kn}")
        disc_o, disc_n = discriminator_of(o), discriminator_of(n)
        lo, ln = _labelled(o, ko, disc_o or disc_n), _labelled(n, kn, disc_n or disc_o)
        for label in ln:
            if label not in lo:
                self._emit("branch-added", pointer, branches, value=label)
        for label in lo:
            if label not in ln:
                self._emit("branch-removed", pointer, branches, value=label)
            else:
                self.compare(lo[label], ln[label], pointer, (*branches, f"{pointer}={label}"))

    def _rest(self, o: dict[str, Any], n: dict[str, Any], pointer: str, branches: tuple[str, ...]) -> None:
        if not same(o.get("discriminator"), n.get("discriminator")):
            self._emit("discriminator-changed", pointer, branches,
                       old=discriminator_of(o), new=discriminator_of(n))
        if not same(o.get("default"), n.get("default")):
            self._emit("default-changed", pointer, branches, old=o.get("default"), new=n.get("default"))
        keys = list(dict.fromkeys([*o, *n]))
        notes = [k for k in keys if is_annotation(k) and not same(o.get(k), n.get(k))]
        if notes:
            self._emit("annotation-changed", pointer, branches, detail=", ".join(notes))
        for key in keys:
            if key not in HANDLED and not is_annotation(key) and not same(o.get(key), n.get(key)):
                self._emit("schema-keyword-changed", pointer, branches, detail=key, old=o.get(key), new=n.get(key))
