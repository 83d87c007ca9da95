"""Every request accounted for: schemathesis' own probes go through the suite's transport, and a skip hides nothing.

Against a server whose auth is broken (it serves requests without a key),
schemathesis' ignored_auth probes create runtimes. They must count against
`--max-creates`, be listed in created-runtimes.json, and a run cut short by
the budget must still fail on the auth defect it found first.
"""
from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from mock import ServerThread
from tests.selftest.mutants import build_app
from tests.selftest.suite_runner import run_suite

pytestmark = pytest.mark.suite_run

KEY = "accounting-key-5d1e7b20"


class CreateCounter:
    """ASGI wrapper: every 2xx answer to a POST, with the runtime id its body names."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.created: list[str | None] = []
        self._lock = threading.Lock()

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        status, chunks = [0], []

        async def capture(message: dict) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, capture)
        if 200 <= status[0] < 300:
            try:
                runtime_id = json.loads(b"".join(chunks)).get("id")
            except (ValueError, AttributeError):
                runtime_id = None
            with self._lock:
                self.created.append(runtime_id)


def _run(tmp_path: Path, *args: str) -> tuple[Any, CreateCounter]:
    counter = CreateCounter(build_app("ignored-auth", KEY))
    with ServerThread(counter) as server:
        # 127.0.0.1 is "remote" enough for a ledger: only the embedded mock keeps none.
        run = run_suite(server.url, KEY, tmp_path / "reports", *args)
    return run, counter


def _ledger(run: Any) -> list[dict[str, Any]]:
    return json.loads((run.reports / "created-runtimes.json").read_text())["runtimes"]


def test_a_budget_cut_does_not_hide_the_auth_defect_schemathesis_found(tmp_path: Path) -> None:
    run, counter = _run(tmp_path, "-m", "exploratory", "--max-creates=60", "--hypothesis-seed=3")
    assert run.returncode == 1, run.output[-3000:]
    assert "before the test was cut short (request budget exhausted" in run.output
    assert "auth" in run.output and "without valid credentials was accepted" in run.output
    assert len(counter.created) <= 60


@pytest.mark.parametrize("part", ["exploratory", "whole"])
def test_probes_count_against_the_budget_and_land_in_the_ledger(tmp_path: Path, part: str) -> None:
    """schemathesis alone (its probes within the budget), and the whole suite (the budget spent before it)."""
    args = ("-m", "exploratory") if part == "exploratory" else ()
    run, counter = _run(tmp_path, *args, "--max-creates=20", "--hypothesis-profile=dev", "--hypothesis-seed=5")
    assert run.returncode == 1, run.output[-3000:]  # the auth defect
    assert 0 < len(counter.created) <= 20, f"{len(counter.created)} creates reached the server"
    listed = [r["id"] for r in _ledger(run)]
    assert sorted(i for i in counter.created if i) == sorted(i for i in listed if i), "every create in the ledger"
    summary = json.loads((run.reports / "summary.json").read_text())
    assert summary["politeness"]["creates_used"] == len(counter.created)
    assert summary["requests"]["budget_refusals"] >= 1
    # Generated tests cut short by the budget are listed apart from deterministic ones (they get what is left).
    cut = summary["exploratory_cut_short"] + ([] if part == "exploratory" else summary["cut_short"])
    assert cut and all("budget" in reason for reason in cut), cut
