"""This run's defects against a previous run's summary.json: which are new, still present, fixed.

Defects are matched by `key` (check, normalised pointer, kind of deviation:
see defects.py), so the same bug on another request, with another id or
timestamp, is "still present". A previous defect whose checks judged nothing
in this run is "not re-tested", not "fixed". Pure: `compare()` reads two
dicts, `with_trend()` returns new facts; the controller reads the file
(`read_summary`) and writes summary.json as usual.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping


def read_summary(path: Path | str) -> dict[str, Any]:
    """A previous run's summary.json; ValueError (with what to do) when it cannot be used."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror or exc}; pass the summary.json of an earlier run") from exc
    except ValueError as exc:
        raise ValueError(f"{path} is not JSON ({exc}); pass the summary.json of an earlier run") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{path} is not a run summary (a JSON object); pass the summary.json of an earlier run")
    return data


def _judged_checks(facts: Mapping[str, Any]) -> set[str]:
    return {c["check"] for c in facts.get("checks") or () if c.get("judged")}


def _brief(d: Mapping[str, Any]) -> dict[str, Any]:
    return {k: d.get(k) for k in ("key", "id", "check", "checks", "pointer", "title", "exchanges", "tests")}


def compare(current: Mapping[str, Any], previous: Mapping[str, Any]) -> dict[str, Any]:
    """Each current defect `new` or `still present`, each previous one not seen again `fixed` (or not re-tested)."""
    ident = str(previous.get("run_id") or "the previous run")
    if not isinstance(previous.get("defects"), list):
        reason = (f"not compared: {ident}'s summary has no distinct defects (schema version "
                  f"{previous.get('schema_version', '?')}; written before defects were recorded)")
        return {"comparable": False, "previous_run_id": previous.get("run_id"), "reason": reason, "line": reason,
                "status": {}, "new": [], "still_present": [], "fixed": [], "not_retested": []}
    before = {d["key"]: d for d in previous["defects"] if d.get("severity", "failure") == "failure"}
    now = {d["key"]: d for d in current.get("defects") or () if d.get("severity", "failure") == "failure"}
    judged = _judged_checks(current)
    status = {key: "still present" if key in before else "new" for key in now}
    gone = [d for key, d in before.items() if key not in now]
    fixed = [_brief(d) for d in gone if set(d.get("checks") or [d.get("check")]) & judged]
    not_retested = [_brief(d) for d in gone if not set(d.get("checks") or [d.get("check")]) & judged]
    counts = {"new": sum(1 for s in status.values() if s == "new"),
              "still_present": sum(1 for s in status.values() if s == "still present"),
              "fixed": len(fixed), "not_retested": len(not_retested)}
    line = (f"{counts['new']} new, {counts['still_present']} still present, {counts['fixed']} fixed since {ident}"
            + (f" ({counts['not_retested']} not re-tested: their checks judged nothing this run)"
               if not_retested else ""))
    target_now = (current.get("target") or {}).get("base_url")
    target_then = (previous.get("target") or {}).get("base_url")
    if target_now != target_then:
        line += f" (that run's target: {target_then or 'embedded reference mock'})"
    return {"comparable": True, "previous_run_id": previous.get("run_id"), "previous_started": previous.get("started"),
            "previous_target": target_then, "status": status, "counts": counts, "line": line,
            "new": [k for k, s in status.items() if s == "new"],
            "still_present": [k for k, s in status.items() if s == "still present"],
            "fixed": fixed, "not_retested": not_retested}


def with_trend(facts: Mapping[str, Any], trend: Mapping[str, Any]) -> dict[str, Any]:
    """The facts with `trend` (compare()'s result) and each defect's `trend`: new, still present."""
    status = trend.get("status") or {}
    defects = [{**d, "trend": status[d["key"]]} if d.get("key") in status else dict(d)
               for d in facts.get("defects") or ()]
    return {**facts, "trend": dict(trend), "defects": defects}


def compare_with_file(facts: Mapping[str, Any], path: Path | str) -> dict[str, Any]:
    """`with_trend(facts, compare(facts, read_summary(path)))`; an unreadable file becomes the trend's reason."""
    try:
        previous = read_summary(path)
    except ValueError as exc:
        reason = f"not compared: {exc}"
        return with_trend(facts, {"comparable": False, "reason": reason, "line": reason, "status": {},
                                  "new": [], "still_present": [], "fixed": [], "not_retested": []})
    return with_trend(facts, compare(facts, previous))
