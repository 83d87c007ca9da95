"""On this machine's targets, the exploratory tests run in a forked helper process while the planned ones run here.

Why: a run against the embedded mock (or another server on this machine) is
bound by this process's CPU (one core: judging, recording, Hypothesis and
schemathesis drawing), while the server uses a part of the other core; against
a local server that answers slowly, the exploratory tests (sequential: each
request is drawn from the answers before it) also wait. xdist would put the
second core to work, but each of its workers starts a new interpreter and
imports everything again (about 2.5 s each), and `-n 2` was slower than one
process. A fork after collection costs none of that: the helper starts with
everything loaded.

When: the embedded mock or a server on a loopback address, with no
--max-creates or --rate-limit (none by default for them: the exploratory tests
come last only so that a shared server's budget goes to the planned cases
first), no xdist, no --plan/--collect-only, at least one planned and one
exploratory test selected, a platform that forks, no --pdb or --trace, and not
`--one-process`.

Two processes must not cost a dead or throttling target more requests than one
would (the README's "When the target misbehaves"): the circuit breaker's count
is the run's, kept in the state folder (harness/transport/breaker.py), and the
helper sends nothing before the main process says go (after the preflight: a
refused key or space ends the run before the helper sends) and the target has
given one usable answer (the plan's slow start finds out alone).

How:
- In pytest_collection_finish, first of all implementations: the mock is started,
  then the fork. Nothing of the run has a thread yet (the plan's executor and the
  progress line start later in the same hook), so the helper inherits no lock
  held by another thread; the HTTP client is made anew in the helper. Once the
  hook's other implementations are done (the preflight), "go" and the answer
  times so far (for --prefetch auto) reach the helper through a second pipe.
- The helper: its own event file (`explore-<pid>.jsonl`: the views merge every
  file), its own output capture, a silenced terminal. It runs its tests through
  pytest's whole runtest protocol, as an xdist worker would, and sends every
  report (pytest's own serialization, the one xdist uses) and warning through a
  pipe; then it leaves with os._exit (no atexit, no report files: this process
  writes those).
- This process: a thread reads the pipe as the helper writes. When the loop
  reaches a helper's test (they come last), its reports are logged here as if
  it had run here: terminal, JUnit, HTML. A helper that dies leaves its missing
  tests failed, with its exit status. The helper is reaped (killed if the run
  stopped early) before the views are written.
"""
from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
import traceback
import warnings
from typing import IO, Any, Iterator

import pytest

from harness import safety
from harness.plugin.keys import RUN, run_of
from harness.recording import REDACTOR, EventWriter

HELPER = "explore"
WAIT_FOR_EXIT = 10.0  # seconds the helper gets to finish after its last report (its fixtures' teardown)


def add_options(parser: pytest.Parser) -> None:
    parser.getgroup("bctrl").addoption(
        "--one-process", action="store_true",
        help="run every test in this process (a run against the embedded mock or a loopback server otherwise runs "
             "the exploratory tests in a forked helper process, beside the planned ones)")


def wanted(config: pytest.Config, items: list[pytest.Item]) -> list[pytest.Item]:
    """The tests the helper should run: the exploratory ones, when forking applies (see the module doc), else none."""
    run = config.stash.get(RUN, None)
    if (run is None or not on_this_machine(run) or not run.controller or run.writer is None
            or not hasattr(os, "fork") or config.getoption("one_process") or config.getoption("plan")
            or config.option.collectonly or run.limits.active or getattr(config.option, "numprocesses", None)
            or config.getoption("usepdb", False) or config.getoption("trace", False)):  # a debugger needs the tty
        return []
    exploratory = [i for i in items if i.get_closest_marker("exploratory") is not None]
    if not exploratory or len(exploratory) == len(items):
        return []
    return exploratory


def on_this_machine(run: Any) -> bool:
    """The embedded mock, or a server on a loopback address (neither is a shared staging)."""
    return bool(run.target.embedded or safety.is_loopback(str(run.target.base_url)))


