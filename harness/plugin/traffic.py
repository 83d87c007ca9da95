"""`pytest --traffic=PATH`: judge recorded traffic (HAR files) with the same checks, nothing sent.

Every entry of a HAR 1.2 file (or of every `*.har` in a folder) that is an
exchange of the contract's path, whatever the host (`--traffic-base-url`
narrows to one and strips its path prefix), becomes one test item
(tests/conformance/test_traffic.py), judged by every check of the registry
with the same severities; intents are decided from what was sent and answered
(harness/traffic/judging.py). Other entries (other routes, CORS preflights,
assets) are counted and listed as not in the contract. No target is resolved
and no mock is started; reports, summary.json, junit.xml and exit codes are
those of a generated run (4 for a file that is not HAR).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.traffic import TrafficError, TrafficJudge, load_contract_traffic

TRAFFIC_MODULE = "test_traffic.py"


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("bctrl-traffic", "bctrl: judge recorded traffic")
    group.addoption("--traffic", default=None, metavar="PATH",
                    help="judge the exchanges recorded in a HAR file (or a folder of *.har) instead of sending "
                         "anything; use the = form: --traffic=PATH")
    group.addoption("--traffic-base-url", default=None, metavar="URL",
                    help="only entries under this URL count (its path prefix is stripped before matching)")


def mode(config: pytest.Config) -> bool:
    return bool(config.getoption("traffic", None))


def load(config: pytest.Config, run: Any) -> None:
    """Read the recording (one line and exit 4 when it cannot be read as HAR) and prepare its judge."""
    path = config.getoption("traffic")
    try:
        traffic = load_contract_traffic(path, run.contract, base_url=config.getoption("traffic_base_url"))
    except TrafficError as exc:
        raise pytest.UsageError(str(exc)) from None
    run.traffic = traffic
    run.traffic_judge = TrafficJudge(run.judge, source="traffic", standalone=False)
    run.traffic_judge.prescan(traffic.exchanges)


def params(run: Any) -> list[Any]:
    """One pytest parameter per recorded exchange: `<file>#<entry> <METHOD> <path>`."""
    out = []
    for recorded in run.traffic.exchanges:
        request = recorded.request
        name = Path(recorded.source).name
        path = request.url.split("://", 1)[-1].split("/", 1)[-1].split("?", 1)[0]
        out.append(pytest.param(recorded, id=f"{name}#{recorded.index} {request.method} /{path}"))
    return out


def ignore(collection_path: Path, config: pytest.Config) -> bool | None:
    """With --traffic only the traffic module is collected; without it, never."""
    if collection_path.name.startswith("test_") and collection_path.suffix == ".py" \
            and collection_path.parent.name == "conformance":
        return (collection_path.name != TRAFFIC_MODULE) if mode(config) else (collection_path.name == TRAFFIC_MODULE)
    return None


def facts(run: Any) -> dict[str, Any]:
    """What the report says about the recording beside the judged exchanges."""
    traffic, judge = run.traffic, run.traffic_judge
    return {
        "files": traffic.files,
        "entries": traffic.entries,
        "exchanges": len(traffic.exchanges),
        "not_in_contract": [{"method": o.method, "url": o.url, "reason": o.reason, "source": Path(o.source).name,
                             "entry": o.index} for o in traffic.other],
        "not_judged": [{"test": o.test, "reason": o.reason} for o in judge.not_judged],
    }
