"""Judge traffic the suite did not generate: recorded (HAR) or live (the validating proxy).

Nobody declared what such a request was meant to be, and the judge does not
know the API key, so each request's intent is decided from what was sent and
what was answered (`TrafficJudge.intent`):

1. another method than the operation's: "unknown" (the other_methods check
   judges it by its method);
2. no Authorization header, a scheme other than Bearer, or an empty token:
   "unauthenticated";
3. a Bearer token known to be valid: the body decides, as for schemathesis'
   cases (`harness.bridge.classify`): not JSON, not the JSON media type or
   schema-invalid -> "invalid"; schema-valid -> "valid" or "extreme" by the
   plausible-domains table (strategies/domains.yaml);
4. a token not known to be valid: refused with 401/403 -> "unknown" (a refused
   unknown key proves nothing); answered 2xx on the operation -> it becomes
   known valid, and the body decides; any other answer (400, 422, 5xx) got
   past authentication, so the body decides, but the token is not learned
   from it; no answer at all -> "unknown".

A token is known valid when it was given (`valid_keys`, e.g. the proxy's
`--api-key-env`) or was answered with a 2xx on the operation: for a recording,
anywhere in it (`prescan` reads every exchange first); for the proxy, so far.

An exchange whose request or response body was not recorded (a recorder that
dropped it, a body over the proxy's cap, a client that left mid-answer) is not
judged: it is counted, listed with its reason and recorded as a skipped
judgement ("not judged: body not recorded"), never a failure. So is a recorded
request without an answer (a cancelled request need not be the server's doing);
the proxy, which knows the target failed to answer, judges that as a transport
failure instead (see `proxied`).

Every request's credentials are learned by the redactor before anything about
the exchange is decided, written or handed to `on_outcome`, so no output of
the caller can show them.
"""
from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Literal
from urllib.parse import urlsplit

from contracts.checks.model import Exchange, Intent, Received, SentRequest
from contracts.checks.registry import on_operation
from harness.bridge.bridge import classify
from harness.conformance import Judge, Verdict
from harness.recording import REDACTOR, Redactor
from harness.traffic.har import RecordedExchange, Traffic, _Matcher

Source = Literal["traffic", "proxy"]
Outcome = Literal["passed", "failed", "xfailed", "skipped", "other path"]
NOT_RECORDED = "not judged: body not recorded"
NO_ANSWER = "not judged: no answer recorded"
REFUSED = (401, 403)


def bearer_token(headers: dict[str, str]) -> str | None:
    """The token of a `Bearer` Authorization header; None for no header, another scheme or an empty token."""
    header = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
    scheme, _, token = (header or "").strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


@dataclass(frozen=True)
class TrafficOutcome:
    """What became of one exchange: judged (with its verdict), not judged (why), or not the operation's."""

    test: str  # the id it is reported under, e.g. proxy::POST /v2/runtimes[proxy#12]
    outcome: Outcome
    request: SentRequest  # as judged: with the intent decided
    response: Received | None
    verdict: Verdict | None = None  # None when not judged
    reason: str = ""  # why it was not judged

    @property
    def judged(self) -> bool:
        return self.verdict is not None

    @property
    def intent(self) -> Intent:
        return self.request.intent

    def line(self, redactor: Redactor = REDACTOR) -> str:
        """One redacted line for a terminal: method, path, status, intent and what was found."""
        split = urlsplit(self.request.url)
        path = split.path + (f"?{split.query}" if split.query else "")
        status = self.response.status if self.response is not None else "no answer"
        head = f"{self.request.method} {path} {status}"
        if self.outcome == "other path":
            text = head
        elif self.verdict is None:
            text = f"{head} ({self.reason})"
        else:
            failing = sorted({f.check for f in self.verdict.findings if f.severity == "failure"})
            warned = sorted({f.check for f in self.verdict.findings if f.severity == "warning"})
            word = {"failed": "FAILED", "xfailed": "known issue", "passed": "ok"}[self.outcome]
            text = f"{head} [{self.intent}] {word}" + (f": {', '.join(failing)}" if failing else "") + (
                f" (warnings: {', '.join(warned)})" if warned else "")
        return redactor.text(text)


