"""Deterministic example payloads built from a resolved request schema.

`minimal_payload` sets only what is required; `full_payload` sets every
optional property too, taking the first value of each enum and the first
branch of each `oneOf`. Values are read from the schema (types, formats,
enums), so a new field in the contract shows up here with no code change.
"""
from __future__ import annotations

import uuid
from typing import Any, Mapping

EXAMPLE_UUID_NAMESPACE = uuid.UUID("6f2c1d4e-0000-4000-8000-000000000000")


def _string(schema: Mapping[str, Any], pointer: str) -> str:
    if schema.get("format") == "uuid":
        return str(uuid.uuid5(EXAMPLE_UUID_NAMESPACE, pointer))
    if schema.get("format") == "date-time":
        return "2026-01-01T00:00:00Z"
    # Distinct per field, so a value echoed in the wrong place is visible.
    return f"{pointer.rsplit('/', 1)[-1] or 'value'}-example"


def build(schema: Mapping[str, Any], *, full: bool, pointer: str = "", overrides: Mapping[str, Any] | None = None) -> Any:
    """One value valid against `schema` (a resolved JSON Schema), see the module doc."""
    overrides = overrides or {}
    if pointer in overrides:
        return overrides[pointer]
    if "oneOf" in schema:
        return build(schema["oneOf"][0], full=full, pointer=pointer, overrides=overrides)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or "properties" in schema:
        required = set(schema.get("required", ()))
        return {
            name: build(sub, full=full, pointer=f"{pointer}/{name}", overrides=overrides)
            for name, sub in (schema.get("properties") or {}).items()
            if full or name in required
        }
    if kind == "array":
        items = schema.get("items") or {}
        return [build(items, full=full, pointer=f"{pointer}/0", overrides=overrides)] if full else []
    if kind == "string":
        return _string(schema, pointer)
    if kind == "integer":
        return 30
    if kind == "number":
        return 1.5
    if kind == "boolean":
        return True
    return None


def minimal_payload(schema: Mapping[str, Any], **overrides: Any) -> dict[str, Any]:
    """Only the required properties; `overrides` maps JSON pointers (as `_spaceId`-free keys) to values."""
    return build(schema, full=False, overrides=_pointers(overrides))


def full_payload(schema: Mapping[str, Any], **overrides: Any) -> dict[str, Any]:
    """Every property the schema documents, first enum value and first oneOf branch each."""
    return build(schema, full=True, overrides=_pointers(overrides))


def _pointers(overrides: Mapping[str, Any]) -> dict[str, Any]:
    return {key if key.startswith("/") else "/" + key: value for key, value in overrides.items()}
