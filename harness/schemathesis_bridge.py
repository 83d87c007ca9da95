"""Run schemathesis over the patched contract, judged by schemathesis' checks *and* ours.

- `build_schema()` loads `contract.patched` with a config that fits this
  single-operation API (phases, checks, auth), pointed at the target.
- Every check in our registry is registered as a schemathesis custom check
  (`bctrl:<name>`), adapting schemathesis' case/response to SentRequest/Received,
  so generated cases get our semantics, secrets and invariants checks too.
- `Bridge.run(case)` sends one case, validates it, records the exchange in the
  event log and, on failure, re-raises with our reproduction (check, pointer,
  expected vs got, redacted request, curl line reading the key from the
  environment) in place of schemathesis' own curl line, which would print
  generated proxy passwords verbatim.
"""
from __future__ import annotations

import copy
import json
import threading
import uuid
import warnings
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable

import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import CustomFailure, FailureGroup
from schemathesis.specs.openapi.checks import ignored_auth

from contracts import Contract
from contracts.checks import REGISTRY, Finding, Received, SentRequest
from contracts.checks.model import MISSING, Intent, is_json_media_type
from contracts.checks.registry import on_operation
from harness import redact
from harness.client import Exchange
from harness.events import EventLog, exchange_record
from harness.verdict import ConformanceFailure, ConformanceWarning, describe

PREFIX = "bctrl:"

# Built-in checks switched off, each because the contract's silence would make it a false alarm:
DISABLED_BUILTIN_CHECKS = {
    # Demands 2xx for every schema-valid body. The contract sets no bounds, so a
    # correct server may refuse port 70000 or a 10 000-character name with a 4xx;
    # our status_code check judges that by the plausible-domains table instead
    # (ordinary input: 200 required; extreme input: a clean 4xx is a warning).
    "positive_data_acceptance",
    # Demands 405 for every method the document does not list. The document
    # describes one operation of a larger API, which may serve e.g. GET (a list)
    # on the same path; our other_methods check fails 5xx and a 405 without
    # Allow, and only warns about a 2xx.
    "unsupported_method",
    # Compares an OPTIONS answer's Allow with the document's methods for the path:
    # the same silence (a GET list there is plausible) makes "Allow: GET, POST" a false alarm.
    "allow_header_conformance",
    # Needs more than one operation (create, then read/delete): nothing to run here.
    "use_after_free",
    "ensure_resource_availability",
    "object_level_authorization",
}


def schemathesis_config(contract: Contract, api_key: str, *, request_timeout: float, seed: int | None,
                        coverage_modes: tuple[str, ...] = ("positive", "negative")) -> SchemathesisConfig:
    coverage_mode = "all" if set(coverage_modes) >= {"positive", "negative"} else coverage_modes[0]
    data: dict[str, Any] = {
        "phases": {
            "examples": {"enabled": True},
            # Other methods on the path too, judged by not_a_server_error and ours. Not
            # QUERY (a draft) nor TRACE: 501 is the right answer to a method a server
            # does not implement (RFC 9110 15.6.2), which not_a_server_error calls a crash.
            "coverage": {"enabled": True, "unexpected-methods": ["get", "put", "patch", "delete", "options"],
                         "generation": {"mode": coverage_mode}},
            "fuzzing": {"enabled": True},
            "stateful": {"enabled": False},  # one operation: no links to follow
        },
        "generation": {"mode": "all"},  # positive and negative cases
        # The errata apply bearerAuth to the operation; schemathesis sends the key
        # through it, and its ignored_auth check probes without / with a bad key.
        "auth": {"openapi": {"bearerAuth": {"bearer": api_key}}},
        "checks": {name: {"enabled": False} for name in sorted(DISABLED_BUILTIN_CHECKS)},
        "request-timeout": request_timeout,
    }
    if seed is not None:
        data["seed"] = seed
    return SchemathesisConfig.from_dict(data)


def build_schema(contract: Contract, base_url: str, api_key: str, *, request_timeout: float = 30.0,
                 seed: int | None = None, coverage_modes: tuple[str, ...] = ("positive", "negative")) -> Any:
    """The patched contract as a schemathesis schema, aimed at `base_url`, authenticated with `api_key`."""
    config = schemathesis_config(contract, api_key, request_timeout=request_timeout, seed=seed,
                                 coverage_modes=coverage_modes)
    schema = schemathesis.openapi.from_dict(copy.deepcopy(_plain(contract.patched)), config=config)
    schema.config.update(base_url=base_url)
    return schema


