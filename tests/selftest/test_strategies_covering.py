"""The covering set's claims, checked by an enumeration of the contract independent of strategies/.

By the rows a default run sends alone: every request enum value and oneOf
branch (absent and null included) is reached, every optional field is present
somewhere and absent somewhere, and every feasible pair of options of two
dimensions of one scope appears together, where a scope is the body (its enums
and oneOfs) or one leaf oneOf branch (its enums, optional oneOfs, and each
optional field absent/null/present, at any depth). The set is deterministic
and ordinary, and a contract with a new locale and a new stealth level gets
them covered with no code change.
"""
from __future__ import annotations

import copy
import itertools
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest

from contracts import Contract, load_contract
from strategies import classify, covering_set

SPACE = "3f0c9a52-7d1e-4c1b-9a55-2b7f0e6d1c88"
PREFIX = "conformance-selftest-"
ROOT = Path(__file__).resolve().parents[2]


# --- an independent reading of the request schema (no strategies/ code) ---------------------------

def _discriminators(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        if isinstance(node.get("discriminator"), dict):
            found.add(node["discriminator"]["propertyName"])
        for value in node.values():
            found |= _discriminators(value)
    elif isinstance(node, list):
        for value in node:
            found |= _discriminators(value)
    return found


def _at(instance: Any, pointer: str) -> Any:
    for part in pointer.split("/")[1:]:
        if not isinstance(instance, dict) or part not in instance:
            return KeyError
        instance = instance[part]
    return instance


def _in_branch(instance: Any, label: str, discriminators: set[str]) -> bool:
    if label == "null":
        return instance is None
    if label == "object":
        return isinstance(instance, dict)
    return isinstance(instance, dict) and any(instance.get(d) == label for d in discriminators)


def _matches(payload: Any, branches: tuple[str, ...], discriminators: set[str]) -> bool:
    return all(_in_branch(_at(payload, p), label, discriminators)
               for p, _, label in (b.rpartition("=") for b in branches))


def _properties(node: Any, pointer: str = "", branches: tuple[str, ...] = ()) -> Iterator[tuple[str, bool, tuple[str, ...]]]:
    """(pointer, required, branches) of every declared property; branches labelled like the catalog."""
    if not isinstance(node, dict):
        return
    if "oneOf" in node:
        prop = (node.get("discriminator") or {}).get("propertyName")
        for index, branch in enumerate(node["oneOf"]):
            values = (branch.get("properties", {}).get(prop) or {}).get("enum") if prop else None
            label = values[0] if values and len(values) == 1 else branch.get("type", "object" if "oneOf" in branch else f"#{index}")
            yield from _properties(branch, pointer, (*branches, f"{pointer}={label}"))
    required = set(node.get("required", ()))
    for name, child in (node.get("properties") or {}).items():
        yield f"{pointer}/{name}", name in required, branches
        yield from _properties(child, f"{pointer}/{name}", branches)


def _variant_values(contract: Contract, pointer: str, branches: tuple[str, ...]) -> list[str]:
    """The leaf labels of the oneOf at pointer (wrapper branches replaced by their inner labels)."""
    entries = {v.branches: v for v in contract.variants_on("request") if v.pointer == pointer}
    out: list[str] = []
    for label in entries[branches].labels:
        inner = (*branches, f"{pointer}={label}")
        out += _variant_values(contract, pointer, inner) if inner in entries else [label]
    return out


def _value(payload: Any, pointer: str, kind: str, discriminators: set[str]) -> Any:
    value = _at(payload, pointer)
    if value is KeyError:
        return "absent"
    if value is None:
        return "null"
    if kind == "enum":
        return value
    if kind == "presence":
        return "present"
    return next((value[d] for d in discriminators if isinstance(value, dict) and d in value), "object")


def _label(branch: dict[str, Any], index: int, prop: str | None) -> str:
    values = (branch.get("properties", {}).get(prop) or {}).get("enum") if prop else None
    return values[0] if values and len(values) == 1 else branch.get("type", "object" if "oneOf" in branch else f"#{index}")


def _leaf_labels(node: dict[str, Any]) -> list[str]:
    prop = (node.get("discriminator") or {}).get("propertyName")
    out: list[str] = []
    for index, branch in enumerate(node["oneOf"]):
        out += _leaf_labels(branch) if "oneOf" in branch else [_label(branch, index, prop)]
    return out


Dim = tuple[str, str, list[Any]]  # (pointer, kind, options)


def _branch_dims(node: dict[str, Any], pointer: str) -> list[Dim]:
    """Inside one branch: every enum (2+ values, or optional), optional oneOf and optional field, at any depth."""
    dims: list[Dim] = []
    required = set(node.get("required", ()))
    for name, child in (node.get("properties") or {}).items():
        here, optional = f"{pointer}/{name}", name not in required
        absent = ["absent"] if optional else []
        if "oneOf" in child:
            dims.append((here, "variant", absent + _leaf_labels(child)))
        elif "enum" in child:
            if optional or len(child["enum"]) > 1:
                dims.append((here, "enum", absent + list(child["enum"])))
        else:
            if optional:
                nullable = isinstance(child.get("type"), list) and "null" in child["type"]
                dims.append((here, "presence", ["absent"] + ["null"] * nullable + ["present"]))
            if child.get("properties"):
                dims += _branch_dims(child, here)
    return dims


def scope_dims(contract: Contract) -> dict[tuple[str, ...], list[Dim]]:
    """The body's enums and oneOfs, and every leaf oneOf branch's own dimensions, by scope."""
    top: list[Dim] = [(e.pointer, "enum", list(e.values)) for e in contract.enums_on("request")
                      if len(e.values) > 1 and not e.branches]
    optional = {(p, b) for p, req, b in _properties(contract.request_schema) if not req}
    for variant in contract.variants_on("request"):
        if not variant.branches:
            values = _variant_values(contract, variant.pointer, variant.branches)
            top.append((variant.pointer, "variant", ["absent"] * ((variant.pointer, ()) in optional) + values))
    out: dict[tuple[str, ...], list[Dim]] = {(): top}

    def visit(node: Any, pointer: str, chain: tuple[str, ...]) -> None:
        if not isinstance(node, dict):
            return
        if "oneOf" in node:
            prop = (node.get("discriminator") or {}).get("propertyName")
            for index, branch in enumerate(node["oneOf"]):
                here = (*chain, f"{pointer}={_label(branch, index, prop)}")
                if "oneOf" in branch:
                    visit(branch, pointer, here)
                elif branch.get("properties"):
                    out[_scope(here)] = _branch_dims(branch, pointer)
                    for name, child in branch["properties"].items():
                        visit(child, f"{pointer}/{name}", here)
            return
        for name, child in (node.get("properties") or {}).items():
            visit(child, f"{pointer}/{name}", chain)

    visit(contract.request_schema, "", ())
    return {scope: dims for scope, dims in out.items() if dims}


def _feasible(a: tuple[str, Any], b: tuple[str, Any]) -> bool:
    """A field needs the object holding it: nothing is below an absent or null field."""
    for (p, x), (q, y) in ((a, b), (b, a)):
        if q.startswith(p + "/") and x in ("absent", "null") and y != "absent":
            return False
    return True


def pair_report(contract: Contract, payloads: list[Any]) -> dict[tuple[str, ...], tuple[int, list[str]]]:
    """For each scope (oneOf branch chain): (feasible pairs expected, pairs and lone options missing), by brute force."""
    discriminators = _discriminators(contract.request_schema)
    report = {}
    for scope, dims in scope_dims(contract).items():
        members = [p for p in payloads if _matches(p, scope, discriminators)]
        seen = {tuple(_value(p, ptr, kind, discriminators) for ptr, kind, _ in dims) for p in members}
        expected, missing = 0, []
        for i, (ptr, _, options) in enumerate(dims):
            missing += [f"{ptr}={x}" for x in options if not any(row[i] == x for row in seen)]
        for (i, a), (j, b) in itertools.combinations(enumerate(dims), 2):
            for x, y in itertools.product(a[2], b[2]):
                if not _feasible((a[0], x), (b[0], y)):
                    continue
                expected += 1
                if not any(row[i] == x and row[j] == y for row in seen):
                    missing.append(f"{a[0]}={x} & {b[0]}={y}")
        report[scope] = (expected, missing)
    return report


def _scope(branches: tuple[str, ...]) -> tuple[str, ...]:
    """Drop wrapper branches (`proxy=object` before `proxy=saved`)."""
    return tuple(b for i, b in enumerate(branches)
                 if i + 1 == len(branches) or branches[i + 1].rpartition("=")[0] != b.rpartition("=")[0])


# --- the claims ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def every_case(loaded_contract: Contract) -> tuple:
    return covering_set(loaded_contract, space_id=SPACE, name_prefix=PREFIX)


@pytest.fixture(scope="module")
def cases(every_case: tuple) -> tuple:
    """What a default run sends: every claim below must hold for these alone."""
    return tuple(c for c in every_case if c.default)


def test_every_request_enum_value_is_reached(loaded_contract: Contract, cases: tuple) -> None:
    discriminators = _discriminators(loaded_contract.request_schema)
    missing = [f"{e.pointer}={v} {e.branches}" for e in loaded_contract.enums_on("request") for v in e.values
               if not any(_at(c.payload, e.pointer) == v and _matches(c.payload, e.branches, discriminators)
                          for c in cases)]
    assert missing == []
    assert sum(len(e.values) for e in loaded_contract.enums_on("request")) == 40  # the figure in the field notes


def test_every_oneof_branch_absent_and_null_included_is_reached(loaded_contract: Contract, cases: tuple) -> None:
    discriminators = _discriminators(loaded_contract.request_schema)
    optional = {(p, b) for p, req, b in _properties(loaded_contract.request_schema) if not req}
    missing = []
    for variant in loaded_contract.variants_on("request"):
        for label in variant.labels:
            if not any(_matches(c.payload, (*variant.branches, f"{variant.pointer}={label}"), discriminators)
                       for c in cases):
                missing.append(f"{variant.pointer}={label}")
        if (variant.pointer, variant.branches) in optional:
            parent = variant.pointer.rsplit("/", 1)[0]
            if not any(_matches(c.payload, variant.branches, discriminators) and isinstance(_at(c.payload, parent), dict)
                       and _at(c.payload, variant.pointer) is KeyError for c in cases):
                missing.append(f"{variant.pointer}=absent")
    assert missing == []


def test_every_optional_field_is_present_somewhere_and_absent_somewhere(loaded_contract: Contract, cases: tuple) -> None:
    discriminators = _discriminators(loaded_contract.request_schema)
    missing = []
    for pointer, required, branches in _properties(loaded_contract.request_schema):
        if required:
            continue
        parent = pointer.rsplit("/", 1)[0]
        inside = [c.payload for c in cases if _matches(c.payload, branches, discriminators)
                  and isinstance(_at(c.payload, parent) if parent else c.payload, dict)]
        if not any(_at(p, pointer) is not KeyError for p in inside):
            missing.append(f"{pointer} present {branches}")
        if not any(_at(p, pointer) is KeyError for p in inside):
            missing.append(f"{pointer} absent {branches}")
    assert missing == []


def test_every_pair_of_every_scope_appears_together(loaded_contract: Contract, cases: tuple, every_case: tuple,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    report = pair_report(loaded_contract, [c.payload for c in cases])
    assert {scope: missing for scope, (_, missing) in report.items() if missing} == {}
    assert report[()][0] == 2 * 20 + 2 * 3 + 2 * 4 + 20 * 3 + 20 * 4 + 3 * 4  # browser, locale, stealth, proxy(4)
    custom = next(n for scope, (n, _) in report.items() if scope and scope[-1].endswith("=custom"))
    assert custom == 3 * 2 * 2  # protocol(2) x username(absent, present) x password(absent, present), pairwise
    assert len(report) == 4  # the body, custom, saved, sticky (rotate has no optional field)
    with capsys.disabled():
        groups = {g: (sum(1 for c in every_case if c.group == g), sum(1 for c in cases if c.group == g))
                  for g in ("enum", "variant", "fields", "pairwise")}
        print(f"\ncovering set: {len(every_case)} rows, {len(cases)} by default; (all, default) per group {groups}")
        for scope, (n, _) in report.items():
            prefix = "/".join(f"{b.rpartition('=')[0].rsplit('/', 1)[-1]}={b.rpartition('=')[2]}" for b in scope)
            rows = [c for c in every_case if c.group == "pairwise" and (
                "/" not in c.id[len(prefix) + 1:] if c.id.startswith(prefix + "/") else not prefix and "/" not in c.id)]
            print(f"  scope {prefix or 'body'}: {len(rows)} pairwise rows ({sum(c.default for c in rows)} by default), "
                  f"{n} feasible pairs covered")


def test_single_value_rows_are_kept_but_not_sent_when_the_default_rows_cover_them(every_case: tuple) -> None:
    enum_rows = [c for c in every_case if c.group == "enum"]
    assert enum_rows and not any(c.default for c in enum_rows)
    # A row off by default repeats a default body, or is an enum row: nothing else is dropped.
    bodies = {json.dumps({k: v for k, v in c.payload.items() if k != "name"}, sort_keys=True)
              for c in every_case if c.default}
    for case in every_case:
        if not case.default and case.group != "enum":
            assert json.dumps({k: v for k, v in case.payload.items() if k != "name"}, sort_keys=True) in bodies, case.id


def test_pairwise_rows_say_what_they_were_built_from(every_case: tuple) -> None:
    for case in every_case:
        if case.group == "pairwise":
            labels = case.id.rsplit("/", 1)[-1] if "/" in case.id else case.id
            assert ",".join(f.label for f in case.factors) == labels, case.id
    custom = [c for c in every_case if c.group == "pairwise" and c.id.startswith("proxy=custom/")]
    assert custom and all([f.name for f in c.factors] == ["protocol", "password", "username"] for c in custom)
    assert all(f.pointer.startswith("/config/proxy/") and f.scope == ("/config/proxy=custom",)
               for c in custom for f in c.factors)


def test_ids_are_readable_unique_and_named_like_the_catalog(every_case: tuple) -> None:
    ids = [c.id for c in every_case]
    assert len(ids) == len(set(ids))
    for expected in ("locale=nb-NO", "stealth=high", "type=browser", "proxy=custom/protocol=socks5",
                     "proxy=null", "proxy=absent", "proxy=saved/affinity=sticky", "proxy=saved/affinity=sticky-no-key",
                     "fields=all", "fields=required-only", "proxy=saved/affinity=sticky/key=absent"):
        assert expected in ids
    assert any(i.startswith("proxy=custom/protocol=socks5,") and "username=absent" in i for i in ids)


def test_payloads_validate_are_ordinary_carry_the_space_and_the_prefix(loaded_contract: Contract, every_case: tuple) -> None:
    validator = loaded_contract.request_validator()
    for case in every_case:
        assert validator.is_valid(case.payload), (case.id, [e.message for e in validator.iter_errors(case.payload)])
        assert classify(case.payload, loaded_contract).kind == "ordinary", (case.id, classify(case.payload, loaded_contract))
        assert case.payload["spaceId"] == SPACE
        name = case.payload.get("name")
        assert name is None or name == PREFIX + case.id or (len(PREFIX + case.id) > 255 and name.startswith(PREFIX))


def test_the_set_is_deterministic_across_processes(loaded_contract: Contract, every_case: tuple) -> None:
    # String hashing is randomised per process; nothing in the set may depend on it.
    script = ("import json; from contracts import load_contract; from strategies import covering_set; "
              f"print(json.dumps([[c.id, c.payload, c.default] for c in covering_set(load_contract(), "
              f"space_id={SPACE!r}, name_prefix={PREFIX!r})]))")
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == [[c.id, c.payload, c.default] for c in every_case]


def _with_extra_values(contract: Contract, additions: dict[str, str]) -> dict[str, Any]:
    """A copy of the raw document with a value added to every enum node equal to a request enum's values."""
    raw = copy.deepcopy(dict(contract.raw))
    targets = {tuple(e.values): additions[e.pointer] for e in contract.enums_on("request") if e.pointer in additions}

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("enum"), list) and tuple(node["enum"]) in targets:
                node["enum"] = [*node["enum"], targets[tuple(node["enum"])]]
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(raw)
    return raw


def test_a_new_locale_and_stealth_level_are_covered_with_no_code_change(loaded_contract: Contract) -> None:
    raw = _with_extra_values(loaded_contract, {"/config/fingerprint/locale": "xx-XX", "/config/stealth": "extreme"})
    changed = load_contract(raw)
    assert "xx-XX" in next(e for e in changed.enums_on("request") if e.pointer == "/config/fingerprint/locale").values
    cases = [c for c in covering_set(changed, space_id=SPACE) if c.default]
    ids = [c.id for c in covering_set(changed, space_id=SPACE)]
    assert "locale=xx-XX" in ids and "stealth=extreme" in ids
    assert any("locale=xx-XX" in c.id and "stealth=extreme" in c.id for c in cases if "," in c.id)
    report = pair_report(changed, [c.payload for c in cases])
    assert {scope: missing for scope, (_, missing) in report.items() if missing} == {}
    assert all(changed.request_validator().is_valid(c.payload) for c in cases)
