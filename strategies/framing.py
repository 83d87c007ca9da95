"""Framing: the forms of one valid request a correct server must accept, and those it must refuse.

The same valid payload (built with the Builder, named `name_prefix` + the
case id) framed differently:

- accept: what RFC 9110 (HTTP semantics) and RFC 8259 (JSON) say is the same
  request: media-type parameters and case, header-name case, auth-scheme case,
  one or more spaces after the scheme, insignificant whitespace in the body,
  a trailing newline, members in another order, escaped and raw non-ASCII. A
  refusal is a failure (valid input rejected).
- refuse: the valid API key carried some other way than the contract's
  security scheme (HTTP Bearer, `Authorization: Bearer <key>`): another
  scheme, no scheme, a quoted key, another header, the query string. Each must
  get a 4xx (401 expected), never a 2xx.

Cases are data (`ACCEPT`, `REFUSE` below, each with its RFC section); nothing
is sent here. `headers` is the whole header set to send, names in the case
given; `{key}` stands for the API key and `{key_basic}` for the base64 of
`<key>:` (HTTP Basic with the key as the user), so the key itself is never in
a case: `render()` puts it in. Left out, because a correct server may accept
them: `?access_token=<key>` (RFC 6750 2.3 lets a resource server support it),
a BOM before the body (RFC 8259 8.1: a recipient MAY ignore it), and unknown
media-type parameters (RFC 8259 defines none; their meaning is open).
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Mapping

from contracts import Contract
from strategies.builder import Builder
from strategies.domains import Domains, load_domains

Expect = Literal["accept", "refuse"]
DEFAULT_HEADERS: Mapping[str, str] = {"Authorization": "Bearer {key}", "Content-Type": "application/json"}
NON_ASCII = " café 😀 Ωmega"  # in the name, so escaped and raw forms of the body differ


@dataclass(frozen=True)
class FramingCase:
    id: str  # `framing:content-type=charset-utf-8`
    headers: Mapping[str, str]  # the whole set to send; `{key}` / `{key_basic}` stand for the key
    body: bytes = field(repr=False)
    expect: Expect
    why: str  # the RFC section that decides it
    query: str = ""  # a query string to append to the path (`{key}` may stand in it)
    payload: Any = field(default=None, repr=False)  # the JSON value the body carries

    @property
    def label(self) -> str:
        return f"{self.id}: {self.expect} ({self.why})"

    def render(self, api_key: str) -> tuple[dict[str, str], str]:
        """The headers and query string with the key put in (for sending only: never log the result)."""
        basic = base64.b64encode(f"{api_key}:".encode()).decode()

        def fill(text: str) -> str:
            return text.replace("{key_basic}", basic).replace("{key}", api_key)

        return {name: fill(value) for name, value in self.headers.items()}, fill(self.query)


def _reordered(value: Any) -> Any:
    """The same JSON value with every object's members in reverse order."""
    if isinstance(value, dict):
        return {k: _reordered(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [_reordered(v) for v in value]
    return value


Body = Callable[[Any], bytes]
BODIES: Mapping[str, Body] = {
    "compact": lambda p: json.dumps(p, separators=(",", ":")).encode(),
    "plain": lambda p: json.dumps(p).encode(),
    "pretty": lambda p: json.dumps(p, indent=2).encode(),
    "tabs-crlf": lambda p: (" \t\r\n" + json.dumps(p, indent="\t").replace("\n", "\r\n") + "\r\n\t ").encode(),
    "trailing-newline": lambda p: json.dumps(p).encode() + b"\n",
    "reordered": lambda p: json.dumps(_reordered(p)).encode(),
    "escaped": lambda p: json.dumps(p, ensure_ascii=True).replace("/", "\\/").encode(),
    "raw-utf8": lambda p: json.dumps(p, ensure_ascii=False).encode("utf-8"),
}

@dataclass(frozen=True)
class Form:
    """One row: header changes (None removes a header; a key `rename:Old` renames it), body form, query."""

    label: str
    changes: Mapping[str, str | None]
    why: str
    body: str = "plain"  # a key of BODIES
    query: str = ""


ACCEPT: tuple[Form, ...] = (
    Form("content-type=charset-utf-8", {"Content-Type": "application/json; charset=utf-8"},
         "RFC 9110 8.3.1 (a media type may carry parameters); RFC 8259 11: a charset parameter has "
         "no effect on compliant recipients"),
    Form("content-type=upper-case", {"Content-Type": "Application/JSON"},
         "RFC 9110 8.3.1: the type and subtype tokens are case-insensitive"),
    Form("content-type=charset-upper-case-no-space", {"Content-Type": "application/json;charset=UTF-8"},
         "RFC 9110 5.6.6: whitespace around ';' is optional; RFC 9110 8.3.2: charset names are case-"
         "insensitive"),
    Form("content-type=space-before-semicolon", {"Content-Type": "application/json ; charset=utf-8"},
         'RFC 9110 5.6.6: parameters = *( OWS ";" OWS [ parameter ] ), whitespace before \';\' '
         "included"),
    Form("content-type=quoted-charset", {"Content-Type": 'application/json; charset="utf-8"'},
         "RFC 9110 5.6.6: a parameter value as a token or as a quoted-string is the same value"),
    Form("header-name=content-type-lower-case", {"rename:Content-Type": "content-type"},
         "RFC 9110 5.1: field names are case-insensitive"),
    Form("header-name=content-type-upper-case", {"rename:Content-Type": "CONTENT-TYPE"},
         "RFC 9110 5.1: field names are case-insensitive"),
    Form("header-name=authorization-lower-case", {"rename:Authorization": "authorization"},
         "RFC 9110 5.1: field names are case-insensitive"),
    Form("auth-scheme=lower-case", {"Authorization": "bearer {key}"},
         "RFC 9110 11.1: the authentication scheme is a case-insensitive token (RFC 6750 2.1 for "
         "Bearer)"),
    Form("auth-scheme=upper-case", {"Authorization": "BEARER {key}"},
         "RFC 9110 11.1: the authentication scheme is a case-insensitive token"),
    Form("auth-scheme=two-spaces", {"Authorization": "Bearer  {key}"},
         "RFC 9110 11.4: credentials = auth-scheme [ 1*SP ( token68 / #auth-param ) ]: one or more "
         "spaces"),
    Form("authorization=trailing-whitespace", {"Authorization": "Bearer {key} "},
         "RFC 9110 5.5: a field value does not include leading or trailing whitespace"),
    Form("body=pretty-printed", {},
         "RFC 8259 2: insignificant whitespace is allowed before or after any structural character", body="pretty"),
    Form("body=tabs-and-crlf", {},
         "RFC 8259 2: whitespace is space, horizontal tab, line feed and carriage return, around the"
         " value too", body="tabs-crlf"),
    Form("body=trailing-newline", {},
         "RFC 8259 2: JSON-text = ws value ws", body="trailing-newline"),
    Form("body=members-reordered", {},
         "RFC 8259 4: an object is an unordered collection of members", body="reordered"),
    Form("body=unicode-escapes", {},
         "RFC 8259 7: any character may be escaped (\\u00e9, a surrogate pair for U+1F600, \\/ for "
         "'/')", body="escaped"),
    Form("body=raw-utf8", {},
         "RFC 8259 8.1: JSON text is UTF-8; non-ASCII characters need no escaping", body="raw-utf8"),
)

REFUSE: tuple[Form, ...] = (
    Form("auth=basic-with-the-key", {"Authorization": "Basic {key_basic}"},
         "the contract's security scheme is HTTP Bearer (RFC 6750 2.1); Basic (RFC 7617) with the "
         "key as its user is another scheme"),
    Form("auth=token-scheme", {"Authorization": "Token {key}"},
         "RFC 9110 11.4: the scheme names how the credentials are meant; 'Token' is not Bearer"),
    Form("auth=no-scheme", {"Authorization": "{key}"},
         "RFC 9110 11.4: credentials begin with an auth-scheme; a bare key is none"),
    Form("auth=no-space", {"Authorization": "Bearer{key}"},
         "RFC 9110 11.4: 1*SP separates the scheme from the token; 'Bearer<key>' is one unknown "
         "scheme"),
    Form("auth=quoted-key", {"Authorization": 'Bearer "{key}"'},
         'RFC 6750 2.1: b64token has no quotes, so the credential is \'"<key>"\', which is not the key'),
    Form("auth=x-api-key-only", {"Authorization": None, "X-Api-Key": "{key}"},
         "the contract's security scheme is HTTP Bearer in the Authorization header, not an API-key "
         "header"),
    Form("auth=bearer-in-x-api-key", {"Authorization": None, "X-Api-Key": "Bearer {key}"},
         "RFC 6750 2.1: Bearer credentials go in the Authorization header"),
    Form("auth=proxy-authorization-only", {"Authorization": None, "Proxy-Authorization": "Bearer {key}"},
         "RFC 9110 11.7.2: Proxy-Authorization is for a proxy, not the origin server"),
    Form("auth=key-in-query-only", {"Authorization": None},
         "the contract's security scheme is HTTP Bearer in the Authorization header; a query "
         "parameter is not it", query="api_key={key}"),
)


def _headers(changes: Mapping[str, str | None]) -> dict[str, str]:
    headers = dict(DEFAULT_HEADERS)
    for name, value in changes.items():
        if name.startswith("rename:"):
            old = name.split(":", 1)[1]
            headers = {(value if k == old else k): v for k, v in headers.items()}  # type: ignore[misc]
        elif value is None:
            headers.pop(name, None)
        else:
            headers[name] = value
    return headers


def framing_cases(contract: Contract, *, space_id: str, name_prefix: str = "", saved_proxy_id: str | None = None,
                  domains: Domains | None = None) -> tuple[FramingCase, ...]:
    """The framing cases (see the module doc): every accept case, then every refuse case.

    Each body carries a valid, ordinary payload in `space_id` named
    `name_prefix` + the case id (+ a few non-ASCII letters, so escaped and raw
    bodies differ); `headers` hold `{key}` placeholders, never the key.
    Deterministic.
    """
    domains = domains or load_domains()
    builder = Builder(contract, space_id=space_id, name_prefix=name_prefix, saved_proxy_id=saved_proxy_id,
                      domains=domains)
    name = domains.role("name")
    out = []
    tables: tuple[tuple[Expect, tuple[Form, ...]], ...] = (("accept", ACCEPT), ("refuse", REFUSE))
    for expect, table in tables:
        for row in table:
            case_id = f"framing:{row.label}"
            plan = {name: builder.name_for(case_id) + NON_ASCII} if name else {}
            payload = builder.build(plan, seed=case_id)
            body = BODIES[row.body](payload)
            out.append(FramingCase(case_id, _headers(row.changes), body, expect, row.why, row.query, payload))
    return tuple(out)
