"""The judging proxy: traffic nobody declared the intent of, judged by the suite's checks into the suite's views.

Unit tests of the intent decision (`TrafficJudge`), then the proxy in front of
correct servers (exit 0, valid records, the views), mutants (exit 1, the right
check), fault servers (502/504 and a transport finding) and the echo-everything
server (no credential in any output). The proxy runs in this process
(`ProxyRun` + `ProxyServer`) except for two command-line runs that exercise
the options, SIGTERM and the terminal output.
"""
from __future__ import annotations

import html
import json
from datetime import datetime, timezone
import os
import secrets
import select
import signal
import subprocess
import sys
import xml.etree.ElementTree as ET
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
from jsonschema import Draft202012Validator

from contracts import Contract
from contracts.checks import invariants
from contracts.checks.model import MISSING, Received, SentRequest
from contracts.credentials import forms
from harness import known_issues
from harness.conformance import Judge
from harness.proxy import ProxyServer
from harness.proxy.__main__ import main
from harness.proxy.run import ProxyRun
from harness.recording import MASK, EventWriter, Redactor, read_events
from harness.recording.events import load_schema
from harness.traffic import NOT_RECORDED, TrafficJudge, load_contract_traffic
from harness.traffic.judging import proxied
from mock import MockSettings, ServerThread, create_app
from strategies import full_payload
from tests.selftest import echo_server
from tests.selftest.faults.catalog import FAULTS
from tests.selftest.faults.server import FaultServer, refused_url
from tests.selftest.independent_server import IndependentServer
from tests.selftest.mutants import serve

ROOT = Path(__file__).resolve().parents[2]
KEY = "proxy-run-key-" + secrets.token_hex(6)
BASE = "http://target.test"


# -- helpers ---------------------------------------------------------------------------------------------------------

def create_body(contract: Contract, locale: str = "de-DE", *, user: str = "proxy-user-0a1b2c3d",
                password: str = "proxy-pass-9f8e7d6c") -> dict[str, Any]:
    """A valid, ordinary create with a custom proxy (so it carries credentials) and a locale other than the first."""
    return full_payload(contract.request_schema, **{
        "/config/extensions": ["a" * 32], "/config/fingerprint/locale": locale, "/name": "proxy run",
        "/config/proxy/username": user, "/config/proxy/password": password})


def client_session(url: str, contract: Contract, key: str, **credentials: str) -> list[int]:
    """Two valid creates, an invalid body, a create without auth, a GET on the path: the statuses."""
    path = url + contract.path
    auth = {"Authorization": f"Bearer {key}"}
    with httpx.Client(trust_env=False, timeout=10) as http:
        return [
            http.post(path, json=create_body(contract, "de-DE", **credentials), headers=auth).status_code,
            http.post(path, json=create_body(contract, "fr-FR", **credentials), headers=auth).status_code,
            http.post(path, json={"type": "browser", "spaceId": 42}, headers=auth).status_code,
            http.post(path, json=create_body(contract, "de-DE", **credentials)).status_code,
            http.get(path, headers=auth).status_code,
        ]


@pytest.fixture
def fresh_ids() -> Iterator[None]:
    """Run-wide id uniqueness decided afresh for the test (a mutant's fixed id must not leak into other tests)."""
    previous = invariants.current_index()
    invariants.use_index(invariants.MemoryIndex())
    yield
    invariants.use_index(previous)


@contextmanager
def proxied_run(contract: Contract, target: str, reports: Path, **kw: Any) -> Iterator[tuple[ProxyRun, ProxyServer]]:
    """A ProxyRun served in this process; `run.finish()` is left to the test."""
    lines: list[str] = []
    run = ProxyRun(contract, target, reports, echo=lines.append, **kw)
    run.lines = lines  # type: ignore[attr-defined]
    with ProxyServer(run.app) as server:
        yield run, server


def records(reports: Path) -> list[dict[str, Any]]:
    return list(read_events(reports / ".events"))


