"""Id uniqueness is judged across the whole run, every xdist worker included.

A server that hands out one id twice in a run (the first create's id again on a
later create, once) is caught with `-n 2`, where the two answers are judged in
different processes most of the time: the shared index in the event log's
folder (harness/recording/shared_ids.py) sees both.
"""
from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from harness.recording import read_events
from mock import MockSettings, ServerThread, create_app
from tests.selftest.shared import once
from tests.selftest.suite_runner import SuiteRun, run_suite

pytestmark = pytest.mark.suite_run

KEY = "unique-ids-selftest-key-0123456789"
REPEAT_AT = 40  # the 40th successful create gets the first one's id


def repeats_one_id(app: Any) -> Any:
    """The reference mock, but the REPEAT_AT-th 200 carries the first 200's id (once in the whole run)."""
    lock, seen = threading.Lock(), {"count": 0, "first": None}

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await app(scope, receive, send)
            return
        start: dict[str, Any] = {}

        async def rewrite(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            body = message.get("body", b"")
            if start.get("status") == 200 and body:
                answer = json.loads(body)
                with lock:
                    seen["count"] += 1
                    if seen["first"] is None:
                        seen["first"] = answer["id"]
                    elif seen["count"] == REPEAT_AT:
                        answer["id"] = seen["first"]
                body = json.dumps(answer).encode()
            headers = [(k, str(len(body)).encode() if k.lower() == b"content-length" else v)
                       for k, v in start.get("headers", [])]
            await send({**start, "headers": headers})
            await send({**message, "body": body})

        await app(scope, receive, rewrite)

    return wrapped


def _runs(base: Path) -> dict[str, SuiteRun]:
    with ServerThread(repeats_one_id(create_app(MockSettings(frozenset({KEY}))))) as server:
        # The minimal create goes first (the preflight) and is judged by its own test: its id is the one repeated.
        return {"parallel": run_suite(server.url, KEY, base / "parallel", "-n", "2",
                                      "tests/conformance/test_create_basics.py", "tests/conformance/test_covering_set.py")}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, SuiteRun]:
    return once(tmp_path_factory, "unique-ids-runs", _runs)


def test_one_id_repeated_once_across_two_workers_is_caught(runs) -> None:
    run = runs["parallel"]
    assert run.returncode == 1, run.output[-3000:]
    summary = json.loads((run.reports / "summary.json").read_text())
    verdicts = {c["check"]: c["verdict"] for c in summary["checks"]}
    assert verdicts["unique_ids"] == "failed", verdicts
    judged_by = {e["process"] for e in read_events(run.reports / ".events") if e.get("kind") == "exchange"}
    assert {"gw0", "gw1"} <= judged_by, judged_by
