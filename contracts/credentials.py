"""The one credentials policy: which values are credentials, and every form they take on the wire.

Used alike by the strategies (recognisable generated credentials), the
redactor (what never leaves the process), the secrets check (what must never
come back from the server) and the schemathesis bridge.

- Which fields: properties the request schema declares under a credential
  name (`CREDENTIAL_FIELDS`), at the pointers `credential_pointers(contract)`
  finds. A free-form object (metadata) may hold a member called "password";
  it is data to reflect, not a credential.
- The API key of the `Authorization` header, and the user and password of a
  Basic header (`header_credentials`).
- Two lengths, one reason each. A leak alarm (`SEARCH_MIN_LENGTH`) needs a
  value long enough not to turn up by chance inside an id or a timestamp;
  masking (`MASK_MIN_LENGTH`) hides anything longer than a few characters,
  because hiding a 5-character password costs nothing and showing it costs
  the password.
- The forms (`forms`): raw, JSON-escaped (ASCII and not), URL-encoded, and the
  base64 encodings HTTP Basic gives it (`value:`, `:value`, `user:password`),
  standard and URL-safe, with and without padding.
"""
from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Iterable, Iterator, Mapping
from urllib.parse import quote

CREDENTIAL_FIELDS = frozenset({"password", "username"})
SEARCH_MIN_LENGTH = 8
MASK_MIN_LENGTH = 4
CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"})
# HTTP authentication scheme names (IANA registry, lower-cased): words, not secrets.
AUTH_SCHEMES = frozenset({"basic", "bearer", "digest", "hoba", "mutual", "negotiate", "oauth", "token",
                          "scram-sha-1", "scram-sha-256", "vapid", "dpop", "gnap", "privatetoken"})


def is_credential_field(name: object) -> bool:
    return isinstance(name, str) and name in CREDENTIAL_FIELDS


def _escape(token: object) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


_POINTERS: dict[int, tuple[Any, tuple[str, ...]]] = {}


def credential_pointers(schema: Mapping[str, Any]) -> tuple[str, ...]:
    """Where a resolved request schema declares a credential (e.g. /config/proxy/password).

    Asked for every request judged: kept per schema object (the schema is held, so its id stays its own).
    """
    hit = _POINTERS.get(id(schema))
    if hit is not None and hit[0] is schema:
        return hit[1]
    found = list(_credential_pointers(schema))
    _POINTERS[id(schema)] = (schema, tuple(found))
    return tuple(found)


def _credential_pointers(schema: Mapping[str, Any]) -> list[str]:
    found: list[str] = []

    def walk(node: Any, path: str) -> None:
        if not isinstance(node, dict):
            return
        for key in ("oneOf", "anyOf", "allOf"):
            for branch in node.get(key) or ():
                walk(branch, path)
        for name, child in (node.get("properties") or {}).items():
            here = f"{path}/{_escape(name)}"
            if is_credential_field(name) and here not in found:
                found.append(here)
            walk(child, here)
        if isinstance(node.get("items"), dict):
            walk(node["items"], f"{path}/*")

    walk(schema, "")
    return found


def basic_forms(text: str) -> list[str]:
    """base64 of `text` as HTTP Basic carries it: standard and URL-safe, with and without padding."""
    raw = text.encode("utf-8")
    out = []
    for encoded in (base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()):
        out += [encoded, encoded.rstrip("=")]
    return out


def forms(value: str) -> set[str]:
    """Every form a credential takes on the wire or in a log, the value itself included."""
    found = {value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1], quote(value, safe="")}
    for text in (value, value + ":", ":" + value):
        found.update(basic_forms(text))
    return found


def pair_forms(user: str, password: str) -> set[str]:
    """The Basic forms of a user and password sent together (a proxy URL's `user:password`)."""
    return set(basic_forms(f"{user}:{password}"))


def payload_credentials(payload: Any) -> Iterator[tuple[str, str]]:
    """(pointer, value) of every credential-named string member anywhere in a JSON value.

    For redaction: it masks by name wherever a credential could sit. The
    secrets check searches only what the contract declares (credential_pointers).
    """
    stack: list[tuple[Any, str]] = [(payload, "")]
    while stack:
        node, path = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                here = f"{path}/{_escape(key)}"
                if is_credential_field(key) and isinstance(value, str):
                    yield here, value
                stack.append((value, here))
        elif isinstance(node, list):
            stack.extend((item, f"{path}/{index}") for index, item in enumerate(node))


def payload_pairs(payload: Any) -> Iterator[tuple[str, str]]:
    """(user, password) of every object holding both, in any JSON value."""
    stack = [payload]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            user, password = node.get("username"), node.get("password")
            if isinstance(user, str) and isinstance(password, str):
                yield user, password
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def header_credentials(headers: Mapping[str, str]) -> dict[str, str]:
    """The credentials an Authorization header carries, by a readable name (empty when none)."""
    header = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    scheme, _, token = header.strip().partition(" ")
    # A bare value is a key sent without a scheme, unless it is only a scheme's name ("Bearer" alone).
    token = token.strip() or (scheme if scheme.lower() not in AUTH_SCHEMES else "")
    found: dict[str, str] = {}
    if token:
        found["the API key (Authorization header)"] = token
        if scheme.lower() == "basic":
            try:
                user, _, secret = base64.b64decode(token, validate=True).decode("utf-8").partition(":")
                found["the Basic user"], found["the Basic password"] = user, secret
            except (binascii.Error, UnicodeDecodeError, ValueError):
                pass
    return found


def searchable(values: Iterable[str]) -> list[str]:
    """The values long enough for a leak alarm."""
    return [v for v in values if isinstance(v, str) and len(v) >= SEARCH_MIN_LENGTH]