def assert_valid_records(reports: Path, *, judged: bool = True) -> list[dict[str, Any]]:
    validator = Draft202012Validator(load_schema())
    found = records(reports)
    errors = [f"{r.get('kind')}: {e.message}" for r in found for e in validator.iter_errors(r)]
    assert not errors, errors[:5]
    kinds = [r["kind"] for r in found]
    assert kinds[0] == "run" and kinds.count("run") == kinds.count("footer") == 1 and ("exchange" in kinds) is judged
    assert next(r for r in found if r["kind"] == "run")["mode"] == "traffic"
    return found


def summary(reports: Path) -> dict[str, Any]:
    return json.loads((reports / "summary.json").read_text(encoding="utf-8"))


def failed_checks(data: dict[str, Any]) -> set[str]:
    return {c["check"] for c in data["checks"] if c["verdict"] == "failed"}


# -- the intent decision ---------------------------------------------------------------------------------------------

@pytest.fixture
def traffic(loaded_contract: Contract) -> TrafficJudge:
    """A TrafficJudge recording nothing, with its own redactor, the key not known."""
    return TrafficJudge(Judge(loaded_contract, None), source="traffic", redactor=Redactor())


def sent(contract: Contract, *, method: str = "POST", authorization: str | None = f"Bearer {KEY}",
         payload: Any = MISSING, body: bytes | None = None, content_type: str = "application/json",
         url: str = BASE + "/v2/runtimes", label: str = "t#1") -> SentRequest:
    headers = {"Content-Type": content_type}
    if authorization is not None:
        headers["Authorization"] = authorization
    if payload is MISSING and body is None:
        payload = create_body(contract)
    if payload is not MISSING:
        body = json.dumps(payload).encode()
    return SentRequest(method, url, headers, body, payload, label=label)


def answer(status: int, body: Any = None) -> Received:
    return Received.build(status, {"content-type": "application/json"}, json.dumps(body or {}).encode())


def test_another_method_on_the_path_is_unknown(traffic: TrafficJudge, loaded_contract: Contract) -> None:
    traffic.learn_key(KEY)
    assert traffic.intent(sent(loaded_contract, method="GET", body=b""), answer(405)) == "unknown"
    assert traffic.intent(sent(loaded_contract, method="DELETE", authorization=None, body=b""),
                          answer(405)) == "unknown"


@pytest.mark.parametrize("authorization", [None, f"Basic {KEY}", "Bearer ", "Bearer", KEY, f"Token {KEY}"],
                         ids=["no-header", "basic", "empty-token", "scheme-only", "bare-key", "other-scheme"])
def test_no_bearer_token_is_unauthenticated(traffic: TrafficJudge, loaded_contract: Contract,
                                            authorization: str | None) -> None:
    traffic.learn_key(KEY)
    assert traffic.intent(sent(loaded_contract, authorization=authorization), answer(401)) == "unauthenticated"


@pytest.mark.parametrize("kind, request_kw, intent", [
    ("ordinary", {}, "valid"),
    ("extreme", {"payload": "extreme"}, "extreme"),
    ("schema-invalid", {"payload": {"type": "browser", "spaceId": 42}}, "invalid"),
    ("not-json", {"body": b"{not json"}, "invalid"),
    ("wrong-media-type", {"content_type": "text/plain"}, "invalid"),
    ("no-body", {"body": b""}, "invalid"),
])
def test_a_known_key_lets_the_body_decide(traffic: TrafficJudge, loaded_contract: Contract, kind: str,
                                          request_kw: dict[str, Any], intent: str) -> None:
    traffic.learn_key(KEY)
    if request_kw.get("payload") == "extreme":
        request_kw = {"payload": {**create_body(loaded_contract), "name": "x" * 5000}}
    # Even a refusal: the key is known valid, so a 401 to it is the server's fault, judged as such.
    assert traffic.intent(sent(loaded_contract, **request_kw), answer(401)) == intent


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_unknown_key_proves_nothing(traffic: TrafficJudge, loaded_contract: Contract, status: int) -> None:
    assert traffic.intent(sent(loaded_contract), answer(status)) == "unknown"
    assert not traffic.known_valid(KEY)


