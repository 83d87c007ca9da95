"""Compare two resolved operations: security, parameters, request body, responses, and the rest.

Bodies are handed to SchemaDiff; everything else that is not a body gets a
pointer into the operation (`#/security/bearerAuth`, `#/responses/201`,
`#/requestBody/content/application~1xml`) so it reads apart from a field.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from contracts.drift.emitter import Emitter
from contracts.drift.schema_diff import SchemaDiff, is_annotation, same

BODY_KEYS = ("parameters", "requestBody", "responses", "security")
Alternative = dict[str, frozenset[str]]  # one security requirement object: scheme -> scopes


def _escape(token: Any) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def diff_operations(old: Mapping[str, Any], new: Mapping[str, Any], emitter: Emitter) -> None:
    """Report every change from operation `old` to `new` (both with `$ref`s inlined) through `emitter`."""
    _security(old.get("security"), new.get("security"), emitter)
    _parameters(old.get("parameters") or [], new.get("parameters") or [], emitter)
    _request_body(old.get("requestBody") or {}, new.get("requestBody") or {}, emitter)
    _responses(old.get("responses") or {}, new.get("responses") or {}, emitter)
    changed = [k for k in dict.fromkeys([*old, *new]) if k not in BODY_KEYS and not same(old.get(k), new.get(k))]
    if changed:
        emitter.emit("operation-metadata-changed", "operation", "#", detail=", ".join(changed))


# ---- security ---------------------------------------------------------------------------------------

def _alternatives(security: Any) -> list[Alternative]:
    """The ways in: each requirement object is one alternative; none (or `[]`) means anonymous access."""
    out = [{scheme: frozenset(scopes or ()) for scheme, scopes in item.items()}
           for item in security or () if isinstance(item, dict)]
    return out or [{}]


def _lets_in(client: Alternative, requirement: Alternative) -> bool:
    """A client holding the credentials of `client` satisfies `requirement`."""
    return all(scheme in client and scopes <= client[scheme] for scheme, scopes in requirement.items())


def _security(old: Any, new: Any, emitter: Emitter) -> None:
    before, after = _alternatives(old), _alternatives(new)
    if _canonical(before) == _canonical(after):
        return
    schemes_before = {s for alt in before for s in alt}
    schemes_after = {s for alt in after for s in alt}
    stranded: set[str] = set()  # schemes of alternatives that no longer let their clients in
    reported: set[str] = set()
    for client in before:
        if any(_lets_in(client, requirement) for requirement in after):
            continue
        # The alternative closest to what these clients hold names what they now lack.
        closest = min(after, key=lambda r: sum(s not in client for s in r) + sum(
            len(r[s] - client.get(s, frozenset())) for s in r))
        stranded |= set(client)
        for scheme, scopes in closest.items():
            if scheme not in client and scheme not in schemes_before:
                emitter.emit("security-requirement-added", "request", f"#/security/{_escape(scheme)}", value=scheme)
                reported.add(scheme)
            elif scheme not in client:
                name = "+".join(sorted(client)) or "no credentials"
                emitter.emit("security-alternative-removed", "request", f"#/security/{_escape(name)}", value=name)
            elif not scopes <= client[scheme]:
                extra = sorted(scopes - client[scheme])
                emitter.emit("security-scope-added", "request", f"#/security/{_escape(scheme)}", value=extra,
                             detail=f"{scheme} now needs scope(s) {', '.join(extra)}")
    for scheme in sorted(schemes_after - schemes_before - reported):
        emitter.emit("security-alternative-added", "request", f"#/security/{_escape(scheme)}", value=scheme)
    for scheme in sorted(schemes_before - schemes_after - stranded):
        emitter.emit("security-requirement-removed", "request", f"#/security/{_escape(scheme)}", value=scheme)
    for scheme in sorted(schemes_before & schemes_after):
        lost = set().union(*(a.get(scheme, ()) for a in before)) - set().union(*(a.get(scheme, ()) for a in after))
        if lost:
            emitter.emit("security-scope-removed", "request", f"#/security/{_escape(scheme)}", value=sorted(lost),
                         detail=f"{scheme} no longer needs scope(s) {', '.join(sorted(lost))}")


def _canonical(alternatives: list[Alternative]) -> set[tuple[tuple[str, tuple[str, ...]], ...]]:
    return {tuple(sorted((s, tuple(sorted(scopes))) for s, scopes in alt.items())) for alt in alternatives}


# ---- parameters -----------------------------------------------------------------------------------

def _parameters(old: Iterable[Any], new: Iterable[Any], emitter: Emitter) -> None:
    def keyed(items: Iterable[Any]) -> dict[tuple[str, str], dict[str, Any]]:
        return {(str(p.get("in")), str(p.get("name"))): p for p in items if isinstance(p, dict)}

    before, after = keyed(old), keyed(new)
    for key in dict.fromkeys([*before, *after]):
        name, pointer = f"{key[0]} {key[1]}", f"#/parameters/{_escape(key[0])}/{_escape(key[1])}"
        was, now = before.get(key), after.get(key)
        if was is None and now is not None:
            emitter.emit("required-parameter-added" if now.get("required") else "parameter-added", "request", pointer,
                         value=name)
        elif now is None:
            emitter.emit("parameter-removed", "request", pointer, value=name)
        else:
            if bool(was.get("required")) != bool(now.get("required")):
                kind = "parameter-became-required" if now.get("required") else "parameter-became-optional"
                emitter.emit(kind, "request", pointer, value=name)
            changed = [k for k in dict.fromkeys([*was, *now]) if k != "required" and not same(was.get(k), now.get(k))]
            notes = [k for k in changed if is_annotation(k)]
            if notes:
                emitter.emit("annotation-changed", "request", pointer, detail=", ".join(notes))
            if len(notes) < len(changed):
                emitter.emit("parameter-changed", "request", pointer, value=name,
                             detail=", ".join(k for k in changed if k not in notes))


# ---- request body ---------------------------------------------------------------------------------

def _request_body(old: Mapping[str, Any], new: Mapping[str, Any], emitter: Emitter) -> None:
    if bool(old.get("required")) != bool(new.get("required")):
        kind = "request-body-became-required" if new.get("required") else "request-body-became-optional"
        emitter.emit(kind, "request", "#/requestBody/required")
    _content(old.get("content") or {}, new.get("content") or {}, emitter, "request", "#/requestBody", "")
    notes = [k for k in dict.fromkeys([*old, *new])
             if k not in ("required", "content") and not same(old.get(k), new.get(k))]
    if notes:
        emitter.emit("annotation-changed", "request", "#/requestBody", detail=", ".join(notes))


def _content(old: Mapping[str, Any], new: Mapping[str, Any], emitter: Emitter, side: str, base: str,
             status: str) -> None:
    """Media types added / removed, and the schema of every media type on both sides."""
    for media in dict.fromkeys([*old, *new]):
        pointer = f"{base}/content/{_escape(media)}"
        if media not in old:
            emitter.emit(f"{side}-media-type-added", side, pointer, value=media)
        elif media not in new:
            emitter.emit(f"{side}-media-type-removed", side, pointer, value=media)
        else:
            was, now = old[media] or {}, new[media] or {}
            where = f"{status} {media}".strip()
            SchemaDiff(emitter, side, where).compare(was.get("schema", {}), now.get("schema", {}))
            for key in dict.fromkeys([*was, *now]):
                if key != "schema" and not same(was.get(key), now.get(key)):
                    kind = "annotation-changed" if key in ("example", "examples") else "schema-keyword-changed"
                    emitter.emit(kind, side, pointer, detail=key, old=was.get(key), new=now.get(key), where=where)


# ---- responses --------------------------------------------------------------------------------------

def _responses(old: Mapping[Any, Any], new: Mapping[Any, Any], emitter: Emitter) -> None:
    # YAML reads an unquoted 200 as an int; the document means the same status either way.
    before = {str(k): v or {} for k, v in old.items()}
    after = {str(k): v or {} for k, v in new.items()}
    for status in dict.fromkeys([*before, *after]):
        pointer = f"#/responses/{_escape(status)}"
        success = status.startswith("2")
        if status not in before:
            emitter.emit("success-status-added" if success else "non-success-status-added", "response", pointer,
                         value=status)
        elif status not in after:
            emitter.emit("success-status-removed" if success else "non-success-status-removed", "response",
                         pointer, value=status)
        else:
            was, now = before[status], after[status]
            _content(was.get("content") or {}, now.get("content") or {}, emitter, "response", pointer, status)
            _headers(was.get("headers") or {}, now.get("headers") or {}, emitter, pointer)
            notes = [k for k in dict.fromkeys([*was, *now])
                     if k not in ("content", "headers") and not same(was.get(k), now.get(k))]
            if notes:
                emitter.emit("annotation-changed", "response", pointer, detail=", ".join(notes))


def _headers(old: Mapping[str, Any], new: Mapping[str, Any], emitter: Emitter, base: str) -> None:
    # Header names are case-insensitive (RFC 9110).
    before = {k.lower(): v for k, v in old.items()}
    after = {k.lower(): v for k, v in new.items()}
    for name in dict.fromkeys([*before, *after]):
        pointer = f"{base}/headers/{_escape(name)}"
        if name not in before:
            emitter.emit("response-header-added", "response", pointer, value=name)
        elif name not in after:
            emitter.emit("response-header-removed", "response", pointer, value=name)
        elif not same(before[name], after[name]):
            changed = [k for k in dict.fromkeys([*before[name], *after[name]])
                       if not same(before[name].get(k), after[name].get(k))]
            emitter.emit("response-header-changed", "response", pointer, value=name, detail=", ".join(changed))