def _plain(value: Any) -> Any:
    if isinstance(value, dict) or hasattr(value, "items"):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def classify(contract: Contract, api_key: str, request: SentRequest,
             ordinary: Callable[[Any], bool] | None = None) -> Intent:
    """What a generated request *is*, judged from what was actually sent (not from schemathesis' labels)."""
    if not on_operation(contract, request):
        return "unknown"
    header = next((v for k, v in request.headers.items() if k.lower() == "authorization"), None)
    scheme, _, token = (header or "").strip().partition(" ")
    if scheme.lower() != "bearer" or token.strip() != api_key:
        return "unauthenticated"
    content_type = next((v for k, v in request.headers.items() if k.lower() == "content-type"), "")
    if request.payload is MISSING or not is_json_media_type(content_type):
        return "invalid"
    if not contract.request_validator().is_valid(request.payload):
        return "invalid"
    if ordinary is None:
        # No plausible-domains table: every valid value might be extreme, so a
        # clean 4xx is only a warning (5xx and wrong bodies still fail).
        return "extreme"
    return "valid" if ordinary(request.payload) else "extreme"


def _ordinary_classifier(contract: Contract) -> Callable[[Any], bool] | None:
    """The strategies' plausible-domains test (strategies/domains.yaml), if present."""
    try:
        from strategies.domains import classify as classify_domains
    except ImportError:
        return None
    return lambda payload: classify_domains(payload, contract).intent == "valid"


def _sent_request(contract: Contract, api_key: str, prepared: Any, ordinary: Callable[[Any], bool] | None) -> SentRequest:
    body = prepared.body
    if isinstance(body, str):
        body = body.encode("utf-8")
    headers = {str(k): str(v) for k, v in prepared.headers.items()}
    payload: Any = MISSING
    if body:
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError):
            payload = MISSING
    draft = SentRequest(str(prepared.method).upper(), str(prepared.url), headers, body or None, payload)
    intent = classify(contract, api_key, draft, ordinary)
    return SentRequest(draft.method, draft.url, headers, draft.body, payload, intent, "schemathesis")


@dataclass
class Bridge:
    """What the registered custom checks judge with, for the test that is running."""

    contract: Contract
    api_key: str
    log: EventLog | None = None
    test: str = ""
    strict_warnings: bool = False
    ordinary: Callable[[Any], bool] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # response object id -> (response, exchange, findings); the response is kept
    # so its id cannot be reused while cached.
    _seen: "OrderedDict[int, tuple[Any, Exchange, list[Finding]]]" = field(default_factory=OrderedDict)
    # Set once ignored_auth has seen the operation refuse its no-key and bad-key
    # probes. The CLI confirms this once per run (its engine shares the set of
    # confirmed operations); schemathesis' pytest path has no such set and would
    # probe twice after *every* 2xx (about 200 extra requests per run).
    auth_confirmed: bool = False

    def exchange_for(self, response: Any) -> tuple[Exchange, list[Finding]]:
        with self._lock:
            hit = self._seen.get(id(response))
            if hit is not None and hit[0] is response:
                return hit[1], hit[2]
            request = _sent_request(self.contract, self.api_key, response.request, self.ordinary)
            headers = {k: ", ".join(v) if isinstance(v, list) else str(v) for k, v in response.headers.items()}
            received = Received.build(response.status_code, headers, bytes(response.content or b""),
                                      elapsed=float(response.elapsed or 0.0))
            entry = (response, Exchange(request, received), [])
            self._seen[id(response)] = entry
            while len(self._seen) > 32:
                self._seen.popitem(last=False)
            return entry[1], entry[2]

    def judge(self, name: str, response: Any) -> None:
        """Run our check `name` on a schemathesis response; raise a schemathesis failure if it fails."""
        exchange, collected = self.exchange_for(response)
        assert exchange.response is not None
        findings = list(REGISTRY[name].fn(self.contract, exchange.request, exchange.response))
        collected.extend(findings)
        failing = [f for f in findings if f.severity == "failure" or self.strict_warnings]
        if failing:
            message = redact.text("\n".join(f.line() for f in failing))
            raise CustomFailure(operation=f"{self.contract.method.upper()} {self.contract.path}",
                                title=f"{name} (bctrl conformance check)", message=message,
                                exception=AssertionError(message))

    def run(self, case: Any, *, base_url: str | None = None, session: Any = None, space_id: str | None = None) -> None:
        """Send one case, validate it with every enabled check, record it, and fail with our reproduction.

        `session` is the suite's client session (budget, pacing, 429 handling);
        `space_id` replaces a generated, well-formed spaceId: a random space is
        someone else's or nobody's on a real server, so refusing it proves nothing.
        """
        if isinstance(case.body, dict):
            _pin_space(case.body, space_id)
        if isinstance(case.body, (dict, list)):
            _register_secrets(case.body)
        response = case.call(base_url=base_url, session=session)
        exchange, findings = self.exchange_for(response)
        try:
            case.validate_response(response, excluded_checks=[ignored_auth] if self.auth_confirmed else None)
        except FailureGroup as group:
            builtin = [_finding_of(f) for f in group.exceptions if not isinstance(f, CustomFailure)
                       or not str(f.title).endswith("(bctrl conformance check)")]
            everything = findings + builtin
            self._record(exchange, everything)
            # Our reproduction replaces schemathesis' message (its curl line prints
            # generated proxy passwords verbatim); the findings stay attached for
            # the known-issues matching, as for every other test.
            failure = ConformanceFailure(self.reproduction(exchange, everything))
            failure.exchange, failure.findings = exchange, everything
            raise failure from None
        self._record(exchange, findings)
        if not self.auth_confirmed and 200 <= response.status_code < 300 and exchange.request.intent in ("valid", "extreme"):
            self.auth_confirmed = True  # ignored_auth just probed this 2xx and the probes were refused
        for finding in findings:
            warnings.warn(ConformanceWarning(redact.text(f"{finding.line()} [schemathesis {exchange.request.intent}]")),
                          stacklevel=2)

    def reproduction(self, exchange: Exchange, findings: list[Finding]) -> str:
        return "schemathesis case failed:\n" + describe(exchange, findings, self.api_key)

    def _record(self, exchange: Exchange, findings: list[Finding]) -> None:
        if self.log is not None:
            self.log.write(exchange_record(exchange, findings, test=self.test, api_key=self.api_key))


