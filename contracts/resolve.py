"""Inline local `$ref`s so a schema stands alone for jsonschema and for walking."""
from __future__ import annotations

import copy
from typing import Any

from contracts.errors import ContractError


def pointer_get(document: Any, pointer: str) -> Any:
    """Resolve an RFC 6901 JSON pointer (without the leading '#')."""
    node = document
    if pointer in ("", "/"):
        return node
    for raw in pointer.lstrip("/").split("/"):
        part = raw.replace("~1", "/").replace("~0", "~")
        try:
            node = node[int(part)] if isinstance(node, list) else node[part]
        except (KeyError, IndexError, ValueError, TypeError):
            raise ContractError(f"reference '#{pointer}' points at nothing in the contract") from None
    return node


def inline_refs(schema: Any, document: dict[str, Any], _stack: tuple[str, ...] = ()) -> Any:
    """Return a copy of `schema` with every local `$ref` replaced by its target.

    Sibling keywords of a `$ref` (allowed in OpenAPI 3.1) are kept beside the
    inlined target. A reference cycle is an error: no schema of this
    operation is recursive, and an inlined cycle would never end.
    """
    if isinstance(schema, list):
        return [inline_refs(item, document, _stack) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        ref = schema["$ref"]
        if not isinstance(ref, str) or not ref.startswith("#"):
            raise ContractError(f"only local references are supported, got $ref {ref!r}")
        if ref in _stack:
            raise ContractError(f"recursive $ref {ref!r} cannot be inlined")
        target = inline_refs(copy.deepcopy(pointer_get(document, ref[1:])), document, (*_stack, ref))
        siblings = {k: inline_refs(v, document, _stack) for k, v in schema.items() if k != "$ref"}
        return {**target, **siblings} if isinstance(target, dict) else target
    return {key: inline_refs(value, document, _stack) for key, value in schema.items()}
