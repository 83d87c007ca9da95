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
import threading
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

import ahocorasick

from contracts.checks.model import MISSING, SentRequest
from contracts.credentials import (CREDENTIAL_HEADERS, MASK_MIN_LENGTH, forms, header_credentials,
                                   is_credential_field, pair_forms, payload_credentials, payload_pairs)

MASK = "***"
LONG_SECRET = 256
PENDING_MAX = 64  # secrets learned since the patterns were compiled, looked for one by one


def _automaton(words: Iterable[str]) -> ahocorasick.Automaton:
    """One Aho-Corasick automaton for many literals: every occurrence of any of them in one pass over a text.

    A run learns thousands of secrets (every generated proxy credential and its
    base64 forms). A regex alternation of them, even shaped as a trie, tried its
    branches at every position: 2.5 ms per record with 1,500 secrets, the run's
    biggest cost. The automaton's pass is linear in the text whatever their number.
    """
    automaton = ahocorasick.Automaton()
    for word in words:
        automaton.add_word(word, len(word))
    automaton.make_automaton()
    return automaton


def _spans(automaton: ahocorasick.Automaton, value: str) -> list[tuple[int, int]]:
    return [(end - length + 1, end + 1) for end, length in automaton.iter(value)]


@dataclass(frozen=True)
class _Level:
    """Secrets compiled together: an automaton that masks them, one that finds them in JSON text too."""

    words: frozenset[str]
    scrub: ahocorasick.Automaton
    search: ahocorasick.Automaton

    @classmethod
    def of(cls, words: set[str]) -> _Level:
        scrub = _automaton(words)
        escaped = {_escaped(word) for word in words} - words
        search = scrub if not escaped else _automaton(words | escaped)
        return cls(frozenset(words), scrub, search)

    def found_in(self, encoded: str) -> bool:
        return next(self.search.iter(encoded), None) is not None


def _masked(value: str, spans: list[tuple[int, int]]) -> str:
    """`value` with every span replaced by MASK, overlapping spans (two patterns' matches) as one."""
    out, position = [], 0
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    for start, end in merged:
        out += [value[position:start], MASK]
        position = end
    out.append(value[position:])
    return "".join(out)


class Redactor:
    """The secrets this process knows, and the masks that keep them in."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        # What masking reads, swapped whole under the lock: (levels, pending). A run learns new
        # credentials with nearly every request, thousands in all: one automaton built again for
        # each would cost more than the masking. So the secrets learned since the last build are
        # `pending` (looked for as plain strings), and every PENDING_MAX of them become a level,
        # merged with the levels no larger than itself (a binary counter: each secret is compiled
        # about log2(n) times over a run, and a search runs a handful of automatons).
        self._view: tuple[tuple[_Level, ...], tuple[str, ...]] = ((), ())
        self._seen: tuple[Any, dict[str, bool]] = (None, {})  # `absent`'s answers for the current view
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
                    if value in self._long:
                        continue
                    self._long = sorted([*self._long, value], key=len, reverse=True)
                    # Its head is a secret of its own: `absent` finds a long secret by its head, and
                    # text cut short within one (a preview) is masked too.
                    value = value[:LONG_SECRET]
                if value not in self._secrets:
                    self._secrets.add(value)
                    levels, pending = self._view
                    self._view = (levels, (*pending, value))
            if len(self._view[1]) >= PENDING_MAX:
                self._flush()

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
    def _flush(self) -> None:
        """The pending secrets become a level, merged with every level no larger (the caller holds the lock)."""
        levels, pending = list(self._view[0]), set(self._view[1])
        while levels and len(levels[-1].words) <= len(pending):
            pending |= levels.pop().words
        self._view = ((*levels, _Level.of(pending)), ())

    def absent(self, encoded: str) -> bool:
        """True when no learned secret can be in the value whose JSON text (ensure_ascii=False) this is.

        JSON escapes each character on its own, so a secret inside any string of
        the value shows in the text as itself or as its escaped form: a search for
        both never misses one (a hit across two strings only costs a full scrub).
        Most records carry no secret at all: one search instead of a regex per string.
        """
        view = self._view
        seen_view, seen = self._seen
        if seen_view is not view:  # new secrets since: what was absent may be there now
            seen = {}
            self._seen = (view, seen)
        elif encoded in seen:  # a record holds one payload several times (its text, its curl line)
            return seen[encoded]
        levels, pending = view  # a long secret is found by its head, a secret of its own
        found = any(secret in encoded or _escaped(secret) in encoded for secret in pending) or any(
            level.found_in(encoded) for level in levels)
        if len(seen) < 64:
            seen[encoded] = not found
        return not found

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
        levels, pending = self._view
        spans = [span for level in levels for span in _spans(level.scrub, value)]
        for secret in pending:  # every occurrence, overlapping ones too: the masks are merged
            start = value.find(secret)
            while start >= 0:
                spans.append((start, start + len(secret)))
                start = value.find(secret, start + 1)
        return _masked(value, spans) if spans else value

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
