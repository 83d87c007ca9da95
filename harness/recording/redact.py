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

import re
import threading
from typing import Any, Iterable, Mapping

from contracts.checks.model import MISSING, SentRequest
from contracts.credentials import (CREDENTIAL_HEADERS, MASK_MIN_LENGTH, forms, header_credentials,
                                   is_credential_field, pair_forms, payload_credentials, payload_pairs)

MASK = "***"
LONG_SECRET = 256


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
        self._version = 0  # bumped when a new secret arrives; the compiled pattern follows it
        self._compiled: tuple[re.Pattern[str] | None, int] = (None, 0)
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
                    self._version += 1

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
    def _pattern(self) -> re.Pattern[str] | None:
        with self._lock:
            if self._compiled[1] == self._version:
                return self._compiled[0]
            words, version = sorted(self._secrets), self._version
        compiled = re.compile(_trie_pattern(words)) if words else None
        with self._lock:
            self._compiled = (compiled, version)
        return compiled

    def text(self, value: str) -> str:
        if not value:
            return value
        for secret in self._long:
            if secret in value:
                value = value.replace(secret, MASK)
        pattern = self._pattern()
        return pattern.sub(MASK, value) if pattern is not None else value

    def scrub(self, value: Any) -> Any:
        """`text()` on every string (keys too) of a JSON-like value, keeping its structure.

        Scrub before encoding, never the encoded text: a short secret such as
        "0017" would otherwise also hit the JSON escape `\\u0017` and break the line.
        """
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):  # JSON values: a dict, not any Mapping (typing's isinstance is slow)
            return {self.scrub(k) if isinstance(k, str) else k: self.scrub(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.scrub(item) for item in value]
        return value

    def payload(self, value: Any) -> Any:
        """A JSON value with credential fields masked and every string scrubbed."""
        if isinstance(value, dict):
            return {k: (MASK if is_credential_field(k) and isinstance(v, str) else self.payload(v))
                    for k, v in value.items()}
        if isinstance(value, list):
            return [self.payload(item) for item in value]
        if isinstance(value, str):
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


# One per process: the secrets a process has seen are the ones its outputs must not show.
REDACTOR = Redactor()