def test_a_key_answered_2xx_becomes_known_valid(traffic: TrafficJudge, loaded_contract: Contract) -> None:
    assert traffic.intent(sent(loaded_contract), answer(200)) == "valid"
    assert traffic.known_valid(KEY)
    # From then on a refusal of that key is judged by the body: a valid create refused.
    assert traffic.intent(sent(loaded_contract), answer(401)) == "valid"
    assert traffic.intent(sent(loaded_contract, payload={"type": 1}), answer(401)) == "invalid"


def test_a_2xx_on_another_method_or_path_teaches_nothing(traffic: TrafficJudge, loaded_contract: Contract) -> None:
    traffic.observe(sent(loaded_contract, method="GET", body=b""), answer(200))
    traffic.observe(sent(loaded_contract, url=BASE + "/v2/other"), answer(200))
    assert not traffic.known_valid(KEY)


def test_an_unknown_key_past_authentication_lets_the_body_decide_but_is_not_learned(
        traffic: TrafficJudge, loaded_contract: Contract) -> None:
    assert traffic.intent(sent(loaded_contract, payload={"type": "browser"}), answer(422)) == "invalid"
    assert not traffic.known_valid(KEY)
    assert traffic.intent(sent(loaded_contract), None) == "unknown"  # no answer at all: nothing known


def test_given_keys_are_known_from_the_start(loaded_contract: Contract) -> None:
    traffic = TrafficJudge(Judge(loaded_contract, None), source="proxy", valid_keys=[KEY], redactor=Redactor())
    assert traffic.intent(sent(loaded_contract), answer(401)) == "valid"


