"""The schemathesis bridge: our checks registered there, intents judged from what was sent, nothing leaks."""
from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from contracts import Contract
from contracts.checks import REGISTRY, SentRequest
from harness.bridge import DISABLED_BUILTIN_CHECKS, bridge_for, build_schema, classify, register_custom_checks
from harness.bridge.bridge import PREFIX, _pin_space
from harness.conformance import Judge
from harness.recording import EventWriter, read_events
from harness.verdict import describe

KEY = "bridge-selftest-key-31337"


def _request(payload: Any = None, *, body: bytes | None = None, method: str = "POST", auth: str | None = None,
             content_type: str = "application/json") -> SentRequest:
    headers = {"Content-Type": content_type, "Authorization": auth if auth is not None else f"Bearer {KEY}"}
    if payload is not None:
        return SentRequest.for_json(method, "http://x/v2/runtimes", headers, payload)
    return SentRequest(method, "http://x/v2/runtimes", headers, body)


def test_every_check_is_registered_with_schemathesis() -> None:
    from schemathesis.checks import CHECKS

    names = register_custom_checks()
    assert names == [PREFIX + name for name in REGISTRY]
    assert set(names) <= set(CHECKS.get_all_names())
    assert register_custom_checks() == names  # idempotent


def test_intent_is_judged_from_what_was_sent(loaded_contract: Contract) -> None:
    good = {"spaceId": str(uuid.uuid4()), "type": "browser", "name": "ok"}
    ordinary = lambda payload: "name" in payload  # noqa: E731
    assert classify(loaded_contract, KEY, _request(good), ordinary) == "valid"
    assert classify(loaded_contract, KEY, _request({**good, "name": ""} | {"x": 1}), lambda p: False) == "extreme"
    assert classify(loaded_contract, KEY, _request(good), None) == "extreme"  # no domains table: be lenient
    assert classify(loaded_contract, KEY, _request({**good, "spaceId": "nope"}), ordinary) == "invalid"
    assert classify(loaded_contract, KEY, _request(body=b"{"), ordinary) == "invalid"
    assert classify(loaded_contract, KEY, _request(good, content_type="text/plain"), ordinary) == "invalid"
    assert classify(loaded_contract, KEY, _request(good, auth="Bearer someone-else"), ordinary) == "unauthenticated"
    assert classify(loaded_contract, KEY, _request(good, auth=f"Token {KEY}"), ordinary) == "unauthenticated"
    assert classify(loaded_contract, KEY, _request(good, auth=f"bearer {KEY}"), ordinary) == "valid"
    assert classify(loaded_contract, KEY, _request(body=None, method="GET"), ordinary) == "unknown"


def test_generated_space_is_pinned_but_a_broken_one_kept() -> None:
    mine = str(uuid.uuid4())
    body = {"spaceId": str(uuid.uuid4())}
    _pin_space(body, mine)
    assert body["spaceId"] == mine
    for broken in ("not-a-uuid", 42, "6f2c1d4e00004000800000000000000a"):
        body = {"spaceId": broken}
        _pin_space(body, mine)
        assert body["spaceId"] == broken


def test_disabled_builtin_checks_exist() -> None:
    from schemathesis.config._checks import _BUILTIN_CHECK_NAMES

    assert DISABLED_BUILTIN_CHECKS <= _BUILTIN_CHECK_NAMES


