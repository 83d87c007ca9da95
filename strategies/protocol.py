"""Protocol cases: credentials presented wrongly, bodies that are not a JSON object, wrong media types, other methods.

Data, not tests: each table names what is sent and why; `{key}` stands for the
API key and `{key_basic}` for the base64 of `<key>:` (HTTP Basic with the key as
the user), `{random}` for a fresh random token, so no key is ever part of a case.
The harness renders them when it sends.

- bad credentials: every way of not presenting the key, each wrong in exactly
  one way; the real key appears in several, so a server that matches the key
  anywhere in the header is caught. Expected: 401 (403 accepted), never a 2xx.
- malformed bodies: not JSON, not a JSON object, or empty. Expected: a 4xx.
- wrong media types: valid JSON data labelled otherwise. Expected: 415 (any
  4xx); a 2xx is only a warning (the data is valid, the contract is silent).
- other methods on the path: no 5xx (501 excepted), a 405 carries Allow; a 2xx
  is a warning (the real API may serve the method there).
- oversize: 5 MB of schema-valid JSON (a padded free-form object): 413 or any
  4xx, or a 200; never a 5xx or a hang.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable

from contracts import Contract
from strategies.builder import Builder
from strategies.domains import Domains, load_domains

OVERSIZE_BYTES = 5 * 1024 * 1024

# label -> Authorization header template (None: no header at all).
BAD_CREDENTIALS: dict[str, str | None] = {
    "missing": None,
    "scheme=Basic": "Basic {key_basic}",
    "scheme=Token": "Token {key}",
    "empty-bearer": "Bearer",
    "empty-bearer-with-space": "Bearer ",
    "malformed=no-scheme": "{key}",
    "malformed=no-space": "Bearer{key}",
    "unknown-key": "Bearer {random}",
    "key-with-suffix": "Bearer {key}x",
}


@dataclass(frozen=True)
class BadBody:
    body: Callable[[dict[str, Any]], bytes]  # from a valid payload
    content_type: str | None = "application/json"
    why: str = ""


MALFORMED: dict[str, BadBody] = {
    "json=truncated": BadBody(lambda p: json.dumps(p).encode()[:-3], why="not JSON: cut short"),
    "json=trailing-garbage": BadBody(lambda p: json.dumps(p).encode() + b"}", why="not JSON: a stray brace"),
    "json=single-quotes": BadBody(lambda p: json.dumps(p).replace('"', "'").encode(), why="not JSON: single quotes"),
    "json=invalid-utf8": BadBody(lambda p: b'{"name": "\xff\xfe"}', why="not UTF-8"),
    "json=array": BadBody(lambda p: json.dumps([p]).encode(), why="a JSON array, not an object"),
    "json=string": BadBody(lambda p: json.dumps(json.dumps(p)).encode(), why="a JSON string, not an object"),
    "json=null": BadBody(lambda p: b"null", why="JSON null, not an object"),
    "body=empty": BadBody(lambda p: b"", why="no body; the errata mark the body required"),
}

WRONG_MEDIA_TYPE: dict[str, BadBody] = {
    "content-type=text/plain": BadBody(lambda p: json.dumps(p).encode(), "text/plain", "valid JSON as text/plain"),
    "content-type=form": BadBody(lambda p: json.dumps(p).encode(), "application/x-www-form-urlencoded",
                                 "valid JSON labelled as a form"),
    "content-type=missing": BadBody(lambda p: json.dumps(p).encode(), None, "valid JSON without a Content-Type"),
}

# Methods the document does not list for the path (HEAD and OPTIONS are the HTTP stack's business).
OTHER_METHODS = ("GET", "PUT", "PATCH", "DELETE")


def named_payload(contract: Contract, *, space_id: str, name_prefix: str, label: str,
                  domains: Domains | None = None) -> dict[str, Any]:
    """A minimal valid payload named `<prefix><label>` (so a broken server's runtime is found by the prefix)."""
    domains = domains or load_domains()
    builder = Builder(contract, space_id=space_id, name_prefix=name_prefix, domains=domains)
    name = domains.role("name")
    return builder.build({name: builder.name_for(label)} if name else {}, seed=label)


def free_form_member(schema: dict[str, Any]) -> str | None:
    """A top-level property declared as an object without properties (e.g. metadata): where to pad a body."""
    for name, sub in (schema.get("properties") or {}).items():
        if sub.get("type") == "object" and not sub.get("properties"):
            return name
    return None
