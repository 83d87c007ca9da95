"""Round 2: one mutant per technique of the strategies (boundaries, within-variant pairs, neighbours,
framing, text, time, credentials in errors, overlap), each the reference mock with exactly one behaviour changed.

Each is written to the technique (a class of input or output), not to a value the suite happens to
send: "any integer beyond 32 bits", not "port 2147483648". Crashes happen only on requests the
reference accepted (200), so invalid input still gets its 4xx. `caught_in` names the layer built for the
technique; the mutant selftest holds each claim.
"""
from __future__ import annotations

import json
import unicodedata
from typing import Any, Callable, Iterator

from contracts import load_contract
from tests.selftest.mutants.base import Reply, mutant, on_created, request_json, rewrite
from tests.selftest.mutants.request_rewrite import Headers, json_body, rewrite_request

PROXY = "/config/proxy"


def _values(value: Any) -> Iterator[Any]:
    """Every JSON value inside `value` (object member names included), itself first."""
    yield value
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _values(item)
    elif isinstance(value, list):
        for item in value:
            yield from _values(item)


def _integers(payload: Any) -> Iterator[int]:
    return (v for v in _values(payload) if isinstance(v, int) and not isinstance(v, bool))


def _crash_when(predicate: Callable[[Any], bool]) -> Callable[[Any], Any]:
    """500 (a generic error body) for a request the reference accepted and `predicate` holds for."""
    def fn(scope: dict, body: bytes, reply: Reply) -> Reply:
        if reply.status == 200 and predicate(request_json(body)):
            reply.status = 500
            reply.set_json({"error": {"code": "internal", "message": "internal server error"}})
            reply.set_header("content-type", "application/json")
        return reply

    return rewrite(fn)


# --- boundaries -----------------------------------------------------------------------------------

@mutant("crash-on-integer-beyond-32-bits", catches="status_code", caught_in={"test_boundaries": ("status_code",)},
        description="500 when any integer in the body, anywhere (metadata included), does not fit a signed "
                    "32-bit column (below -2**31 or above 2**31 - 1)")
def crash_on_integer_beyond_32_bits(app):  # type: ignore[no-untyped-def]
    return _crash_when(lambda p: any(not -(2**31) <= n <= 2**31 - 1 for n in _integers(p)))(app)


@mutant("crash-on-long-string", catches="status_code", caught_in={"test_boundaries": ("status_code",)},
        description="500 when any string in the body (member names included) is longer than 1000 characters "
                    "(a VARCHAR(1000) column)")
def crash_on_long_string(app):  # type: ignore[no-untyped-def]
    return _crash_when(lambda p: any(isinstance(v, str) and len(v) > 1000 for v in _values(p)))(app)


@mutant("crash-on-many-items", catches="status_code", caught_in={"test_boundaries": ("status_code",)},
        description="500 when any array in the body has more than 20 items (a fixed-size buffer)")
def crash_on_many_items(app):  # type: ignore[no-untyped-def]
    return _crash_when(lambda p: any(isinstance(v, list) and len(v) > 20 for v in _values(p)))(app)


@mutant("crash-at-16-bit-bound", catches="status_code", caught_in={"test_boundaries": ("status_code",)},
        description="500 when any integer in the body is exactly 65535, the top of an unsigned 16-bit range "
                    "(the classic `< 65535` off-by-one: a port of 65535 is valid)")
def crash_at_16_bit_bound(app):  # type: ignore[no-untyped-def]
    return _crash_when(lambda p: any(n == 2**16 - 1 for n in _integers(p)))(app)


# --- pairs inside a variant -----------------------------------------------------------------------

def socks_without_user() -> tuple[str, str, str, str]:
    """(discriminator, branch label, protocol member, its 2nd value) of the custom proxy, from the catalog."""
    contract = load_contract()
    variant = next(v for v in contract.variants_on("request") if v.pointer == PROXY and v.branches)
    label = variant.labels[0]  # custom today
    chain = (*variant.branches, f"{PROXY}={label}")
    in_branch = [e for e in contract.enums_on("request") if e.branches == chain]
    discriminator = next(e for e in in_branch if len(e.values) == 1)
    protocol = next(e for e in in_branch if len(e.values) > 1)
    return discriminator.pointer.rsplit("/", 1)[-1], label, protocol.pointer.rsplit("/", 1)[-1], protocol.values[1]


@mutant("crash-on-socks5-without-username", catches="status_code", caught_in={"test_covering_set": ("status_code",)},
        description="500 for a custom proxy with the 2nd protocol (socks5) and no username; socks5 with a "
                    "username, and http without one, work")
def crash_on_socks5_without_username(app):  # type: ignore[no-untyped-def]
    discriminator, label, member, value = socks_without_user()

    def hits(payload: Any) -> bool:
        config = payload.get("config") if isinstance(payload, dict) else None
        proxy = config.get("proxy") if isinstance(config, dict) else None
        return (isinstance(proxy, dict) and proxy.get(discriminator) == label and proxy.get(member) == value
                and "username" not in proxy)

    return _crash_when(hits)(app)