class ForkPlugin:
    """Forks the helper after collection; replays its reports in this process's loop."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.remote: set[str] = set()
        self.pid: int | None = None
        self.reader: _Reader | None = None
        self.replayed = 0
        self.status = "still running"  # how the helper ended, once reaped

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_collection_finish(self, session: pytest.Session) -> Iterator[None]:
        go = self._fork(session)
        try:
            result = yield  # the other implementations: the plan starts (and a remote preflight is answered)
        except BaseException:
            if go is not None:
                go.close()  # the helper reads the end of the pipe and leaves without sending anything
            raise
        if go is not None:
            times = list(run_of(self.config).resources.answer_times)  # for --prefetch auto in the helper
            try:
                _send(go, {"go": True, "answer_times": times})
                go.close()
            except OSError:  # the helper is gone already: its tests fail in the loop, with its exit status
                pass
        return result

    def _fork(self, session: pytest.Session) -> IO[str] | None:
        """Fork the helper, if wanted; returns the pipe that tells it to go."""
        items = wanted(self.config, session.items)
        if not items:
            return None
        run_of(self.config).resources.target_url()  # the mock starts here, before the fork: one mock for both
        sys.stdout.flush()
        sys.stderr.flush()
        read_end, write_end = os.pipe()
        go_read, go_write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the helper: never returns
            os.close(read_end)
            os.close(go_write)
            _helper(session, items, os.fdopen(write_end, "w", encoding="utf-8"),
                    os.fdopen(go_read, "r", encoding="utf-8"))
        os.close(write_end)
        os.close(go_read)
        self.pid = pid
        self.remote = {i.nodeid for i in items}
        self.reader = _Reader(os.fdopen(read_end, "r", encoding="utf-8")).start()
        return os.fdopen(go_write, "w", encoding="utf-8")

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> bool | None:
        if item.nodeid not in self.remote or self.reader is None:
            return None
        ihook, config = item.ihook, item.config
        ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
        reports, warned, done, stop = self.reader.wait(item.nodeid)
        self.replayed += 1
        for message in warned:
            _replay_warning(config, message)
        for data in reports:
            ihook.pytest_runtest_logreport(report=config.hook.pytest_report_from_serializable(config=config,
                                                                                              data=data))
        if not done:
            self._lost(item, reports)
        if stop and not item.session.shouldstop:
            item.session.shouldstop = stop
        ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
        return True

    def _lost(self, item: pytest.Item, reports: list[dict[str, Any]]) -> None:
        """The helper ended without finishing this test: it fails here, with why."""
        status = self._reap(0.5)
        why = self.reader.error if self.reader is not None and self.reader.error else (
            f"the helper process running the exploratory tests ended before this test finished ({status}); "
            "rerun with --one-process to run it in the main process")
        # Not started (no report yet): an error in its setup, as pytest says of a test that could not begin.
        when = "call" if reports else "setup"
        report = pytest.TestReport(item.nodeid, item.location, {}, "failed", REDACTOR.text(why), when)
        item.ihook.pytest_runtest_logreport(report=report)
        run = run_of(item.config)
        if run.writer is not None:
            run.writer.write("judgement", test=item.nodeid, outcome="failed" if reports else "error", cut_short=None,
                             exploratory=True, known_issues=[], reason=None)

    @pytest.hookimpl(wrapper=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> Iterator[None]:
        # Before every view is written, however the loop ended (done, -x, Ctrl-C, pytest.exit).
        self.finish()
        return (yield)

    def finish(self) -> None:
        """Reap the helper before the views are written: they read its event file."""
        if self.pid is None:
            return
        # Every test of the helper replayed: it is only tearing down. Else the run stopped early: it goes now.
        self._reap(WAIT_FOR_EXIT if self.replayed >= len(self.remote) else 0.0)
        if self.reader is not None:
            self.reader.join()

    def _reap(self, wait: float) -> str:
        if self.pid is None:
            return self.status
        pid, deadline = self.pid, time.monotonic() + wait
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                self.status = _status(status)
                break
            if time.monotonic() >= deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                self.status = "killed: the run ended first"
                break
            time.sleep(0.01)
        self.pid = None
        return self.status

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        self._reap(0.0)  # never leave the helper behind, whatever skipped the session's end


def _status(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exit status {os.WEXITSTATUS(status)}"


class _Reader:
    """Reads the helper's messages as they come (a full pipe would stall it), sorted by test."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.condition = threading.Condition()
        self.reports: dict[str, list[dict[str, Any]]] = {}
        self.warnings: dict[str, list[dict[str, Any]]] = {}
        self.done: set[str] = set()
        self.stops: dict[str, str] = {}
        self.eof = False
        self.error: str | None = None
        self._thread = threading.Thread(target=self._loop, name="bctrl-helper-reader", daemon=True)

    def start(self) -> "_Reader":
        self._thread.start()
        return self

    def _loop(self) -> None:
        try:
            for line in self.stream:
                message = json.loads(line)
                with self.condition:
                    self._take(message)
                    self.condition.notify_all()
        except ValueError:  # a line cut short: the helper died writing it
            pass
        finally:
            with self.condition:
                self.eof = True
                self.condition.notify_all()
            self.stream.close()

    def _take(self, message: dict[str, Any]) -> None:
        # Keyed by the test that was running: a subtest's report has a node id of its own.
        if "report" in message:
            self.reports.setdefault(message["item"], []).append(message["report"])
        elif "warning" in message:
            self.warnings.setdefault(message["item"], []).append(message["warning"])
        elif "done" in message:
            self.done.add(message["done"])
            if message.get("stop"):
                self.stops[message["done"]] = message["stop"]
        elif "error" in message:
            self.error = message["error"]

    def wait(self, nodeid: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]], bool, str | None]:
        """The test's reports and warnings once the helper is done with it (or gone): and whether it finished."""
        with self.condition:
            self.condition.wait_for(lambda: nodeid in self.done or self.eof)
            return (self.reports.pop(nodeid, []), self.warnings.pop(nodeid, []), nodeid in self.done,
                    self.stops.get(nodeid))

    def join(self) -> None:
        self._thread.join(1.0)