def _har(entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {"log": {"version": "1.2", "creator": {"name": "test", "version": "1"}, "entries": entries}}


def _entry(method: str, url: str, token: str | None, body: Any, status: int, answer_body: Any,
           recorded: bool = True) -> dict[str, Any]:
    headers = [{"name": "Content-Type", "value": "application/json"}]
    if token:
        headers.append({"name": "Authorization", "value": f"Bearer {token}"})
    text = json.dumps(answer_body)
    content = {"size": len(text), "mimeType": "application/json"}
    if recorded:
        content["text"] = text
    # Recorded now: the created runtime's timestamps are judged against the recorder's clock.
    started = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {"startedDateTime": started, "time": 5,
            "request": {"method": method, "url": url, "headers": headers, "bodySize": len(json.dumps(body)),
                        "postData": {"mimeType": "application/json", "text": json.dumps(body)}},
            "response": {"status": status, "headers": [{"name": "Content-Type", "value": "application/json"}],
                         "content": content}}


def test_a_recording_is_prescanned_so_a_key_accepted_later_counts_earlier(
        tmp_path: Path, loaded_contract: Contract) -> None:
    """A 401 to a key the same recording shows accepted later is a failure; an unrecorded body is not judged."""
    with ServerThread(create_app(MockSettings(frozenset({KEY})), loaded_contract)) as mock, \
            httpx.Client(trust_env=False, timeout=10) as http:
        created = http.post(mock.url + loaded_contract.path, json=create_body(loaded_contract),
                            headers={"Authorization": f"Bearer {KEY}"}).json()
    url = BASE + loaded_contract.path
    other = "another-key-" + secrets.token_hex(4)
    har = tmp_path / "session.har"
    har.write_text(json.dumps(_har([
        _entry("POST", url, KEY, create_body(loaded_contract), 401, {"error": {"code": "unauthorized"}}),
        _entry("POST", url, other, create_body(loaded_contract), 401, {"error": {"code": "unauthorized"}}),
        _entry("POST", url, KEY, create_body(loaded_contract), 200, created),
        _entry("POST", url, KEY, create_body(loaded_contract), 200, created, recorded=False),
    ])), encoding="utf-8")
    seen: list[tuple[str, frozenset[str]]] = []
    redactor = Redactor()
    judge = TrafficJudge(Judge(loaded_contract, None), source="traffic", redactor=redactor,
                         on_outcome=lambda o: seen.append((o.outcome, redactor.secrets())))
    outcomes = judge.judge_traffic(load_contract_traffic(har, loaded_contract))
    assert [o.outcome for o in outcomes] == ["failed", "passed", "passed", "skipped"]
    assert [o.intent for o in outcomes[:3]] == ["valid", "unknown", "valid"]
    assert {f.check for f in outcomes[0].verdict.findings if f.severity == "failure"} == {"status_code"}
    assert outcomes[3].verdict is None and outcomes[3].reason.startswith(NOT_RECORDED)
    assert judge.counts["skipped"] == 1 and judge.not_judged == [outcomes[3]] and judge.failed == 1
    # Every credential of the recording was known to the redactor before the first outcome was handed out.
    assert {KEY, other, "proxy-pass-9f8e7d6c"} <= seen[0][1]


def test_credentials_are_learned_before_anything_is_handed_out(loaded_contract: Contract) -> None:
    redactor = Redactor()
    lines: list[str] = []
    judge = TrafficJudge(Judge(loaded_contract, None), source="proxy", redactor=redactor,
                         on_outcome=lambda o: lines.append(o.line(redactor)))
    password = "pw-" + secrets.token_hex(8)
    request = sent(loaded_contract, payload=create_body(loaded_contract, password=password),
                   url=BASE + f"/v2/runtimes?debug={password}")
    judge.judge_exchange(request, answer(401))
    assert {KEY, password} <= redactor.secrets()
    assert lines and password not in lines[0] and MASK in lines[0]


def test_inside_a_pytest_run_the_running_test_owns_the_exchanges(tmp_path: Path, loaded_contract: Contract) -> None:
    """standalone=False (pytest --traffic): no test id of its own, no judgement record; the test keeps its state."""
    writer = EventWriter(tmp_path, "main-test")
    judge = Judge(loaded_contract, writer)
    traffic = TrafficJudge(judge, source="traffic", standalone=False)
    judge.state.start("tests/traffic/test_recorded.py::test_exchange[session.har#0]")
    outcome = traffic.judge_exchange(sent(loaded_contract), answer(500))
    skipped = traffic.judge_exchange(sent(loaded_contract), answer(200), not_recorded="no response text")
    writer.close()
    assert outcome.outcome == "failed" and outcome.test == judge.state.test and judge.state.failures
    assert skipped.outcome == "skipped" and skipped.reason.startswith(NOT_RECORDED)
    written = list(read_events(tmp_path))
    assert [r["kind"] for r in written] == ["exchange"] and written[0]["test"] == judge.state.test


@pytest.mark.parametrize("response, meta, expected", [
    (None, {"error": "the target could not be reached", "proxy_status": 502}, "error"),
    (None, {"error": "the target did not answer in time", "proxy_status": 504}, "error"),
    (None, {"error": "the client left before its request body ended"}, "not_recorded"),
    ("truncated", {"response_bytes": 20_000_000}, "not_recorded"),
    ("whole", {"error": "the client left after 10 body bytes"}, "not_recorded"),
    ("whole", {"error": "the target's answer broke off after 5 body bytes (RemoteProtocolError)"}, "error"),
    ("whole", {"request_truncated": True, "request_bytes": 20_000_000}, "not_recorded"),
    ("whole", {"content_encoding": "br: not decoded for judging"}, "not_recorded"),
    ("whole", {}, None),
])
def test_what_the_proxy_saw_decides_whether_an_exchange_is_judged(response: str | None, meta: dict[str, Any],
                                                                  expected: str | None) -> None:
    received = None if response is None else Received.build(200, {}, b"{}", truncated=response == "truncated")
    judged, how = proxied(received, meta)
    assert set(how) == ({expected} if expected else set())
    if expected == "error":
        assert judged is None  # a transport failure: judged as "no HTTP response", with the reason


def test_not_judged_exchanges_are_recorded_as_skipped_never_failed(tmp_path: Path, loaded_contract: Contract) -> None:
    with ServerThread(create_app(MockSettings(frozenset({KEY})), loaded_contract)) as mock, \
            proxied_run(loaded_contract, mock.url, tmp_path, body_cap=64) as (run, proxy), \
            httpx.Client(trust_env=False, timeout=10) as http:
        assert http.post(proxy.url + loaded_contract.path, json=create_body(loaded_contract),
                         headers={"Authorization": f"Bearer {KEY}"}).status_code == 200
    assert run.finish() == 0
    data = summary(tmp_path)
    assert data["traffic"]["not_judged"]["count"] == 1 and data["tests"]["skipped"] == 1
    assert data["traffic"]["not_judged"]["exchanges"][0]["reason"].startswith(NOT_RECORDED)
    assert_valid_records(tmp_path, judged=False)
    assert any(NOT_RECORDED in line for line in run.lines)  # type: ignore[attr-defined]


# -- in front of correct servers ----------------------------------------------------------------------------------

def test_in_front_of_the_independent_server_nothing_fails(tmp_path: Path, loaded_contract: Contract,
                                                          fresh_ids: None) -> None:
    with IndependentServer(KEY) as target, proxied_run(loaded_contract, target.url, tmp_path) as (run, proxy):
        statuses = client_session(proxy.url, loaded_contract, KEY)
    assert statuses == [200, 200, 400, 401, 404]
    assert run.finish() == 0, "\n".join(run.lines)  # type: ignore[attr-defined]
    found = assert_valid_records(tmp_path)
    intents = [r["intent"] for r in found if r["kind"] == "exchange"]
    assert intents == ["valid", "valid", "invalid", "unauthenticated", "unknown"]  # the key was learned from a 200
    data = summary(tmp_path)
    assert data["findings"]["failures"] == 0 and data["tests"]["passed"] == 5
    assert {c["check"] for c in data["checks"] if c["verdict"] == "warning"} <= {"auth", "negative_data",
                                                                                "other_methods"}
    suite = ET.parse(tmp_path / "junit.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("tests") == "5" and suite.get("failures") == "0"


# -- in front of mutants -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, check", [
    ("ignored-auth", "auth"),
    ("status-outside-enum", "response_schema"),
    ("ignores-locale", "semantics"),
    ("leaks-proxy-password", "secrets"),
    ("duplicate-ids", "unique_ids"),
])
def test_a_mutant_behind_the_proxy_fails_with_the_right_check(tmp_path: Path, loaded_contract: Contract,
                                                              fresh_ids: None, name: str, check: str) -> None:
    with serve(name, KEY, loaded_contract) as target, \
            proxied_run(loaded_contract, target.url, tmp_path, api_key=KEY) as (run, proxy):
        client_session(proxy.url, loaded_contract, KEY)
    assert run.finish() == 1
    data = summary(tmp_path)
    assert check in failed_checks(data), data["checks"]
    assert data["exit_status"] == 1 and data["tests"]["failed"] >= 1
    assert_valid_records(tmp_path)
    suite = ET.parse(tmp_path / "junit.xml").getroot().find("testsuite")
    assert suite is not None and int(suite.get("failures", "0")) == data["tests"]["failed"]
    failure = next(case.find("failure") for case in suite if case.find("failure") is not None)
    assert check in failure.get("message", "") or check in (failure.text or "")
    assert "reproduce" in (failure.text or "") and KEY not in (failure.text or "")


