"""Keep secrets inside the process: every text that leaves it goes through here.

The API key and every proxy username/password the suite sends are registered
as they are used; `text()` scrubs them from any string, `payload()` masks
credential fields structurally, `headers()` masks credential headers. Values
shorter than MIN_SCRUB are masked structurally only: scrubbing a two-letter
password from free text would mangle every message and hide nothing.
"""
from __future__ import annotations

import base64
import re
import threading
from typing import Any

MASK = "***"
MIN_SCRUB = 4
SECRET_FIELDS = frozenset({"password", "username"})
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"})

_lock = threading.Lock()
_secrets: set[str] = set()
_version = 0  # bumped when a new secret arrives; the compiled pattern follows it
_compiled: tuple[re.Pattern[str] | None, int] = (None, 0)


def register(*values: object) -> None:
    global _version
    with _lock:
        for value in values:
            if isinstance(value, str) and len(value) >= MIN_SCRUB and value not in _secrets:
                _secrets.add(value)
                _version += 1


def _encodings(value: str) -> list[str]:
    # How a credential travels (and comes back) besides verbatim: HTTP Basic
    # credentials (`key:`, `:key`, `user:password`) in standard and URL-safe
    # base64, with and without padding.
    forms = []
    for text in (value, value + ":", ":" + value):
        raw = text.encode("utf-8")
        for encoded in (base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()):
            forms += [encoded, encoded.rstrip("=")]
    return forms


def register_credential(value: object) -> None:
    """Register a credential and the base64 forms it takes in Basic auth headers."""
    if isinstance(value, str) and len(value) >= MIN_SCRUB:
        register(value, *_encodings(value))


def secrets() -> frozenset[str]:
    with _lock:
        return frozenset(_secrets)


def register_payload(payload: Any) -> None:
    """Register every credential field found anywhere in a JSON value."""
    if isinstance(payload, dict):
        for key, value in payload.items():
            if key in SECRET_FIELDS:
                register_credential(value)
            register_payload(value)
        user, password = payload.get("username"), payload.get("password")
        if isinstance(user, str) and isinstance(password, str) and len(user + password) >= MIN_SCRUB:
            register(*_encodings(f"{user}:{password}")[:4])  # proxy Basic auth: base64("user:password")
    elif isinstance(payload, list):
        for item in payload:
            register_payload(item)


def _trie_pattern(words: list[str]) -> str:
    """One regex for many literals, sharing prefixes, longest match first.

    A run registers thousands of secrets (every generated proxy credential and
    its base64 forms); one replace per secret per string made redaction the
    suite's biggest cost. Groups open only where secrets branch, so a long
    secret adds no nesting.
    """
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = True

    def build(node: dict[str, Any]) -> str:
        ends = "" in node
        branches = [re.escape(char) + build(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 and not ends else "(?:" + "|".join(branches) + ")"
        return body + "?" if ends else body

    return build(trie)


def _pattern() -> re.Pattern[str] | None:
    global _compiled
    with _lock:
        if _compiled[1] == _version:
            return _compiled[0]
        words, version = sorted(_secrets), _version
    compiled = re.compile(_trie_pattern(words)) if words else None
    with _lock:
        _compiled = (compiled, version)
    return compiled


def text(value: str) -> str:
    pattern = _pattern()
    return pattern.sub(MASK, value) if pattern is not None and value else value


def scrub(value: Any) -> Any:
    """`text()` on every string (keys too) of a JSON-like value, keeping its structure.

    Scrub before encoding, never the encoded text: a short secret such as
    "0017" would otherwise also hit the JSON escape `\\u0017` and break the line.
    """
    if isinstance(value, str):
        return text(value)
    if isinstance(value, dict):
        return {scrub(k) if isinstance(k, str) else k: scrub(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub(item) for item in value]
    return value


def payload(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: (MASK if k in SECRET_FIELDS and isinstance(v, str) else payload(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [payload(item) for item in value]
    if isinstance(value, str):
        return text(value)
    return value


def header(name: str, value: str) -> str:
    if name.lower() in SECRET_HEADERS:
        scheme, sep, _ = value.partition(" ")
        return f"{scheme} {MASK}" if sep and scheme.lower() in ("bearer", "basic", "token") else MASK
    return text(value)


def headers(values: dict[str, str]) -> dict[str, str]:
    return {k: header(k, v) for k, v in values.items()}