class TrafficJudge:
    """Judges exchanges whose intent nobody declared, with the suite's `Judge` (see the module doc).

    `source` ("traffic" for recordings, "proxy" for live traffic) goes into every
    record. `valid_keys` are tokens known to be valid from the start. `base_url`
    limits the operation's path to URLs under it (the proxy passes its target);
    exchanges elsewhere are counted as "other path" and not recorded.
    `on_outcome` is called with every outcome, after its records were written.
    `ordinary` tells a valid payload from an extreme one (default: strategies/domains.yaml).

    `standalone` (the proxy, a recording judged outside pytest): each exchange is
    its own test, `<source>::<METHOD> <path>[<label>]`, with a `judgement` record
    of its own (a skipped one when not judged). Inside a pytest run pass
    `standalone=False`: the running test (`Judge.state`) owns the exchanges and
    pytest's hooks write its judgement; a not-judged outcome is the caller's to skip.
    Safe to call from several threads; the proxy calls it from one.
    """

    def __init__(self, judge: Judge, *, source: Source, valid_keys: Iterable[str] = (), base_url: str | None = None,
                 ordinary: Callable[[Any], bool] | None | Literal["domains"] = "domains",
                 on_outcome: Callable[[TrafficOutcome], None] | None = None, redactor: Redactor | None = None,
                 standalone: bool = True) -> None:
        self.judge = judge
        self.standalone = standalone
        self.contract = judge.contract
        self.source = source
        # The redactor of the judge's event writer: what it masks in the records, this masks everywhere else.
        self.redactor = redactor or (judge.writer.redactor if judge.writer is not None else REDACTOR)
        self.on_outcome = on_outcome
        self._matcher = _Matcher(self.contract.path, base_url)
        self._ordinary = _domains_classifier(self.contract) if ordinary == "domains" else ordinary
        self._lock = threading.Lock()
        self._valid: set[str] = set()
        self.counts: dict[str, int] = {"exchanges": 0, "passed": 0, "failed": 0, "xfailed": 0, "skipped": 0,
                                       "other path": 0}
        self.not_judged: list[TrafficOutcome] = []
        for key in valid_keys:
            self.learn_key(key)

    # -- what is known about the credentials ------------------------------------------------------------------

    def learn_key(self, key: str) -> None:
        """A token known to be valid (and a secret from now on)."""
        key = key.strip()
        if key:
            self.redactor.learn_credential(key)
            with self._lock:
                self._valid.add(key)

    def known_valid(self, token: str) -> bool:
        with self._lock:
            return token in self._valid

    def observe(self, request: SentRequest, response: Received | None) -> None:
        """Learn from one exchange: its credentials (for the redactor), and a Bearer token the operation accepted."""
        self.redactor.learn_request(request)
        self._accept(request, response)

    def _accept(self, request: SentRequest, response: Received | None) -> None:
        token = bearer_token(request.headers)
        if (token is not None and response is not None and 200 <= response.status < 300
                and on_operation(self.contract, request) and self.on_path(request)):
            with self._lock:
                self._valid.add(token)

    def prescan(self, exchanges: Iterable[RecordedExchange]) -> int:
        """Read a whole recording before judging any of it: every credential, every token accepted; the count."""
        seen = 0
        for recorded in exchanges:
            self.observe(recorded.request, recorded.response)
            seen += 1
        return seen

    # -- deciding --------------------------------------------------------------------------------------------------

    def on_path(self, request: SentRequest) -> bool:
        """Is the request on the operation's path (whatever its method, CORS preflights excepted)?"""
        return self._matcher.route(request.method, request.url, request.headers, None) is None

    def intent(self, request: SentRequest, response: Received | None) -> Intent:
        """What the request was, judged from what was sent and answered (rules in the module doc).

        Learns a token answered 2xx on the operation as known valid (see `observe`).
        """
        if not on_operation(self.contract, request):
            return "unknown"
        token = bearer_token(request.headers)
        if token is None:
            return "unauthenticated"
        self._accept(request, response)  # the credentials were learned when the exchange arrived
        if not self.known_valid(token):
            if response is None or response.status in REFUSED:
                return "unknown"
        return classify(self.contract, token, request, self._ordinary)

    # -- judging ---------------------------------------------------------------------------------------------------

    def test_id(self, request: SentRequest) -> str:
        return f"{self.source}::{request.method} {urlsplit(request.url).path}[{request.label or '-'}]"

    def judge_exchange(self, request: SentRequest, response: Received | None, *, error: str | None = None,
                       not_recorded: str = "") -> TrafficOutcome:
        """Judge one exchange and record it (or say why not): see the module doc.

        `response=None` with `error` is a transport failure (no answer), judged as such;
        `not_recorded` says which body the recording lacks: the exchange is then not judged.
        """
        elsewhere = self._arrive(request, response)
        if elsewhere is not None:
            return elsewhere
        if not_recorded:
            return self._skip(request, response, f"{NOT_RECORDED} ({not_recorded})")
        sent = dataclasses.replace(request, intent=self.intent(request, response))
        if not self.standalone:
            verdict = self.judge.judge(Exchange(sent, response, error), source=self.source)
            return self._done(TrafficOutcome(self.judge.state.test, self._outcome(verdict), sent, response, verdict))
        test = self.test_id(sent)
        # The judge remembers what "the running test" found; here each exchange is its own test.
        with self._lock:
            self.judge.state.start(test)
            try:
                verdict = self.judge.judge(Exchange(sent, response, error), source=self.source)
            finally:
                self.judge.state.start("")
        outcome = self._outcome(verdict)
        self._judgement(test, outcome, known=sorted(set(verdict.known.values())))
        return self._done(TrafficOutcome(test, outcome, sent, response, verdict))

    def judge_recorded(self, recorded: RecordedExchange) -> TrafficOutcome:
        """One exchange of a recording (`prescan` the whole recording first)."""
        if not recorded.body_recorded:
            return self.judge_exchange(recorded.request, recorded.response,
                                       not_recorded=recorded.not_judged_reason or "a body is not recorded")
        if recorded.response is None:
            # No answer in a recording (a cancelled request, a browser gone offline) need not be the server's doing.
            elsewhere = self._arrive(recorded.request, None)
            if elsewhere is not None:
                return elsewhere
            return self._skip(recorded.request, None, f"{NO_ANSWER} ({recorded.error or 'no status'})")
        return self.judge_exchange(recorded.request, recorded.response)

    def judge_traffic(self, traffic: Traffic | Iterable[RecordedExchange]) -> list[TrafficOutcome]:
        """A whole recording: prescan it, then judge every exchange in order."""
        exchanges = list(traffic.exchanges if isinstance(traffic, Traffic) else traffic)
        self.prescan(exchanges)
        return [self.judge_recorded(x) for x in exchanges]

    def __call__(self, request: SentRequest, response: Received | None, meta: dict[str, Any]) -> TrafficOutcome:
        """The proxy's `on_exchange`: what `create_proxy_app` hands over, judged (see `proxied`)."""
        response, how = proxied(response, meta)
        return self.judge_exchange(request, response, **how)

    # -- bookkeeping -----------------------------------------------------------------------------------------------

    def _arrive(self, request: SentRequest, response: Received | None) -> TrafficOutcome | None:
        """Learn the request's credentials first of all; an exchange off the operation's path ends here."""
        self.redactor.learn_request(request)
        with self._lock:
            self.counts["exchanges"] += 1
        if self.on_path(request):
            return None
        return self._done(TrafficOutcome(self.test_id(request), "other path", request, response))

    def _outcome(self, verdict: Verdict) -> Outcome:
        strict = self.judge.strict_warnings
        failing = [i for i, f in enumerate(verdict.findings) if f.severity == "failure" or strict]
        if any(i not in verdict.known for i in failing):
            return "failed"
        return "xfailed" if failing else "passed"

    def _skip(self, request: SentRequest, response: Received | None, reason: str) -> TrafficOutcome:
        test = self.test_id(request) if self.standalone else self.judge.state.test
        if self.standalone:
            self._judgement(test, "skipped", reason=reason)
        outcome = TrafficOutcome(test, "skipped", request, response, reason=reason)
        with self._lock:
            self.not_judged.append(outcome)
        return self._done(outcome)

    def _judgement(self, test: str, outcome: str, *, known: list[str] | None = None, reason: str | None = None) -> None:
        if self.judge.writer is not None:
            self.judge.writer.write("judgement", test=test, outcome=outcome, known_issues=known or [],
                                    cut_short=None, reason=reason)

    def _done(self, outcome: TrafficOutcome) -> TrafficOutcome:
        with self._lock:
            self.counts[outcome.outcome] += 1
        if self.on_outcome is not None:
            self.on_outcome(outcome)
        return outcome

    @property
    def failed(self) -> int:
        return self.counts["failed"]


