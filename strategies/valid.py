"""`runtime_payloads()`: a Hypothesis strategy for valid create-runtime bodies, weighted toward the edges.

Built from the resolved request schema node by node (build, don't filter):
objects member by member (required keys always, optional keys three times in four),
`oneOf` with `one_of` over its branches, enums with `sampled_from`, and leaves
from the plausible-domains table (strategies/domains.yaml) in two flavours:
ordinary values inside the domains, and edges outside them (still valid).

What hypothesis-jsonschema does here, and what it does not: with the pinned
versions (hypothesis-jsonschema 0.23.1, hypothesis 6.170) its object
strategies fail (`'many' object has no attribute 'more'`) and, reading the
schema as draft 7, it ignores `format: uuid`, so it cannot generate these
bodies itself. It serves for free-form JSON: `from_schema({})` gives any JSON
value, used for the members of free-form objects (`metadata`) in edge mode,
and any leaf with a keyword this module does not know (`pattern`,
`minimum`, ...) is delegated to it. On top, this module adds what a schema
cannot say: the edges (integer boundaries at 2**31 and 2**63, very long and
unicode names, empty and oversized arrays, empty and deeply nested objects,
upper-case uuids, integers written as 30.0, an undeclared property), the
run's space id and name prefix, and recognisable credentials.
"""
from __future__ import annotations

from datetime import timezone
from typing import Any, Mapping

import hypothesis.strategies as st

from contracts import Contract
from contracts.credentials import CREDENTIAL_FIELDS
from strategies.domains import Domains, Rule, load_domains
from strategies.schema import escape, is_free_form, primary_type, segments

# Keywords this module turns into strategies itself; a leaf with any other
# constraint goes to hypothesis-jsonschema, an object with one is an error.
HANDLED = frozenset({"type", "properties", "required", "items", "enum", "const", "oneOf", "discriminator", "format",
                     "title", "description", "additionalProperties", "examples", "example", "default", "deprecated",
                     "nullable", "readOnly", "writeOnly"})
KNOWN_FORMATS = frozenset({"uuid", "date-time"})
EXTRA_PROPERTY = "x-conformance-extra"  # an undeclared member: the schema allows it, a strict server may not

# Printable text in Python's sense (what the domains table calls printable):
# letters, marks, numbers, punctuation, symbols and the plain space.
# Deferred: building a characters() strategy reads Hypothesis' unicode tables, which must not happen
# while pytest loads its plugins (the suite's plugin builds the request plan from this package).
PRINTABLE = st.deferred(lambda: st.characters(categories=["L", "M", "N", "P", "S"], include_characters=" "))
TOKEN = st.deferred(lambda: st.characters(categories=["L", "N"]))
# After the token, characters that break naive `user:pass@host` URLs; no quotes
# or backslashes, which repr() would escape and so hide from redaction.
TAIL = st.sampled_from("@:/%#?&=+ -_.~!$*,;") | st.deferred(lambda: st.characters(categories=["L", "N", "S"]))