def _finding_of(failure: Any) -> Finding:
    """A schemathesis built-in failure as a finding, its whole message kept (it says what its probe sent)."""
    lines = [line.strip() for line in str(getattr(failure, "message", "") or "").splitlines() if line.strip()]
    title = str(getattr(failure, "title", "") or type(failure).__name__)
    message = title + (": " + " / ".join(lines) if lines else "")
    return Finding(f"schemathesis.{type(failure).__name__}", "failure", "", redact.text(message[:600]))


def _pin_space(body: dict[str, Any], space_id: str | None) -> None:
    current = body.get("spaceId")
    if space_id is None or not isinstance(current, str):
        return
    try:
        uuid.UUID(current)
    except ValueError:
        return  # a negative case whose point is the malformed spaceId: keep it
    if len(current) == 36:
        body["spaceId"] = space_id


def _register_secrets(payload: Any) -> None:
    # Only long generated credentials: registering "null" or "0000" as a secret
    # would scrub them from every message (see contracts/checks/secrets.py).
    from contracts.checks.secrets import MIN_SECRET_LENGTH, SECRET_FIELDS

    stack = [payload]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if key in SECRET_FIELDS and isinstance(value, str) and len(value) >= MIN_SECRET_LENGTH:
                    redact.register(value)
                stack.append(value)
        elif isinstance(node, list):
            stack.extend(node)


_ACTIVE: list[Bridge] = []


def activate(bridge: Bridge) -> None:
    """Make `bridge` the one the registered custom checks use (one schemathesis test runs at a time per process)."""
    _ACTIVE[:] = [bridge]


def deactivate() -> None:
    _ACTIVE.clear()


def _make_check(name: str) -> Callable[[Any, Any, Any], None]:
    def bridged(ctx: Any, response: Any, case: Any) -> None:
        if _ACTIVE:
            _ACTIVE[0].judge(name, response)

    bridged.__name__ = PREFIX + name
    bridged.__doc__ = REGISTRY[name].summary
    return bridged


def register_custom_checks() -> list[str]:
    """Register every check of our registry with schemathesis (idempotent); returns their names."""
    from schemathesis.checks import CHECKS

    names = []
    for name in REGISTRY:
        bridged_name = PREFIX + name
        if bridged_name not in CHECKS.get_all_names():
            schemathesis.check(_make_check(name))
        names.append(bridged_name)
    return names


register_custom_checks()


def _pytest_nodeid_shim() -> None:
    """schemathesis 4.32.5's `from_fixture` reads and rewrites `item._nodeid`, which pytest 9.2 renamed `_id`.

    Without this, every lazily loaded schema test dies with AttributeError.
    Remove it once schemathesis follows pytest's rename.
    """
    from _pytest import nodes

    if hasattr(nodes.Node, "_nodeid"):
        return
    from _pytest.nodeid import coerce_node_id

    def get(self: Any) -> str:
        return str(self._id)

    def set_(self: Any, value: str) -> None:
        self._id = coerce_node_id(value)

    nodes.Node._nodeid = property(get, set_)  # type: ignore[attr-defined]


_pytest_nodeid_shim()


def bridge_for(contract: Contract, api_key: str, *, log: EventLog | None, test: str, strict_warnings: bool) -> Bridge:
    return Bridge(contract, api_key, log, test, strict_warnings, _ordinary_classifier(contract))
