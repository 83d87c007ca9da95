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
import threading
import time
import uuid
import warnings
from collections import OrderedDict
from typing import Any, Callable

import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import CustomFailure, FailureGroup
from schemathesis.specs.openapi.checks import ignored_auth

from contracts import Contract
from contracts.checks import REGISTRY, Exchange, Finding, Received, SentRequest, judge_exchange
from contracts.checks.model import MISSING, Intent, is_json_media_type
from contracts.checks.registry import on_operation
from harness.conformance import Judge
from harness.transport.client import sent_request
from harness.recording import REDACTOR
from harness.verdict import ConformanceFailure, ConformanceWarning, describe, recorded_findings

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
    register_custom_checks()
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


def _sent_request(contract: Contract, api_key: str, prepared: Any, ordinary: Callable[[Any], bool] | None,
                  sent_at: float | None = None) -> SentRequest:
    draft = sent_request(prepared)
    intent = classify(contract, api_key, draft, ordinary)
    return SentRequest(draft.method, draft.url, draft.headers, draft.body, draft.payload, intent, "schemathesis",
                       sent_at=sent_at)


class Bridge:
    """Judges schemathesis' exchanges for the test that is running, with the suite's Judge.

    One per process (the schemathesis test runs one case at a time). `run(case)`
    sends a case through the suite's session and validates it; every other
    request schemathesis sends while validating (its auth probes, content-type
    controls) also goes through that session (see `RoutedTransport`) and is
    judged and recorded here as a probe.
    """

    def __init__(self, judge: Judge, api_key: str, ordinary: Callable[[Any], bool] | None = None) -> None:
        self.judge = judge
        self.contract = judge.contract
        self.api_key = api_key
        self.ordinary = ordinary
        self._lock = threading.Lock()
        # Answer identity -> (exchange, findings, checks applied): our custom checks each judge the
        # same answer once per check; the answer is built once and judged once per check.
        self._seen: "OrderedDict[int, tuple[Any, Exchange, list[Finding], list[str]]]" = OrderedDict()
        self._validating = False
        self._probes: list[Any] = []
        # Set once ignored_auth has probed the operation (whatever the outcome). The CLI
        # probes once per run (its engine shares the set of confirmed operations);
        # schemathesis' pytest path has no such set and would probe after *every* 2xx.
        self.auth_probed = False

    def exchange_for(self, response: Any) -> tuple[Exchange, list[Finding], list[str]]:
        with self._lock:
            hit = self._seen.get(id(response))
            if hit is not None and hit[0] is response:  # the response is kept, so its id is not reused meanwhile
                return hit[1], hit[2], hit[3]
            request = _sent_request(self.contract, self.api_key, response.request, self.ordinary,
                                    sent_at=time.time() - float(response.elapsed or 0.0))
            REDACTOR.learn_request(request)  # generated proxy credentials: masked in every message from here on
            headers = {k: ", ".join(v) if isinstance(v, list) else str(v) for k, v in response.headers.items()}
            elapsed = float(response.elapsed or 0.0)
            received = Received.build(response.status_code, headers, bytes(response.content or b""),
                                      elapsed=elapsed, received_at=time.time())
            entry = (response, Exchange(request, received), [], [])
            self._seen[id(response)] = entry
            while len(self._seen) > 32:
                self._seen.popitem(last=False)
            return entry[1], entry[2], entry[3]

    def check(self, name: str, response: Any) -> None:
        """Run our check `name` on a schemathesis response; raise a schemathesis failure if it fails."""
        exchange, collected, applied = self.exchange_for(response)
        assert exchange.response is not None
        judged = judge_exchange(self.contract, exchange.request, exchange.response, [name])
        collected.extend(judged.findings)
        applied.extend(judged.applied)
        failing = [f for f in judged.findings if f.severity == "failure" or self.judge.strict_warnings]
        if failing:
            message = REDACTOR.text("\n".join(f.line() for f in failing))
            raise CustomFailure(operation=f"{self.contract.method.upper()} {self.contract.path}",
                                title=f"{name} (bctrl conformance check)", message=message,
                                exception=AssertionError(message))

    def observe(self, response: Any) -> None:
        """From the transport: schemathesis sent a request of its own while validating (a probe)."""
        if self._validating:
            self._probes.append(response)

    def run(self, case: Any, *, base_url: str | None = None, session: Any = None, space_id: str | None = None) -> None:
        """Send one case, validate it with every enabled check, record it, and fail with our reproduction.

        `session` is the suite's client session (budget, pacing, 429 handling);
        `space_id` replaces a generated, well-formed spaceId: a random space is
        someone else's or nobody's on a real server, so refusing it proves nothing.
        """
        if isinstance(case.body, dict):
            _pin_space(case.body, space_id)
        response = case.call(base_url=base_url, session=session)
        exchange, findings, applied = self.exchange_for(response)
        self._validating, self._probes = True, []
        builtin: list[Finding] = []
        try:
            case.validate_response(response, excluded_checks=[ignored_auth] if self.auth_probed else None)
        except FailureGroup as group:
            builtin = [_finding_of(f) for f in group.exceptions if not isinstance(f, CustomFailure)
                       or not str(f.title).endswith("(bctrl conformance check)")]
        finally:
            self._validating = False
            probes, self._probes = self._probes, []
        if probes:
            self.auth_probed = True
        verdict = self.judge.judge(exchange, source="schemathesis", findings=[*findings, *builtin], applied=applied)
        for probe in probes:
            probe_exchange, _, _ = self.exchange_for(probe)
            self.judge.judge(probe_exchange, source="probe")
        if any(f.severity == "failure" or self.judge.strict_warnings for f in verdict.findings):
            # Our reproduction replaces schemathesis' message (its curl line prints
            # generated proxy passwords verbatim); the findings stay attached for
            # the known-issues decision, as for every other test.
            raise ConformanceFailure("schemathesis case failed:\n" + describe(verdict.record), exchange=exchange,
                                     findings=verdict.findings, known=verdict.known)
        for finding in recorded_findings(verdict.record):
            warnings.warn(ConformanceWarning(f"{finding.line()} [schemathesis {exchange.request.intent}]"),
                          stacklevel=2)