def proxied(response: Received | None, meta: dict[str, Any]) -> tuple[Received | None, dict[str, Any]]:
    """How the proxy's `meta` bears on judging: the answer to judge, and `error` or `not_recorded`.

    - no answer, and the proxy answered 502/504 for the target: a transport failure;
    - no answer because the client left before its body ended: nothing to judge;
    - an answer the client left in the middle of, a body over the proxy's cap, or one
      whose Content-Encoding could not be undone: not recorded whole, not judged;
    - an answer the target broke off: a transport failure (the status came, the body did not).
    """
    error = meta.get("error")
    if response is None:
        if meta.get("proxy_status") is not None:
            return None, {"error": error or "no answer from the target"}
        return None, {"not_recorded": error or "no answer"}
    if meta.get("request_truncated"):
        return response, {"not_recorded": f"the request body ({meta.get('request_bytes')} bytes) is over the "
                                          "proxy's cap"}
    if error and "client left" in error:
        return response, {"not_recorded": error}
    if error:
        return None, {"error": error}
    if meta.get("content_encoding"):
        return response, {"not_recorded": f"the response body is {meta['content_encoding']}"}
    if response.truncated:
        return response, {"not_recorded": f"the response body ({meta.get('response_bytes')} bytes) is over the "
                                          "proxy's cap"}
    return response, {}


def _domains_classifier(contract: Any) -> Callable[[Any], bool] | None:
    """The strategies' plausible-domains test (strategies/domains.yaml), loaded once; None without it."""
    try:
        from strategies.domains import classify as classify_domains, load_domains
        domains = load_domains()
    except (ImportError, OSError):
        return None
    return lambda payload: classify_domains(payload, contract, domains).intent == "valid"