def test_a_leak_found_in_a_generated_case_is_reported_redacted(loaded_contract: Contract, mock_url: str,
                                                               tmp_path: Any) -> None:
    """End to end against a leaking server: our check fails the case, the message names it, hides the password."""
    from schemathesis.core.failures import CustomFailure

    password = "pw-" + uuid.uuid4().hex[:12]
    payload = {"spaceId": str(uuid.uuid4()), "type": "browser",
               "config": {"proxy": {"mode": "custom", "host": "h.example", "port": 8080, "protocol": "http",
                                    "password": password}}}
    from tests.selftest.conftest import SELFTEST_KEY

    schema = build_schema(loaded_contract, mock_url, SELFTEST_KEY)
    operation = next(iter(schema.get_all_operations())).ok()
    judge = Judge(loaded_contract, EventWriter(tmp_path, "selftest", api_key=SELFTEST_KEY))
    bridge = bridge_for(judge, SELFTEST_KEY)
    case = operation.Case(body=payload, media_type="application/json")
    # A hand-made case skips schemathesis' auth provider (generated ones get it from the config).
    response = case.call(base_url=mock_url, headers={"Authorization": f"Bearer {SELFTEST_KEY}"})
    assert response.status_code == 200
    leaked = json.loads(response.content)
    leaked["config"]["proxy"]["password"] = password
    response.content = json.dumps(leaked).encode()
    with pytest.raises(CustomFailure) as caught:
        bridge.check("secrets", response)
    assert "secrets" in caught.value.title and password not in str(caught.value)
    exchange, findings, applied = bridge.exchange_for(response)
    assert exchange.request.intent in ("valid", "extreme") and [f.check for f in findings] == ["secrets"]
    assert applied == ["secrets"]
    verdict = judge.judge(exchange, source="schemathesis", findings=findings, applied=applied)
    text = describe(verdict.record)
    assert "comes back in the response body" in text and "secrets" in text
    assert password not in text and SELFTEST_KEY not in text and "$BCTRL_API_KEY" in text
    written = (tmp_path / "selftest.jsonl").read_text()
    assert password not in written and SELFTEST_KEY not in written and '"secrets"' in written


class _AuthCounter:
    """ASGI wrapper: counts POSTs, and the Authorization headers that are not the valid key."""

    def __init__(self, app: Any, key: str) -> None:
        self.app, self.valid, self.posts = app, f"Bearer {key}".encode(), 0
        self.other: list[bytes | None] = []

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            self.posts += 1
            header = dict(scope["headers"]).get(b"authorization")
            if header != self.valid:
                self.other.append(header)
        await self.app(scope, receive, send)


@pytest.mark.suite_run
def test_ignored_auth_probes_once_per_run_as_the_cli_does(loaded_contract: Contract, tmp_path: Any) -> None:
    """schemathesis' pytest path would probe without and with a bad key after every 2xx (~200 requests).

    The bridge keeps the CLI's rule, one confirmation per run, and a server that
    ignores auth is still caught (tests/selftest/test_mutants.py: ignored-auth).
    """
    from mock import ServerThread
    from tests.selftest.mutants.catalog import build_app
    from tests.selftest.suite_runner import run_suite

    counter = _AuthCounter(build_app("reference", KEY, loaded_contract), KEY)
    with ServerThread(counter) as server:
        run = run_suite(server.url, KEY, tmp_path / "reports", "-m", "exploratory", "--hypothesis-profile=dev",
                        "--hypothesis-seed=7")
    assert run.returncode == 0, run.output[-2000:]
    assert counter.posts > 50, counter.posts  # schemathesis did run its cases
    # ignored_auth's bad-key probe, sent once (before: once per 2xx); the few other
    # unauthenticated requests are generated negative cases, not probes.
    assert counter.other.count(b"Bearer SCHEMATHESIS-INVALID-VALUE") == 1, counter.other
    assert len(counter.other) < 10, counter.other


def test_coverage_phase_modes_follow_the_profile(loaded_contract: Contract) -> None:
    """dev and ci leave schemathesis' negative coverage cases to the invalid catalogue; nightly sends them too."""
    from schemathesis.generation import GenerationMode

    from harness.profiles import PROFILES, SCHEMATHESIS_COVERAGE_MODES
    from harness.bridge.bridge import schemathesis_config

    assert set(PROFILES) <= set(SCHEMATHESIS_COVERAGE_MODES)
    assert SCHEMATHESIS_COVERAGE_MODES["nightly"] == ("positive", "negative")
    for profile, modes in SCHEMATHESIS_COVERAGE_MODES.items():
        project = schemathesis_config(loaded_contract, KEY, request_timeout=5, seed=None,
                                      coverage_modes=modes).projects.default
        assert [m.value for m in project.phases.coverage.generation.modes] == list(modes), profile
        # Fuzzing keeps both modes in every profile: negative cases are still generated.
        assert set(project.phases.fuzzing.generation.modes) == {GenerationMode.POSITIVE, GenerationMode.NEGATIVE}