def test_known_issues_turn_a_mutant_failure_into_an_expected_one(tmp_path: Path, loaded_contract: Contract,
                                                                   fresh_ids: None) -> None:
    known_file = tmp_path / "known.yaml"
    known_file.write_text(
        "issues:\n  - id: RT-1\n    check: auth\n    select: {test: 'proxy::POST *'}\n"
        "    reason: the target serves requests without credentials\n    ticket: https://tracker.example/RT-1\n",
        encoding="utf-8")
    known = known_issues.load(known_file, ["auth"])
    reports = tmp_path / "reports"
    with serve("ignored-auth", KEY, loaded_contract) as target, \
            proxied_run(loaded_contract, target.url, reports, api_key=KEY, known=known) as (run, proxy):
        client_session(proxy.url, loaded_contract, KEY)
    assert run.finish() == 0
    data = summary(reports)
    assert data["tests"]["xfailed"] == 1 and data["tests"]["failed"] == 0
    assert data["known_issues"][0]["status"] == "still failing"
    suite = ET.parse(reports / "junit.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("skipped") == "1" and suite.get("failures") == "0"
    assert any("known issue" in line for line in run.lines)  # type: ignore[attr-defined]


def test_an_exchange_the_judge_fails_on_is_an_error_not_a_silent_pass(tmp_path: Path, loaded_contract: Contract,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    with serve("reference", KEY, loaded_contract) as target, \
            proxied_run(loaded_contract, target.url, tmp_path, api_key=KEY) as (run, proxy):
        assert run.traffic is not None

        def broken(request: SentRequest, response: Received | None) -> str:
            raise RuntimeError("a bug in the judge")

        monkeypatch.setattr(run.traffic, "intent", broken)
        with httpx.Client(trust_env=False, timeout=10) as http:
            assert http.post(proxy.url + loaded_contract.path, json=create_body(loaded_contract),
                             headers={"Authorization": f"Bearer {KEY}"}).status_code == 200  # the client never sees it
    assert run.finish() == 1
    found = assert_valid_records(tmp_path, judged=False)
    (judgement,) = [r for r in found if r["kind"] == "judgement"]
    assert judgement["outcome"] == "error" and "a bug in the judge" in judgement["reason"]
    assert summary(tmp_path)["tests"]["error"] == 1


# -- fault servers -------------------------------------------------------------------------------------------------

def test_a_target_that_is_down_gives_502_and_a_transport_finding(tmp_path: Path, loaded_contract: Contract) -> None:
    with proxied_run(loaded_contract, refused_url(), tmp_path) as (run, proxy), \
            httpx.Client(trust_env=False, timeout=10) as http:
        answered = http.post(proxy.url + loaded_contract.path, json=create_body(loaded_contract),
                             headers={"Authorization": f"Bearer {KEY}"})
    assert answered.status_code == 502 and answered.json()["error"]["source"] == "proxy"
    assert run.finish() == 1
    data = summary(tmp_path)
    assert failed_checks(data) == {"transport"}
    (group,) = data["findings"]["by_check"]["transport"]
    assert "could not be reached" in group["message"]
    assert_valid_records(tmp_path)


def test_a_hanging_target_gives_504_and_a_transport_finding(tmp_path: Path, loaded_contract: Contract) -> None:
    with FaultServer(FAULTS["hang"], name="hang") as target, \
            proxied_run(loaded_contract, target.url, tmp_path, read_timeout=0.5) as (run, proxy), \
            httpx.Client(trust_env=False, timeout=10) as http:
        answered = http.post(proxy.url + loaded_contract.path, json=create_body(loaded_contract),
                             headers={"Authorization": f"Bearer {KEY}"})
    assert answered.status_code == 504 and answered.json()["error"]["code"] == "upstream_timeout"
    assert run.finish() == 1
    assert "did not answer in time" in summary(tmp_path)["findings"]["by_check"]["transport"][0]["message"]


# -- the command line ------------------------------------------------------------------------------------------------

def test_usage_errors_say_one_line_and_exit_4(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cases = [
        ["--port", "8788"],  # no --target
        ["--target", "ftp://example.com", "--port", "0"],
        ["--target", "http://127.0.0.1:1", "--port", "70000"],
        ["--target", "http://127.0.0.1:1", "--port", "0", "--contract", str(tmp_path / "missing.yaml")],
        ["--target", "http://127.0.0.1:1", "--port", "0", "--api-key-env", "BCTRL_TEST_UNSET_" + secrets.token_hex(4)],
        ["--target", "http://127.0.0.1:1", "--port", "0", "--known-issues", str(tmp_path / "missing.yaml")],
        ["--no-such-option"],
    ]
    for argv in cases:
        assert main(argv) == 4, argv
        err = capsys.readouterr().err
        assert err.startswith("usage error: ") and err.count("\n") == 1 and "Traceback" not in err, err


def test_an_unreachable_target_exits_10_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--target", refused_url(), "--port", "0", "--reports-dir", str(tmp_path)]) == 10
    err = capsys.readouterr().err
    assert err.startswith("target unreachable: ") and err.count("\n") == 1
    assert not (tmp_path / ".events").exists()


def _start_cli(*args: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen([sys.executable, "-m", "harness.proxy", "--port", "0", *args], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})})
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], 60)
    first = process.stdout.readline() if ready else ""
    if not first.startswith("proxy on http://127.0.0.1:"):
        process.kill()
        raise AssertionError(f"the proxy did not start: {first!r} {process.communicate()}")
    return process, first.split()[2]


