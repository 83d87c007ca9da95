"""Keep secrets inside the process: every text that leaves it goes through a Redactor.

What a credential is, and the forms it takes, is the one policy of
contracts/credentials.py. The redactor learns the API key at start and the
credentials of every request as it is recorded (header and credential-named
payload fields, and their wire forms); `text()` scrubs them from any string,
`payload()` masks credential fields structurally, `headers()` masks credential
headers. Values shorter than MASK_MIN_LENGTH are masked structurally only:
scrubbing a two-letter password from free text would mangle every message and
hide nothing.
"""
from __future__ import annotations

import functools
import json
import re
import threading
from typing import Any, Iterable, Mapping

from contracts.checks.model import MISSING, SentRequest
from contracts.credentials import (CREDENTIAL_HEADERS, MASK_MIN_LENGTH, forms, header_credentials,
                                   is_credential_field, pair_forms, payload_credentials, payload_pairs)

MASK = "***"
LONG_SECRET = 256
PENDING_MAX = 64  # secrets learned since the patterns were compiled, looked for one by one


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


class Redactor:
    """The secrets this process knows, and the masks that keep them in."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        # What masking reads, swapped whole under the lock: (scrub pattern, search pattern, pending).
        # The patterns cover the secrets known when they were compiled; the secrets learned since
        # are `pending`, looked for as plain strings until PENDING_MAX of them make it worth
        # compiling again (a run learns new credentials with nearly every request: compiling a
        # pattern of thousands of secrets each time cost more than the masking). The search
        # pattern also holds each secret's JSON-escaped form (see `absent`).
        self._view: tuple[re.Pattern[str] | None, re.Pattern[str] | None, tuple[str, ...]] = (None, None, ())
        # Long secrets (a boundary case sends a 60 000-character password) are replaced as plain
        # strings, longest first, before the pattern runs: in the pattern they would make every
        # recompilation parse them again (and a trie one level per character recurse that deep).
        self._long: list[str] = []

    # -- learning ----------------------------------------------------------------------------
    def register(self, *values: object) -> None:
        """Scrub these exact strings from now on (those of at least MASK_MIN_LENGTH characters)."""
        with self._lock:
            for value in values:
                if not isinstance(value, str) or len(value) < MASK_MIN_LENGTH:
                    continue
                if len(value) > LONG_SECRET:
                    if value not in self._long:
                        self._long = sorted([*self._long, value], key=len, reverse=True)
                elif value not in self._secrets:
                    self._secrets.add(value)
                    scrub, search, pending = self._view
                    self._view = (scrub, search, (*pending, value))
            if len(self._view[2]) > PENDING_MAX:
                self._compile()

    def learn_credential(self, value: object) -> None:
        """A credential and every form it takes on the wire (contracts/credentials.py)."""
        if isinstance(value, str) and len(value) >= MASK_MIN_LENGTH:
            self.register(*forms(value))

    def learn_payload(self, payload: Any) -> None:
        """Every credential-named member anywhere in a JSON value, and user:password pairs."""
        for _, value in payload_credentials(payload):
            self.learn_credential(value)
        for user, password in payload_pairs(payload):
            if len(user + password) >= MASK_MIN_LENGTH:
                self.register(*pair_forms(user, password))

    def learn_request(self, request: SentRequest) -> None:
        """What a request carried that must not leave the process: its auth header's credentials, its payload's."""
        for value in header_credentials(request.headers).values():
            self.learn_credential(value)
        if request.payload is not MISSING:
            self.learn_payload(request.payload)

    def secrets(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._secrets) | frozenset(self._long)

    # -- masking -----------------------------------------------------------------------------
    def _compile(self) -> re.Pattern[str] | None:
        """Compile the patterns for every secret known (the caller holds the lock); the scrub pattern."""
        words = set(self._secrets)
        scrub = re.compile(_trie_pattern(sorted(words))) if words else None
        escaped = {_escaped(word) for word in words} - words
        search = scrub if not escaped else re.compile(_trie_pattern(sorted(words | escaped)))
        self._view = (scrub, search, ())
        return scrub

    def absent(self, encoded: str) -> bool:
        """True when no learned secret can be in the value whose JSON text (ensure_ascii=False) this is.

        JSON escapes each character on its own, so a secret inside any string of
        the value shows in the text as itself or as its escaped form: a search for
        both never misses one (a hit across two strings only costs a full scrub).
        Most records carry no secret at all: one search instead of a regex per string.
        """
        _, search, pending = self._view
        if any(secret in encoded or _escaped(secret) in encoded for secret in (*self._long, *pending)):
            return False
        return search is None or search.search(encoded) is None

    def _absent_in(self, value: Any) -> bool:
        try:
            return self.absent(json.dumps(value, ensure_ascii=False, default=str))
        except (TypeError, ValueError):  # keys json cannot write: scrub string by string
            return False

    def text(self, value: str) -> str:
        if not value:
            return value
        for secret in self._long:
            if secret in value:
                value = value.replace(secret, MASK)
        pattern, _, pending = self._view
        if any(secret in value for secret in pending):
            # A secret learned since the last compile: compile now, so the longest match still wins
            # (replacing it alone could cut a longer secret that holds it, leaving that one's ends).
            with self._lock:
                pattern = self._compile()
        return pattern.sub(MASK, value) if pattern is not None else value

    def scrub(self, value: Any) -> Any:
        """`text()` on every string (keys too) of a JSON-like value, keeping its structure.

        Scrub before encoding, never the encoded text: a short secret such as
        "0017" would otherwise also hit the JSON escape `\\u0017` and break the line.
        (The encoded text is only searched, see `absent`.)
        """
        if isinstance(value, str):
            return self.text(value)
        if not isinstance(value, (dict, list, tuple)) or self._absent_in(value):
            return value
        return self._scrub(value)

    def _scrub(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):  # JSON values: a dict, not any Mapping (typing's isinstance is slow)
            return {self._scrub(k) if isinstance(k, str) else k: self._scrub(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self._scrub(item) for item in value]
        return value

    def payload(self, value: Any) -> Any:
        """A JSON value with credential fields masked and every string scrubbed."""
        return self._payload(value, scrub=isinstance(value, str) or not self._absent_in(value))

    def _payload(self, value: Any, *, scrub: bool) -> Any:
        if isinstance(value, dict):
            return {k: (MASK if is_credential_field(k) and isinstance(v, str) else self._payload(v, scrub=scrub))
                    for k, v in value.items()}
        if isinstance(value, list):
            return [self._payload(item, scrub=scrub) for item in value]
        if isinstance(value, str) and scrub:
            return self.text(value)
        return value

    def header(self, name: str, value: str) -> str:
        if name.lower() in CREDENTIAL_HEADERS:
            scheme, sep, _ = value.partition(" ")
            return f"{scheme} {MASK}" if sep and scheme.lower() in ("bearer", "basic", "token") else MASK
        return self.text(value)

    def headers(self, values: Mapping[str, str]) -> dict[str, str]:
        return {k: self.header(k, v) for k, v in values.items()}

    def lines(self, values: Iterable[str]) -> list[str]:
        return [self.text(v) for v in values]


@functools.lru_cache(maxsize=8192)
def _escaped(secret: str) -> str:
    """How a string shows inside a JSON text written with ensure_ascii=False."""
    return json.dumps(secret, ensure_ascii=False)[1:-1]


# One per process: the secrets a process has seen are the ones its outputs must not show.
REDACTOR = Redactor()