# -- the helper process ------------------------------------------------------------------------------

def _helper(session: pytest.Session, items: list[pytest.Item], out: IO[str], go: IO[str]) -> None:
    """Run `items` here and send what happened; never returns."""
    code = 0
    try:
        config = session.config
        _become_helper(config)
        if not _wait_for_go(run_of(config), go):
            return  # the run ended before testing (a refused key, Ctrl-C): nothing sent, nothing to say
        sender = _Sender(config, out)
        config.pluginmanager.register(sender, "bctrl-helper-sender")
        for index, item in enumerate(items):
            nextitem = items[index + 1] if index + 1 < len(items) else None
            sender.item = item.nodeid
            item.config.hook.pytest_runtest_protocol(item=item, nextitem=nextitem)
            # A stop of its own (the breaker) travels; a failure count (-x, --maxfail) is the main process's
            # own, from the same reports.
            _send(out, {"done": item.nodeid, "stop": str(session.shouldstop) if session.shouldstop else None})
            if session.shouldfail or session.shouldstop:
                break
    except BaseException:  # noqa: BLE001 - whatever it was, this process must leave by os._exit
        code = 1
        try:
            _send(out, {"error": REDACTOR.text("the helper process running the exploratory tests failed:\n"
                                               + traceback.format_exc())})
        except Exception:  # noqa: BLE001 - the pipe is gone: the main process sees the end of it
            pass
    finally:
        try:
            run = run_of(session.config)
            if run.writer is not None:
                run.writer.close()
            out.close()
        finally:
            os._exit(code)


def _wait_for_go(run: Any, go: IO[str]) -> bool:
    """Until the main process says go, then until the target has answered once (or the breaker opened)."""
    parent = os.getppid()
    line = go.readline()
    go.close()
    if not line:
        return False
    run.resources.answer_times.extend(json.loads(line).get("answer_times", []))
    while not run.breaker.answered_or_open():
        if os.getppid() != parent:  # the main process is gone
            return False
        time.sleep(0.005)
    return True


def _become_helper(config: pytest.Config) -> None:
    """What must be this process's own: the event file, the HTTP client, output capture, the terminal."""
    import gc

    from _pytest._io import TerminalWriter

    gc.freeze()  # as the main process does after collection (hooks.py): the loaded world is not garbage
    run = run_of(config)
    run.controller = False  # the main process writes the views
    process = f"{HELPER}-{os.getpid()}"
    run.process = process
    run.writer = EventWriter(run.events_dir, process, api_key=run.target.api_key)
    run.judge.writer = run.writer
    run.resources.forked()
    run.writer.write("process", worker=HELPER, pid=os.getpid(), run_id=run.run_id, seed=run.seed)
    capman = config.pluginmanager.get_plugin("capturemanager")
    if capman is not None and capman.is_globally_capturing():  # capture files of its own, not the parent's
        capman.stop_global_capturing()
        capman.start_global_capturing()
        capman.suspend_global_capture()
    terminal = config.pluginmanager.get_plugin("terminalreporter")
    if terminal is not None:  # the main process prints every report of this one
        terminal._tw = TerminalWriter(open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115 - until os._exit


def _send(out: IO[str], message: dict[str, Any]) -> None:
    out.write(json.dumps(message, default=str) + "\n")
    out.flush()


class _Sender:
    """In the helper: every report and warning, to the main process."""

    def __init__(self, config: pytest.Config, out: IO[str]) -> None:
        self.config = config
        self.out = out
        self.item = ""  # the test running now

    @pytest.hookimpl(trylast=True)  # after the terminal's status hook: it fails a test whose subtests failed
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        data = self.config.hook.pytest_report_to_serializable(config=self.config, report=report)
        _send(self.out, {"report": data, "item": self.item})

    def pytest_warning_recorded(self, warning_message: warnings.WarningMessage, when: str, nodeid: str,
                                location: tuple[str, int, str] | None) -> None:
        category = warning_message.category
        _send(self.out, {"warning": {"message": REDACTOR.text(str(warning_message.message)),
                                     "category": f"{category.__module__}.{category.__qualname__}",
                                     "filename": warning_message.filename, "lineno": warning_message.lineno,
                                     "when": when, "nodeid": nodeid,
                                     "location": list(location) if location else None}, "item": self.item})


def _replay_warning(config: pytest.Config, data: dict[str, Any]) -> None:
    module, _, name = data["category"].rpartition(".")
    category = getattr(sys.modules.get(module), name, None)
    if not (isinstance(category, type) and issubclass(category, Warning)):
        category = UserWarning
    message = warnings.WarningMessage(category(data["message"]), category, data["filename"], data["lineno"])
    location = tuple(data["location"]) if data.get("location") else None
    config.hook.pytest_warning_recorded.call_historic(
        kwargs={"warning_message": message, "when": data["when"], "nodeid": data["nodeid"], "location": location})
