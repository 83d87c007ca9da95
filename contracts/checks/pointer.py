"""JSON pointers (RFC 6901) over JSON values and over resolved JSON Schemas."""
from __future__ import annotations

from typing import Any, Iterator, Mapping

from contracts.checks.model import MISSING


def parts(pointer: str) -> list[str]:
    if not pointer:
        return []
    if not pointer.startswith("/"):
        raise ValueError(f"not a JSON pointer: {pointer!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in pointer[1:].split("/")]


def escape(token: object) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def join(path: Any) -> str:
    """The pointer of a path of keys/indices, as jsonschema's `absolute_path`."""
    return "".join("/" + escape(p) for p in path)


def resolve(document: Any, pointer: str) -> Any:
    """The value at `pointer`, or MISSING when any step does not exist."""
    node = document
    for token in parts(pointer):
        if isinstance(node, dict) or isinstance(node, Mapping):  # dict first: typing's Mapping check is slow
            if token not in node:
                return MISSING
            node = node[token]
        elif isinstance(node, list):
            if not token.isdigit() or int(token) >= len(node):
                return MISSING
            node = node[int(token)]
        else:
            return MISSING
    return node


def _schemas_at(schema: Any, tokens: list[str]) -> Iterator[Mapping[str, Any]]:
    if not isinstance(schema, Mapping):
        return
    for key in ("oneOf", "anyOf", "allOf"):
        for branch in schema.get(key) or ():
            yield from _schemas_at(branch, tokens)
    if not tokens:
        yield schema
        return
    head, rest = tokens[0], tokens[1:]
    properties = schema.get("properties") or {}
    if head in properties:
        yield from _schemas_at(properties[head], rest)
    if isinstance(schema.get("items"), Mapping) and (head.isdigit() or head == "*"):
        yield from _schemas_at(schema["items"], rest)


def schemas_at(schema: Mapping[str, Any], pointer: str) -> list[Mapping[str, Any]]:
    """Every subschema (across oneOf/anyOf branches) that governs the instance at `pointer`."""
    return list(_schemas_at(schema, parts(pointer)))