def _stop_cli(process: subprocess.Popen[str]) -> tuple[str, str]:
    process.send_signal(signal.SIGTERM)
    try:
        return process.communicate(timeout=60)
    finally:
        process.kill()


@pytest.mark.suite_run
def test_the_command_line_in_front_of_the_mock_exits_0_on_sigterm(tmp_path: Path, loaded_contract: Contract) -> None:
    with serve("reference", KEY, loaded_contract) as target:
        process, url = _start_cli("--target", target.url, "--reports-dir", str(tmp_path),
                                  "--api-key-env", "BCTRL_PROXY_TEST_KEY", env={"BCTRL_PROXY_TEST_KEY": KEY})
        try:
            statuses = client_session(url, loaded_contract, KEY)
            with httpx.Client(trust_env=False, timeout=10) as http:
                statuses.append(http.get(url + "/elsewhere").status_code)
        finally:
            out, err = _stop_cli(process)
    assert statuses == [200, 200, 422, 401, 405, 404]
    assert process.returncode == 0, out + err
    assert_valid_records(tmp_path)
    data = summary(tmp_path)
    assert data["exit_status"] == 0 and data["tests"]["passed"] == 5 and data["traffic"]["other_paths"] == 1
    page = (tmp_path / "conformance.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and 'id="conformance"' in page and 'id="results-table"' in page
    assert not any(tag in page for tag in ("<script", "<link", "<img", "src=")), "not self-contained"
    assert "POST /v2/runtimes 200 [valid] ok" in out and "GET /elsewhere 404" in out
    assert "5 judged (0 failed, 0 known issues), 0 not judged, 1 on other paths" in out
    assert "bctrl conformance" in out and "wrote " in out


@pytest.mark.suite_run
def test_no_credential_reaches_any_output_from_the_echo_server(tmp_path: Path, loaded_contract: Contract,
                                                               fresh_ids: None) -> None:
    """The echo-everything server hands every credential back; the judge runs in a child process here."""
    key = "sk-PROXYLEAK-" + secrets.token_hex(8)
    user, password = "user-" + secrets.token_hex(6), "pw-" + secrets.token_hex(8)
    with echo_server.serve_echo_server(key) as target:
        process, url = _start_cli("--target", target.url, "--reports-dir", str(tmp_path), "--judge-process",
                                  "--api-key-env", "BCTRL_PROXY_TEST_KEY", env={"BCTRL_PROXY_TEST_KEY": key})
        try:
            statuses = client_session(url, loaded_contract, key, user=user, password=password)
        finally:
            out, err = _stop_cli(process)
    assert statuses[:3] == [200, 200, 422]
    assert process.returncode == 1 and "secrets" in failed_checks(summary(tmp_path)), out + err
    assert any(f.name.startswith("proxy-judge-") for f in (tmp_path / ".events").iterdir())
    assert_valid_records(tmp_path)
    secrets_sent = {key, user, password}
    searched = {form for value in secrets_sent for form in forms(value) if len(form) >= 8}
    searched |= {html.escape(s) for s in searched} | {json.dumps(s)[1:-1] for s in searched}
    outputs = {"stdout": out, "stderr": err}
    outputs |= {str(p): p.read_text(encoding="utf-8", errors="replace") for p in tmp_path.rglob("*") if p.is_file()}
    leaks = sorted(f"{where}: {s[:6]}..." for where, text in outputs.items() for s in searched if s in text)
    assert not leaks
    assert {"summary.json", "conformance.html", "junit.xml"} <= {p.name for p in tmp_path.iterdir()}