# --- neighbours -----------------------------------------------------------------------------------

@mutant("accepts-direct-proxy-mode", catches="negative_data", caught_in={"test_invalid_payloads": ("negative_data",)},
        description="a proxy whose mode is 'direct' or 'none' (what PAC files and many configs call no proxy) "
                    "is treated as no proxy and answered 200; other unknown modes are still refused")
def accepts_direct_proxy_mode(app):  # type: ignore[no-untyped-def]
    def fn(headers: Headers, body: bytes, state: Any) -> tuple[Headers, bytes]:
        data = json_body(body)
        config = data.get("config") if isinstance(data, dict) else None
        proxy = config.get("proxy") if isinstance(config, dict) else None
        if isinstance(proxy, dict) and proxy.get("mode") in ("direct", "none"):
            config["proxy"] = None
            body = json.dumps(data).encode()
        return headers, body

    return rewrite_request(fn)(app)


# --- framing --------------------------------------------------------------------------------------

@mutant("refuses-charset-parameter", catches="status_code", caught_in={"test_framing": ("status_code",)},
        description="a valid request whose Content-Type carries a parameter (application/json; charset=utf-8) "
                    "is answered 415, as if the media type were not JSON")
def refuses_charset_parameter(app):  # type: ignore[no-untyped-def]
    def fn(headers: Headers, body: bytes, state: Any) -> tuple[Headers, bytes]:
        if ";" in headers.get("content-type", ""):
            headers = {**headers, "content-type": "application/x-unsupported"}  # the mock's own 415 answers it
        return headers, body

    return rewrite_request(fn)(app)


# --- text -----------------------------------------------------------------------------------------

@mutant("folds-name-nfkc", catches="semantics", caught_in={"test_boundaries": ("semantics",)},
        description="the name comes back NFKC-folded (compatibility characters replaced: 'ﬁ' -> 'fi', "
                    "fullwidth -> ASCII); canonically equivalent (NFC/NFD) text is unaffected")
def folds_name_nfkc(app):  # type: ignore[no-untyped-def]
    def change(data: dict) -> None:
        if isinstance(data.get("name"), str):
            data["name"] = unicodedata.normalize("NFKC", data["name"])

    return on_created(change)(app)


# --- time -----------------------------------------------------------------------------------------

@mutant("created-at-1970", catches="invariants",
        description="createdAt is the Unix epoch (1970-01-01T00:00:00.000Z): a well-formed timestamp, but no "
                    "runtime was created then (a clock never set); updatedAt stays now, so the order holds")
def created_at_1970(app):  # type: ignore[no-untyped-def]
    return on_created(lambda d: d.__setitem__("createdAt", "1970-01-01T00:00:00.000Z"))(app)


# --- credentials in errors ------------------------------------------------------------------------

@mutant("quotes-password-in-error", catches="secrets", caught_in={"test_invalid_payloads": ("secrets",)},
        description="a 422 for a body holding a proxy password quotes the password in its details "
                    "(\"rejected value ...\"), as naive validation libraries do")
def quotes_password_in_error(app):  # type: ignore[no-untyped-def]
    def fn(scope: dict, body: bytes, reply: Reply) -> Reply:
        sent, data = request_json(body), reply.json
        config = sent.get("config") if isinstance(sent, dict) else None
        proxy = config.get("proxy") if isinstance(config, dict) else None
        password = proxy.get("password") if isinstance(proxy, dict) else None
        if reply.status == 422 and isinstance(data, dict) and isinstance(password, str):
            error = data.setdefault("error", {})
            details = error.setdefault("details", []) if isinstance(error, dict) else None
            if isinstance(details, list):
                details.append({"pointer": f"{PROXY}/password", "message": f"rejected value {password!r}"})
                reply.set_json(data)
        return reply

    return rewrite(fn)(app)


# --- overlap --------------------------------------------------------------------------------------

@mutant("racy-ids", catches="unique_ids", caught_in={"test_overlap": ("unique_ids",)},
        description="ids come from a counter that is read, then written back after a pause (a non-atomic "
                    "read-modify-write): requests that overlap get the same id, one after another never do")
def racy_ids(app):  # type: ignore[no-untyped-def]
    import asyncio
    import uuid

    counter = {"next": 0}
    namespace = uuid.uuid5(uuid.NAMESPACE_URL, "bctrl-mutant/racy-ids")

    async def wrapped(scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await app(scope, receive, send)
            return
        number = counter["next"]  # read ...
        await asyncio.sleep(0.05)  # ... the pause in which an overlapping request reads the same number ...
        counter["next"] = number + 1  # ... write back
        runtime_id = str(uuid.uuid5(namespace, str(number)))
        await on_created(lambda d: d.__setitem__("id", runtime_id))(app)(scope, receive, send)

    return wrapped