class RoutedTransport:
    """schemathesis' requests transport, always through the suite's session.

    schemathesis drops the session for some requests of its own (the
    ignored_auth probes strip the session to strip credentials; content-type
    controls pass none), and would send them with a fresh `requests` session:
    outside the budget, the pacing, the breaker and the created-runtimes
    ledger. The suite's session carries no credentials (the key travels in each
    request's own header), so routing every send through it keeps the probes
    keyless and accounted for.
    """

    def __init__(self, inner: Any, session: Any, bridge: Bridge) -> None:
        self.inner = inner
        self.session = session
        self.bridge = bridge

    def send(self, case: Any, *, session: Any = None, **kwargs: Any) -> Any:
        response = self.inner.send(case, session=session if session is not None else self.session, **kwargs)
        if session is None:
            self.bridge.observe(response)
        return response

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def route_through(schema: Any, session: Any, bridge: Bridge) -> Any:
    """Make every request of `schema`'s operations go through `session` (see RoutedTransport)."""
    routed = RoutedTransport(schema.transport, session, bridge)
    schema.__class__ = type(f"Routed{type(schema).__name__}", (type(schema),),
                            {"transport": property(lambda self: routed)})
    return schema


def _finding_of(failure: Any) -> Finding:
    """A schemathesis built-in failure as a finding, its whole message kept (it says what its probe sent)."""
    lines = [line.strip() for line in str(getattr(failure, "message", "") or "").splitlines() if line.strip()]
    title = str(getattr(failure, "title", "") or type(failure).__name__)
    message = title + (": " + " / ".join(lines) if lines else "")
    return Finding(f"schemathesis.{type(failure).__name__}", "failure", "", message[:600])


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


_ACTIVE: list[Bridge] = []


def activate(bridge: Bridge) -> None:
    """Make `bridge` the one the registered custom checks use (one schemathesis test runs at a time per process)."""
    _ACTIVE[:] = [bridge]


def deactivate() -> None:
    _ACTIVE.clear()


def _make_check(name: str) -> Callable[[Any, Any, Any], None]:
    def bridged(ctx: Any, response: Any, case: Any) -> None:
        if _ACTIVE:
            _ACTIVE[0].check(name, response)

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



def bridge_for(judge: Judge, api_key: str) -> Bridge:
    return Bridge(judge, api_key, _ordinary_classifier(judge.contract))


def dry_requests(schema: Any, session: Any, base_url: str, space_id: str | None) -> list[Any]:
    """Every request schemathesis' test over `schema` will send first, prepared as `session` will send them.

    Runs the same Hypothesis test (its examples, coverage and fuzzing phases, the
    run's seed) with a test function that sends nothing, so the answers can be
    fetched ahead (harness/plugin/exploration.py). Uses schemathesis' own test
    builder (`schemathesis.pytest.lazy.get_all_tests`, the one `parametrize`
    uses at the pinned version), so the dry pass draws what the real one will.
    """
    import requests
    from schemathesis.pytest.lazy import get_all_tests

    prepared: list[Any] = []

    def dry(case: Any) -> None:
        if isinstance(case.body, dict):
            _pin_space(case.body, space_id)
        data = case.operation.schema.transport.serialize_case(case, base_url=base_url)
        request = requests.Request(method=data["method"], url=data["url"], headers=data.get("headers"),
                                   params=data.get("params"), cookies=data.get("cookies") or None,
                                   json=data.get("json"), data=data.get("data"))
        prepared.append(session.prepare_request(request))

    for result in get_all_tests(schema=schema, test_func=dry, settings=None, given_kwargs={}):
        if isinstance(result, schemathesis.core.result.Ok):
            _, test = result.ok()
            test()
    return prepared
