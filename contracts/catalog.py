"""Catalogs of a resolved schema: every enum and every `oneOf` branch.

Entries are keyed by the JSON pointer of the *instance* field they govern
(`/config/fingerprint/locale`), not by where they sit in the schema, plus the
chain of `oneOf` branches that leads there (`/config/proxy=custom`), so the
same pointer under two variants stays two entries.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator


@dataclass(frozen=True)
class EnumEntry:
    side: str  # "request" or "response"
    pointer: str  # instance JSON pointer, e.g. /config/fingerprint/locale
    values: tuple[Any, ...]
    branches: tuple[str, ...]  # oneOf branches on the way, e.g. ("/config/proxy=custom",)

    @property
    def key(self) -> str:
        return "|".join((self.side, self.pointer, *self.branches))


@dataclass(frozen=True)
class VariantEntry:
    side: str
    pointer: str  # instance pointer of the value the oneOf governs
    labels: tuple[str, ...]  # one readable label per branch, in order
    branches: tuple[str, ...]  # enclosing branches


def branch_label(branch: dict[str, Any], index: int, discriminator: str | None) -> str:
    """A readable name for one oneOf branch: its discriminator value, else its JSON type."""
    properties = branch.get("properties", {}) if isinstance(branch, dict) else {}
    if discriminator and isinstance(properties.get(discriminator), dict):
        values = properties[discriminator].get("enum")
        if isinstance(values, list) and len(values) == 1:
            return str(values[0])
    kind = branch.get("type") if isinstance(branch, dict) else None
    if isinstance(kind, str):
        return kind
    if isinstance(branch, dict) and "oneOf" in branch:
        return "object"
    return f"#{index}"


def discriminator_of(node: dict[str, Any]) -> str | None:
    disc = node.get("discriminator")
    return disc.get("propertyName") if isinstance(disc, dict) else None


def walk(node: Any, pointer: str = "", branches: tuple[str, ...] = ()) -> Iterator[tuple[str, Any, str, tuple[str, ...]]]:
    """Every schema node with the instance pointer it governs and the oneOf branches on the way there."""
    if not isinstance(node, dict):
        return
    yield "node", node, pointer, branches
    if "oneOf" in node:
        disc = discriminator_of(node)
        for index, branch in enumerate(node["oneOf"]):
            label = branch_label(branch, index, disc)
            yield from walk(branch, pointer, (*branches, f"{pointer}={label}"))
    for name, child in (node.get("properties") or {}).items():
        yield from walk(child, f"{pointer}/{name.replace('~', '~0').replace('/', '~1')}", branches)
    if isinstance(node.get("items"), dict):
        yield from walk(node["items"], f"{pointer}/*", branches)


def catalog(schema: dict[str, Any], side: str) -> tuple[tuple[EnumEntry, ...], tuple[VariantEntry, ...]]:
    """Every enum and every oneOf node of a resolved schema, in document order."""
    enums: list[EnumEntry] = []
    variants: list[VariantEntry] = []
    for _, node, pointer, branches in walk(schema, "", ()):
        if isinstance(node.get("enum"), list):
            enums.append(EnumEntry(side, pointer, tuple(node["enum"]), branches))
        if isinstance(node.get("oneOf"), list):
            disc = discriminator_of(node)
            labels = tuple(branch_label(b, i, disc) for i, b in enumerate(node["oneOf"]))
            variants.append(VariantEntry(side, pointer, labels, branches))
    return tuple(enums), tuple(variants)
