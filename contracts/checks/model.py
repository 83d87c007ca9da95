"""What checks take and return: the request sent, the response received, findings."""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["failure", "warning"]
# What the sender meant the request to be; checks use it to know what answer is due.
# "extreme": schema-valid, but some value lies outside the plausible domains
# (strategies/domains.yaml), so a clean 4xx is a warning rather than a failure.
Intent = Literal["valid", "extreme", "invalid", "unauthenticated", "unknown"]


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self) -> str:
        # Unpickled as the module's one MISSING, so `is MISSING` holds for exchanges that crossed a process
        # (the plan's answers reach xdist workers through a pickle file): a copy read as a JSON payload.
        return "MISSING"


MISSING: Any = _Missing()


def is_json_media_type(content_type: str) -> bool:
    """`application/json` or a `+json` structured type, parameters ignored."""
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


@dataclass(frozen=True)
class SentRequest:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None
    payload: Any = MISSING  # the JSON value the body encodes, MISSING if not JSON
    intent: Intent = "unknown"
    label: str = ""  # readable id of the payload, e.g. locale=nb-NO
    sent_at: float | None = field(default=None, compare=False)  # wall clock (epoch seconds) when it left

    @classmethod
    def for_json(cls, method: str, url: str, headers: dict[str, str], payload: Any, **kw: Any) -> "SentRequest":
        return cls(method, url, headers, json.dumps(payload).encode(), payload, **kw)


def new_id() -> str:
    """A fresh identity for one request or one answer (never reused, unlike CPython's id())."""
    return uuid.uuid4().hex


@dataclass(frozen=True)
class Received:
    status: int
    headers: dict[str, str]  # keys lower-cased
    body: bytes
    elapsed: float = 0.0
    truncated: bool = False
    json: Any = field(default=MISSING)  # parsed body, MISSING when it is not JSON
    received_at: float | None = field(default=None, compare=False)  # wall clock (epoch seconds) when it arrived
    # Which answer this is: the same answer judged twice (by a test and by schemathesis'
    # custom checks) is one answer; another answer carrying the same runtime id is a duplicate.
    id: str = field(default_factory=new_id, compare=False)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    @classmethod
    def build(cls, status: int, headers: dict[str, str], body: bytes, **kw: Any) -> "Received":
        lowered = {k.lower(): v for k, v in headers.items()}
        parsed: Any = MISSING
        if body and not kw.get("truncated"):
            try:
                parsed = json.loads(body)
            except (ValueError, RecursionError):
                parsed = MISSING
        return cls(status, lowered, body, json=parsed, **kw)


@dataclass(frozen=True)
class Finding:
    """One thing a check found: which check, how bad, where (JSON pointer), what."""

    check: str
    severity: Severity
    pointer: str
    message: str
    expected: str = ""
    got: str = ""

    def line(self) -> str:
        where = self.pointer or "(whole response)"
        text = f"[{self.severity}] {self.check} at {where}: {self.message}"
        if self.expected or self.got:
            text += f" (expected {self.expected or '-'}; got {self.got or '-'})"
        return text


@dataclass(frozen=True)
class Exchange:
    """One request and what came back: an answer, or a transport error (no answer at all)."""

    request: SentRequest
    response: Received | None
    error: str | None = None  # transport failure: no HTTP answer

    @property
    def status(self) -> int | None:
        return self.response.status if self.response else None
