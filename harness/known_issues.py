"""Known, ticketed deviations of a target, turned into expected failures.

An entry (see known-issues.yaml) names a check, selects where it applies (test
id, request label, payload values, finding pointer, target) and gives the
reason and the ticket. Every selector narrows: a finding is covered only when
its check and every selector given match. Matching happens once, when an
exchange is judged (the payload selectors see the payload as sent, not its
masked record), and the record keeps the id of the entry that covered each
finding.

A test that fails *only* with covered findings is reported as xfailed; any
other failure in it stays a failure (a new regression). A passing test is
never touched, whatever the selectors match. At the end of the run, an entry
whose selected tests ran but which covered no finding is *stale* (the fix
looks landed): reported once, as a warning.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from contracts import yamlfile
from contracts.checks import pointer as json_pointer
from contracts.checks.model import MISSING, Finding


class KnownIssuesError(ValueError):
    """The expectations file is malformed; the message says where and how to fix it."""


def glob(pattern: str) -> re.Pattern[str]:
    """`*` matches anything; everything else is literal (test ids are full of `[` and `]`)."""
    return re.compile("^" + ".*".join(re.escape(part) for part in pattern.split("*")) + "$", re.DOTALL)


def resolve_pointer(document: Any, pointer: str) -> Any:
    """The value a selector's pointer names in a sent payload ('/' too means the whole payload)."""
    return json_pointer.resolve(document, "" if pointer == "/" else pointer)


@dataclass(frozen=True)
class KnownIssue:
    id: str
    check: str
    reason: str
    ticket: str
    test: str
    label: str | None = None
    pointer: str | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)
    target: str | None = None  # glob on the base URL ('embedded' for the embedded mock)

    def applies_to(self, nodeid: str, target: str) -> bool:
        """Does the entry select this test on this target (the test and target globs)?"""
        return bool(glob(self.test).match(nodeid)) and (self.target is None or bool(glob(self.target).match(target)))

    def covers(self, finding: Finding, request: Any, *, test: str, target: str) -> bool:
        """Does this entry explain `finding`, raised on `request` (a SentRequest as sent) in `test` on `target`?"""
        if finding.check != self.check or not self.applies_to(test, target):
            return False
        if self.pointer is not None and not glob(self.pointer).match(finding.pointer):
            return False
        if self.label is not None and not glob(self.label).match(getattr(request, "label", "") or ""):
            return False
        sent = getattr(request, "payload", MISSING)
        return all(_same(resolve_pointer(sent, p), v) for p, v in self.payload.items())

    @property
    def reason_line(self) -> str:
        return f"known issue {self.id}: {self.reason} ({self.ticket})"


def _entry(raw: Any, number: int, source: str, checks: Iterable[str]) -> KnownIssue:
    where = f"{source}: entry {number}"
    if not isinstance(raw, dict):
        raise KnownIssuesError(f"{where} is not a mapping")
    missing = [k for k in ("id", "check", "select", "reason", "ticket") if not raw.get(k)]
    if missing:
        raise KnownIssuesError(f"{where} lacks {', '.join(missing)}: every entry needs id, check, select, reason, ticket")
    known = set(checks)
    if known and raw["check"] not in known:
        raise KnownIssuesError(f"{where} ({raw['id']}) names check {raw['check']!r}, which does not exist; "
                               f"use one of: {', '.join(sorted(known))}")
    select = raw["select"]
    if not isinstance(select, dict) or not select.get("test"):
        raise KnownIssuesError(f"{where} ({raw['id']}): select needs a 'test' glob (a pytest node id, * wildcards)")
    unknown = set(select) - {"test", "label", "pointer", "payload", "target"}
    if unknown:
        raise KnownIssuesError(f"{where} ({raw['id']}): unknown selector(s) {', '.join(sorted(unknown))}")
    payload = select.get("payload") or {}
    if not isinstance(payload, dict) or not all(isinstance(k, str) and k.startswith("/") for k in payload):
        raise KnownIssuesError(f"{where} ({raw['id']}): select.payload maps JSON pointers ('/config/stealth') to values")
    return KnownIssue(str(raw["id"]), str(raw["check"]), str(raw["reason"]).strip(), str(raw["ticket"]),
                      str(select["test"]), select.get("label"), select.get("pointer"), payload, select.get("target"))


def load(path: str | Path, checks: Iterable[str] = ()) -> tuple[KnownIssue, ...]:
    """Read an expectations file; `checks` (registered names) catches typos in `check`."""
    path = Path(path)
    try:
        document = yamlfile.load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise KnownIssuesError(f"known issues file not found: {path}") from None
    except yaml.YAMLError as exc:
        raise KnownIssuesError(f"known issues file {path} is not valid YAML: {exc}") from None
    entries = (document or {}).get("issues") if isinstance(document, dict) else None
    if entries is None:
        entries = []
    if not isinstance(entries, list):
        raise KnownIssuesError(f"{path}: 'issues' must be a list of entries")
    issues = tuple(_entry(raw, n, str(path), checks) for n, raw in enumerate(entries, 1))
    ids = [i.id for i in issues]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise KnownIssuesError(f"{path}: duplicate ids {', '.join(duplicates)}")
    return issues


def _same(sent: Any, wanted: Any) -> bool:
    return sent is not MISSING and sent == wanted and type(sent) is type(wanted) or (
        isinstance(sent, (int, float)) and isinstance(wanted, (int, float)) and not isinstance(sent, bool)
        and not isinstance(wanted, bool) and sent == wanted)


def match(entries: Iterable[KnownIssue], findings: Iterable[Finding], request: Any, *, test: str,
          target: str) -> dict[int, str]:
    """Index of each finding some entry covers -> that entry's id (the first that does)."""
    entries = list(entries)
    covered: dict[int, str] = {}
    if not entries:
        return covered
    for index, finding in enumerate(findings):
        entry = next((e for e in entries if e.covers(finding, request, test=test, target=target)), None)
        if entry is not None:
            covered[index] = entry.id
    return covered


def statuses(entries: Iterable[KnownIssue], *, tests_run: Iterable[str], covering: Mapping[str, int],
             target: str) -> dict[str, str]:
    """Each entry's status at the end of a run.

    `covering` counts the findings each entry covered. Statuses: "still failing"
    (it covered findings), "stale" (tests it selects ran, and it covered nothing:
    the fix looks landed), "not run" (none of its tests ran), "other target".
    """
    ran = list(tests_run)
    out: dict[str, str] = {}
    for entry in entries:
        if covering.get(entry.id):
            out[entry.id] = "still failing"
        elif entry.target is not None and not glob(entry.target).match(target):
            out[entry.id] = "other target"
        elif any(entry.applies_to(test, target) for test in ran):
            out[entry.id] = "stale"
        else:
            out[entry.id] = "not run"
    return out