def from_schema(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """hypothesis-jsonschema's strategy, imported when first needed: its import reads Hypothesis' unicode
    tables, which must not happen while pytest loads plugins (the suite's plugin imports this package)."""
    from hypothesis_jsonschema import from_schema as build

    return build(schema)


def runtime_payloads(contract: Contract, *, space_id: str, name_prefix: str = "", saved_proxy_id: str | None = None,
                     domains: Domains | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """Valid request bodies for the contract's create operation.

    Generates: any body the request schema allows, about half of the draws with
    every value ordinary (inside strategies/domains.yaml), half with edges mixed
    in: unicode, empty and very long strings, integer extremes (0, negatives,
    the 2**31 and 2**63 boundaries, 30.0 for 30), empty and oversized arrays,
    empty, nested and arbitrary `metadata`, upper-case uuids, optional fields
    absent, explicit nulls where allowed, an undeclared property.

    Constraints: every draw validates against `contract.request_validator()`;
    `spaceId` is always `space_id` (in edge draws possibly upper-cased); a
    name, when present, starts with `name_prefix`; credential fields are
    `<prefix><token>` with a token of 8+ letters or digits (`pw-...`,
    `user-...`); the saved proxy id is `saved_proxy_id` when given. Classify a
    draw with `strategies.classify()` to know whether it is ordinary.

    Shrinks toward an ordinary draw, then fewer optional fields, the first
    oneOf branch and enum value, the ordinary flavour of each value, shorter
    strings and smaller numbers, so a failure ends on the one value that matters.
    """
    builder = _Strategies(contract, domains or load_domains(), space_id=space_id, name_prefix=name_prefix,
                          saved_proxy_id=saved_proxy_id)
    schema = contract.request_schema
    return st.one_of(builder.node(schema, "", edges=False), builder.node(schema, "", edges=True))


from_contract = runtime_payloads  # the Hypothesis-style alias: strategies.from_contract(contract, space_id=...)


class _Strategies:
    def __init__(self, contract: Contract, domains: Domains, *, space_id: str, name_prefix: str,
                 saved_proxy_id: str | None) -> None:
        self.domains = domains
        self.space_id = space_id
        self.name_prefix = name_prefix
        self.saved_proxy_id = saved_proxy_id

    def node(self, node: Mapping[str, Any], pointer: str, *, edges: bool) -> st.SearchStrategy[Any]:
        if "oneOf" in node:
            return st.one_of([self.node(branch, pointer, edges=edges) for branch in node["oneOf"]])
        if "const" in node:
            return st.just(node["const"])
        if "enum" in node:
            return st.sampled_from(list(node["enum"]))
        if isinstance(node.get("type"), list):
            return st.one_of([self.node({**node, "type": kind}, pointer, edges=edges) for kind in node["type"]])
        kind = primary_type(node)
        unknown = set(node) - HANDLED
        if kind == "object":
            if unknown or node.get("additionalProperties") not in (None, True):
                raise NotImplementedError(f"{pointer or '/'}: object keywords {sorted(unknown)} or additionalProperties "
                                          "are not generated yet; teach strategies/valid.py")
            return self.free_form(pointer, edges) if is_free_form(node) else self.object(node, pointer, edges)
        if unknown:
            return from_schema(dict(node))  # hypothesis-jsonschema knows pattern, minimum, minLength, ...
        if kind == "array":
            return self.array(node, pointer, edges)
        if kind == "string":
            return self.string(node, pointer, edges)
        if kind == "integer":
            return self.integer(pointer, edges)
        if kind == "number":
            return st.floats(allow_nan=False, allow_infinity=False)
        if kind == "boolean":
            return st.booleans()
        if kind == "null":
            return st.none()
        return from_schema({})

    def object(self, node: Mapping[str, Any], pointer: str, edges: bool) -> st.SearchStrategy[dict[str, Any]]:
        required = set(node.get("required") or ())
        members = {name: self.node(child, f"{pointer}/{escape(name)}", edges=edges)
                   for name, child in (node.get("properties") or {}).items()}
        optional = {name: s for name, s in members.items() if name not in required}
        body = _members({name: s for name, s in members.items() if name in required}, optional)
        if edges and pointer == "" and EXTRA_PROPERTY not in members:
            # One edge draw in four: as an optional key it would be every second one.
            return st.builds(_with_extra, body, _one_in(4), st.text(PRINTABLE, max_size=20))
        return body

    def free_form(self, pointer: str, edges: bool) -> st.SearchStrategy[dict[str, Any]]:
        rule = self.domains.rule(pointer, "object")
        limit = rule.max_integer or 2**53 - 1
        scalars = (st.none() | st.booleans() | st.integers(-limit, limit)
                   | st.floats(allow_nan=False, allow_infinity=False) | st.text(PRINTABLE, max_size=40))
        value = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                             | st.dictionaries(st.text(PRINTABLE, max_size=12), inner, max_size=3), max_leaves=8)
        ordinary = st.dictionaries(st.text(PRINTABLE, max_size=20), value, max_size=5).map(_no_credential_keys)
        if not edges:
            return ordinary
        depth = (rule.max_depth or 5) + 1
        return _ordinary_or(
            ordinary,
            st.just({}),
            st.dictionaries(st.text(max_size=20), from_schema({}), max_size=6).map(  # any JSON (hypothesis-jsonschema)
                _no_credential_keys),
            st.integers(depth, 64).map(_nested),  # deeper than the domain allows
            st.integers(51, 400).map(lambda n: {f"key{i}": i for i in range(n)}),  # many members
        )

    def array(self, node: Mapping[str, Any], pointer: str, edges: bool) -> st.SearchStrategy[list[Any]]:
        rule = self.domains.rule(pointer, "array")
        items_schema = node.get("items") if isinstance(node.get("items"), Mapping) else {}
        ordinary_items = self.node(items_schema, f"{pointer}/*", edges=False)
        most = rule.max_items if rule.max_items is not None else 20
        ordinary = st.lists(ordinary_items, max_size=min(most, 5), unique=bool(rule.unique))
        if not edges:
            return ordinary
        items = self.node(items_schema, f"{pointer}/*", edges=True)
        return _ordinary_or(
            ordinary,
            st.lists(items, max_size=min(most, 5)),
            st.just([]),
            st.lists(ordinary_items, min_size=most + 1, max_size=most * 2),  # more than the domain allows
            ordinary_items.map(lambda item: [item, item]),  # the same item twice
        )

    def integer(self, pointer: str, edges: bool) -> st.SearchStrategy[int | float]:
        rule = self.domains.rule(pointer, "integer")
        low = rule.minimum if rule.minimum is not None else 0
        high = rule.maximum if rule.maximum is not None else 2**31 - 1
        ordinary = st.integers(low, high)
        if not edges:
            return ordinary
        edges_ = set(self.domains.integer_edges) | {low - 1, low, high, high + 1}
        below = sorted((v for v in edges_ if v <= low), reverse=True)  # nearest first: shrinks to the boundary
        above = sorted(v for v in edges_ if v >= high)
        return _ordinary_or(ordinary, st.sampled_from(below), st.sampled_from(above), st.integers(),
                            ordinary.map(float))  # 30.0: an integer to JSON Schema, a float to many parsers

    def string(self, node: Mapping[str, Any], pointer: str, edges: bool) -> st.SearchStrategy[str]:
        rule = self.domains.rule(pointer, "string")
        field = (segments(pointer) or [""])[-1]
        if node.get("format") not in (None, *KNOWN_FORMATS):
            raise NotImplementedError(f"{pointer}: format {node['format']!r} is not generated yet; teach strategies/valid.py")
        if pointer == self.domains.role("space_id"):
            same = st.just(self.space_id)
            return st.builds(lambda upper: self.space_id.upper() if upper else self.space_id, _one_in(4)) if edges else same
        if node.get("format") == "uuid":
            given = pointer == self.domains.role("saved_proxy_id") and self.saved_proxy_id
            ids = st.just(self.saved_proxy_id) if given else st.uuids().map(str)
            return _ordinary_or(ids, ids.map(str.upper)) if edges else ids
        if node.get("format") == "date-time":
            return st.datetimes(timezones=st.just(timezone.utc)).map(
                lambda d: d.isoformat().replace("+00:00", "Z"))
        if field in CREDENTIAL_FIELDS:
            return self.secret(self.domains.secret_prefix(field), edges)
        prefix = self.name_prefix if pointer == self.domains.role("name") else ""
        text = self.text(rule, reserve=len(prefix), edges=edges)
        return text.map(lambda s: prefix + s) if prefix else text

    def text(self, rule: Rule, *, reserve: int, edges: bool) -> st.SearchStrategy[str]:
        longest = (rule.max_length if rule.max_length is not None else 255) - reserve
        shortest = max(0, (rule.min_length or 0) - reserve)
        if rule.values is not None:
            ordinary = st.sampled_from(rule.values)
        elif rule.pattern:
            ordinary = st.from_regex(rule.pattern, fullmatch=True).filter(lambda s: shortest <= len(s) <= longest)
        else:
            ordinary = st.text(PRINTABLE, min_size=shortest, max_size=max(shortest, min(longest, 40)))
        if not edges:
            return ordinary
        lengths = st.one_of(st.sampled_from([longest, longest + 1]),
                            st.integers(longest + 1, max(longest + 1, self.domains.long_string_max)))
        return _ordinary_or(
            ordinary,
            st.sampled_from(self.domains.string_edges) if self.domains.string_edges else ordinary,
            st.text(max_size=30),  # any unicode, control characters included
            st.builds(lambda char, n: char * n, st.characters(categories=["L", "N", "S"]), lengths),  # very long
        )

    def secret(self, prefix: str, edges: bool) -> st.SearchStrategy[str]:
        """`pw-` + 16 random hex digits (+ non-ASCII letters and URL-breaking characters in edge draws).

        The hex token comes from a Random seeded by the draw, so even a shrunk
        example keeps a random-looking token that no honest response contains.
        """
        token = st.randoms(use_true_random=True).map(lambda r: f"{r.getrandbits(64):016x}")
        if not edges:
            return token.map(lambda t: prefix + t)
        # A character that breaks naive `user:pass@host` URLs, then any mix (non-ASCII included).
        odd = st.builds(lambda first, rest: first + rest, st.sampled_from("@:/%#?&="), st.text(TAIL, max_size=7))
        return _ordinary_or(token.map(lambda t: prefix + t), st.builds(lambda t, tail: prefix + t + tail, token, odd))


# An optional member is present three times in four (fixed_dictionaries: one in two), so a
# field three levels down (config.fingerprint.locale) is in 42% of the draws, not 12%;
# it shrinks to absent.
_PRESENT = st.sampled_from([False, True, True, True])


@st.composite
def _members(draw: st.DrawFn, required: dict[str, st.SearchStrategy[Any]],
             optional: dict[str, st.SearchStrategy[Any]]) -> dict[str, Any]:
    out = {name: draw(strategy) for name, strategy in required.items()}
    for name, strategy in optional.items():
        if draw(_PRESENT):
            out[name] = draw(strategy)
    return out


_EDGE = st.sampled_from([False, True, True])


@st.composite
def _ordinary_or(draw: st.DrawFn, ordinary: st.SearchStrategy[Any], *edges: st.SearchStrategy[Any]) -> Any:
    """In an edge draw, a value is an edge two times in three (one_of(ordinary, *edges) would
    spread evenly over every alternative); shrinks to the ordinary flavour."""
    return draw(st.one_of(*edges)) if draw(_EDGE) else draw(ordinary)


def _one_in(n: int) -> st.SearchStrategy[bool]:
    """True once in n draws; shrinks to False."""
    return st.sampled_from([False] * (n - 1) + [True])


def _with_extra(body: dict[str, Any], extra: bool, value: str) -> dict[str, Any]:
    return {**body, EXTRA_PROPERTY: value} if extra else body


def _no_credential_keys(value: Any) -> Any:
    """Rename members called like credentials (`password` -> `password_`) in free-form objects.

    Hypothesis likes string constants from the code under test, so a metadata key
    `password` is common; redaction and the secrets check treat such a member as a
    proxy credential, and a server that rightly echoes metadata would be reported
    as leaking it.
    """
    if isinstance(value, dict):
        return {(f"{k}_" if k in CREDENTIAL_FIELDS else k): _no_credential_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_no_credential_keys(v) for v in value]
    return value


def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth - 1):
        value = {"nested": value}
    return value
