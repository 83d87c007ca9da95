"""Distinct defects: the run's findings grouped into the bugs they are, with the requests they go with.

One server bug shows up as many findings: every request that meets it, under
every check that looks at the field it breaks (the schema check and the
"reflects the request" check both see `stealth: "extreme"`), and again under
schemathesis' own check for the exchanges it generated. The verdict counts
bugs, not findings. Pure functions of the event records; nothing re-judged.

Grouping, in two steps:

1. *Signature*: findings are the same deviation when they have the same
   severity, check, pointer with array indices normalised
   (`/config/extensions/3` -> `/config/extensions/*`) and message with its
   volatile parts removed (`kind_of`: quoted values, numbers, uuids,
   timestamps, ids, bracketed labels; another tool's long message is cut at
   its first colon, its class names the deviation). `'extreme' is not one
   of [...]` and `'bogus' is not one of [...]` at `/config/stealth` are one
   signature; which value the server sent is what the example shows.
2. *Defect*: signatures are one bug when they happen on the same exchanges
   (at least MERGE_OVERLAP of the smaller one's exchanges carry the other)
   and either name the same field (one field has one value per response:
   whatever checks object to it, one fix mends them all), or one of them is
   another tool's check (schemathesis runs beside our checks on its own
   exchanges, so its finding there is a second report of ours). The
   defect's `key` is its primary signature's (the first registered check,
   then the most exchanges): stable across runs while the server misbehaves
   the same way, which is what `trend.compare` needs.

Correlation, per defect D among the judged exchanges P its checks applied to
(every exchange with a request body for another tool's check): for each
request enum pointer of the contract's catalog, the values V whose requests
mostly showed D (at least PRECISION_MIN of the requests sending the value),
when nearly all of D (RECALL_MIN) sent one of V, V is not every value sent
there, and V is rare in the exchanges of P without D (ELSEWHERE_MAX): "only
when /config/stealth = ultra". No correlation from fewer than SUPPORT_MIN
exchanges, nor for a defect in every exchange. When no single pointer
explains D, pairs of values each present in nearly all of D are tried
("... = de-DE and /config/stealth = high"). Follow-up requests (source `follow-up`, the
covering row narrowed down) that reproduced D name the factors they held; a
judgement's "isolated by follow-up requests: ..." sentence is read too.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from contracts import Contract
from contracts.checks import REGISTRY
from harness.reporting.coverage import values_at

MERGE_OVERLAP = 0.8
SUPPORT_MIN = 3  # a correlation needs at least this many affected exchanges
RECALL_MIN = 0.9  # the value(s) in nearly all of the defect's exchanges
PRECISION_MIN = 0.5  # most requests sending the value(s) showed the defect
ELSEWHERE_MAX = 0.2  # and the value(s) in at most this share of the judged exchanges without the defect
TITLE_LENGTH = 200
FOREIGN_MESSAGE = 120  # another tool's message longer than this is cut at its first colon
ISOLATION_MARK = "isolated by follow-up requests:"
SEVERITY_ORDER = {"failure": 0, "warning": 1}
MAX_ISOLATED = 3  # more minimal failing factor sets than this: the follow-ups isolated nothing

_UUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")
_TIME = re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?")
_QUOTED = re.compile(r"'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\"")
_HEX = re.compile(r"\b[0-9a-fA-F]{16,}\b")
_POINTER_INDEX = re.compile(r"(?<=/)\d+(?=/|\b)")
_NUMBER = re.compile(r"(?<![\w/*<])-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?:\s*(?:years|days|hours|minutes|ms|s)\b)?")
_BRACES = re.compile(r"\{[^{}]*\}")
_BRACKETS = re.compile(r"\[[^\[\]]*\]")
_LITERALS = re.compile(r"\b(?:None|True|False|null|true|false)\b")
_SENT_AS = re.compile(r"\((/[^\s()]*) sent as ")
_FOLLOW_UP = re.compile(r"^follow-up isolate:(.*):([^:]+)$")  # follow-up isolate:<row>:<factor>[+<factor>]


def normalise_pointer(pointer: str) -> str:
    """Array indices as `*`: `/config/extensions/3` -> `/config/extensions/*` (other pointers unchanged)."""
    if not pointer.startswith("/"):
        return pointer
    return "/".join("*" if part.isdigit() else part for part in pointer.split("/"))


def kind_of(check: str, message: str) -> str:
    """The kind of deviation a message names: its first line without the values, ids and numbers in it."""
    text = (message or "").strip().splitlines()[0] if (message or "").strip() else ""
    if check not in REGISTRY:
        text = _cut(text)
    text = _UUID.sub("<id>", text)
    text = _TIME.sub("<time>", text)
    text = _QUOTED.sub("<v>", text)
    text = _HEX.sub("<id>", text)
    text = _POINTER_INDEX.sub("*", text)
    text = _NUMBER.sub("<n>", text)
    for pattern, mark in ((_BRACES, "<object>"), (_BRACKETS, "<list>")):
        previous = None
        while previous != text:
            previous, text = text, pattern.sub(mark, text)
    text = _LITERALS.sub("<v>", text)
    return " ".join(text.split())


def _cut(text: str) -> str:
    """Another tool's long message: its summary before the first colon (schemathesis quotes whole bodies)."""
    return text.split(":", 1)[0] if len(text) > FOREIGN_MESSAGE and ":" in text else text


def short_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]


def signature_key(check: str, pointer: str, message: str) -> str:
    """`check:normalised pointer:hash of the kind of deviation`: a defect's `key` is its primary signature's."""
    return f"{check}:{normalise_pointer(pointer or '') or '-'}:{short_hash(kind_of(check, message))}"


def signature(finding: Any) -> str:
    """The signature key of one finding (a record's dict or a `Finding`), e.g. to tell while a run goes that a
    failure repeats a deviation already reported (and shorten its output)."""
    def get(name: str) -> str:
        value = finding.get(name) if isinstance(finding, Mapping) else getattr(finding, name, "")
        return str(value or "")

    return signature_key(get("check"), get("pointer"), get("message"))


@dataclass
class _Signature:
    severity: str
    check: str
    pointer: str
    kind: str
    findings: list[tuple[int | None, dict[str, Any]]] = field(default_factory=list)  # (exchange index, finding)
    exchanges: set[int] = field(default_factory=set)
    tests: list[str] = field(default_factory=list)

    @property
    def foreign(self) -> bool:
        return self.check not in REGISTRY

    def rank(self) -> tuple[int, int, str]:
        order = list(REGISTRY)
        return (order.index(self.check) if self.check in REGISTRY else len(order), -len(self.exchanges), self.check)

    @property
    def key(self) -> str:
        return f"{self.check}:{self.pointer or '-'}:{short_hash(self.kind)}"  # = signature_key() of its findings

    def message(self) -> str:
        """The most common message as written (first line), for a title a person reads.

        Another tool's long message (schemathesis quotes the body in it) is cut at its first colon."""
        counted = Counter(_first_line(f.get("message", "")) for _, f in self.findings)
        text = counted.most_common(1)[0][0] if counted else ""
        return _cut(text) if self.foreign else text


def _first_line(text: str) -> str:
    stripped = (text or "").strip()
    return stripped.splitlines()[0] if stripped else ""


class _Union:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def join(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _overlap(a: set[int], b: set[int]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def _same_bug(a: _Signature, b: _Signature) -> bool:
    if a.severity != b.severity or _overlap(a.exchanges, b.exchanges) < MERGE_OVERLAP:
        return False
    if a.foreign != b.foreign:
        return True
    return bool(a.pointer) and a.pointer == b.pointer


def _signatures(exchanges: Sequence[Mapping[str, Any]], run_findings: Iterable[Mapping[str, Any]],
                severity: str) -> list[_Signature]:
    found: dict[tuple[str, str, str], _Signature] = {}

    def add(index: int | None, raw: Mapping[str, Any], test: str) -> None:
        check, pointer = str(raw.get("check", "")), normalise_pointer(str(raw.get("pointer") or ""))
        kind = kind_of(check, str(raw.get("message", "")))
        sig = found.setdefault((check, pointer, kind), _Signature(severity, check, pointer, kind))
        sig.findings.append((index, dict(raw)))
        if index is not None:
            sig.exchanges.add(index)
        if test not in sig.tests:
            sig.tests.append(test)

    for index, record in enumerate(exchanges):
        for raw in record.get("findings") or ():
            if raw.get("severity") == severity and not raw.get("known_issue"):
                add(index, raw, str(record.get("test", "")))
    for raw in run_findings:
        if raw.get("severity") == severity and not raw.get("known_issue"):
            add(None, raw, str(raw.get("test", "")))
    return list(found.values())


def _clusters(signatures: list[_Signature]) -> list[list[_Signature]]:
    union = _Union(len(signatures))
    for i, j in itertools.combinations(range(len(signatures)), 2):
        if _same_bug(signatures[i], signatures[j]):
            union.join(i, j)
    groups: dict[int, list[_Signature]] = {}
    for i, sig in enumerate(signatures):
        groups.setdefault(union.find(i), []).append(sig)
    return [sorted(g, key=_Signature.rank) for g in groups.values()]


def _body_size(record: Mapping[str, Any]) -> int:
    request = record.get("request") or {}
    payload = request.get("payload")
    if payload is not None:
        return len(json.dumps(payload, separators=(",", ":"), ensure_ascii=False))
    text = str(request.get("text") or "")
    return len(text.split("\n\n", 1)[1]) if "\n\n" in text else 0


def _request_pointers(record: Mapping[str, Any], findings: Iterable[Mapping[str, Any]]) -> list[str]:
    """The sent fields a finding relates to: its own pointer when the request has it, a "sent as" pointer."""
    payload = (record.get("request") or {}).get("payload")
    pointers: list[str] = []
    for f in findings:
        for ptr in [str(f.get("pointer") or ""), *_SENT_AS.findall(str(f.get("message") or ""))]:
            if ptr.startswith("/") and ptr not in pointers and payload is not None and values_at(payload, ptr):
                pointers.append(ptr)
    return pointers


def _example(cluster: list[_Signature], exchanges: Sequence[Mapping[str, Any]],
             indices: set[int]) -> dict[str, Any] | None:
    if not indices:
        return None
    primary = cluster[0]

    def carried(index: int) -> int:
        return sum(1 for sig in cluster if index in sig.exchanges)

    best = min(indices, key=lambda i: (_body_size(exchanges[i]), i not in primary.exchanges, -carried(i), i))
    record = exchanges[best]
    mine = [f for sig in cluster for index, f in sig.findings if index == best]
    response = record.get("response")
    request = record.get("request") or {}
    return {
        "test": record.get("test", ""), "label": record.get("label", ""), "source": record.get("source"),
        "intent": record.get("intent"), "size": _body_size(record),
        "status": response.get("status") if response else None,
        "request": request.get("text", ""),
        "response": response.get("text", "") if response else f"(no response: {record.get('error')})",
        "curl": record.get("curl", ""),
        "findings": [{k: f.get(k, "") for k in ("check", "pointer", "message", "expected", "got")} for f in mine],
        "response_pointers": sorted({str(f.get("pointer")) for f in mine
                                     if str(f.get("pointer") or "").startswith("/")}),
        "request_pointers": _request_pointers(record, mine),
        "payload": request.get("payload"),
    }


class _Values:
    """The request enum values each exchange sent, per pointer of the contract's catalog."""

    def __init__(self, contract: Contract | None, exchanges: Sequence[Mapping[str, Any]]) -> None:
        pointers: list[str] = []
        for entry in contract.enums_on("request") if contract is not None else ():
            if entry.pointer not in pointers:
                pointers.append(entry.pointer)
        self.pointers = pointers
        self.sent: list[dict[str, frozenset[str]]] = []
        for record in exchanges:
            payload = (record.get("request") or {}).get("payload")
            row: dict[str, frozenset[str]] = {}
            if payload is not None:
                for ptr in pointers:
                    found = values_at(payload, ptr)
                    if found:
                        row[ptr] = frozenset(v if isinstance(v, str) else json.dumps(v) for v in found)
            self.sent.append(row)

    def has(self, index: int, ptr: str, values: Iterable[str]) -> bool:
        return bool(self.sent[index].get(ptr, frozenset()) & set(values))


def _phrase(ptr: str, values: Sequence[str]) -> str:
    return f"{ptr} = {values[0]}" if len(values) == 1 else f"{ptr} is {' or '.join(values)}"


def correlate(values: _Values, defect: set[int], population: set[int]) -> list[dict[str, Any]]:
    """The request values the defect's exchanges go with (see the module docstring), best first."""
    population = population | defect
    rest = len(population) - len(defect)
    if len(defect) < SUPPORT_MIN or not rest:
        return []  # too few to tell, or the defect is everywhere: no value singles it out

    def telling(with_defect: int, with_value: int) -> bool:
        precision = with_defect / with_value if with_value else 0.0
        return (with_defect / len(defect) >= RECALL_MIN and precision >= PRECISION_MIN
                and (with_value - with_defect) / rest <= ELSEWHERE_MAX)

    found: list[dict[str, Any]] = []
    for ptr in values.pointers:
        in_defect: Counter[str] = Counter()
        in_population: Counter[str] = Counter()
        for index in population:
            for value in values.sent[index].get(ptr, ()):
                in_population[value] += 1
                if index in defect:
                    in_defect[value] += 1
        chosen = sorted(v for v in in_defect if in_defect[v] / in_population[v] >= PRECISION_MIN)
        if not chosen or len(chosen) >= len(in_population) or len(chosen) > max(2, len(in_population) // 2):
            continue
        with_defect = sum(1 for i in defect if values.has(i, ptr, chosen))
        with_value = sum(1 for i in population if values.has(i, ptr, chosen))
        if telling(with_defect, with_value):
            found.append(_correlation([(ptr, chosen)], with_defect, len(defect), with_value))
    if found:
        return sorted(found, key=lambda c: (-c["share_failed"], -c["affected_with"], len(c["values"])))
    candidates = [(ptr, value) for ptr in values.pointers
                  for value in sorted({v for i in defect for v in values.sent[i].get(ptr, ())})
                  if sum(1 for i in defect if values.has(i, ptr, [value])) / len(defect) >= RECALL_MIN]
    for (p1, v1), (p2, v2) in itertools.combinations(candidates, 2):
        if p1 == p2:
            continue
        with_defect = sum(1 for i in defect if values.has(i, p1, [v1]) and values.has(i, p2, [v2]))
        with_value = sum(1 for i in population if values.has(i, p1, [v1]) and values.has(i, p2, [v2]))
        if telling(with_defect, with_value):
            found.append(_correlation([(p1, [v1]), (p2, [v2])], with_defect, len(defect), with_value))
    return sorted(found, key=lambda c: (-c["share_failed"], -c["affected_with"]))[:3]


def _correlation(terms: list[tuple[str, list[str]]], with_defect: int, affected: int,
                 with_value: int) -> dict[str, Any]:
    return {
        "terms": [{"pointer": p, "values": list(v)} for p, v in terms],
        "pointer": terms[0][0], "values": list(terms[0][1]),
        "sentence": " and ".join(_phrase(p, v) for p, v in terms),
        "affected_with": with_defect, "affected": affected, "sent_with": with_value,
        "share_failed": round(with_defect / with_value, 3) if with_value else 0.0,
    }


def _isolated_to(indices: set[int], exchanges: Sequence[Mapping[str, Any]]) -> list[str]:
    """The smallest sets of a failing row's factors whose follow-up probe reproduced the defect.

    Only from rows whose probes told something apart (one of them did not show the defect): when every
    probe of a row fails, the defect does not depend on the row's values and nothing was isolated."""
    probes: dict[str, dict[str, bool]] = {}
    for index, record in enumerate(exchanges):
        match = _FOLLOW_UP.match(str(record.get("label") or ""))
        if record.get("source") == "follow-up" and match:
            probes.setdefault(match.group(1), {})[match.group(2)] = index in indices
    found: set[str] = set()
    for results in probes.values():
        if all(results.values()):
            continue
        failing = [set(schema.split("+")) for schema, failed in results.items() if failed]
        found |= {" and ".join(sorted(f)) for f in failing if not any(o < f for o in failing)}
    return sorted(found) if len(found) <= MAX_ISOLATED else []


def _isolation(indices: set[int], exchanges: Sequence[Mapping[str, Any]], reasons: Mapping[str, str],
               isolated: list[str]) -> list[str]:
    """What follow-up requests said: the factors whose probe alone reproduced the defect, and recorded sentences."""
    sentences = [f"a follow-up request holding only {schema} of a failing row reproduced it" for schema in isolated]
    tests = {str(exchanges[i].get("test", "")) for i in indices}
    for test in sorted(tests):
        reason = reasons.get(test) or ""
        if ISOLATION_MARK in reason:
            sentence = " ".join(reason.split(ISOLATION_MARK, 1)[1].split())
            if sentence and sentence not in sentences:
                sentences.append(sentence)
    return sentences


def group(contract: Contract | None, events: Sequence[Mapping[str, Any]],
          severity: str = "failure") -> list[dict[str, Any]]:
    """The run's findings of one severity (known issues aside) as distinct defects, most exchanges first."""
    exchanges = [e for e in events if e.get("kind") == "exchange"]
    run_findings = [e for e in events if e.get("kind") == "finding"]
    reasons = {str(e.get("test", "")): str(e.get("reason") or "") for e in events
               if e.get("kind") == "judgement" and e.get("reason")}
    signatures = _signatures(exchanges, run_findings, severity)
    if not signatures:
        return []
    values = _Values(contract, exchanges)
    judged_payloads = {i for i, e in enumerate(exchanges) if (e.get("request") or {}).get("payload") is not None}
    out = []
    for cluster in _clusters(signatures):
        primary = cluster[0]
        indices = set().union(*(sig.exchanges for sig in cluster))
        tests: list[str] = []
        for sig in cluster:
            tests += [t for t in sig.tests if t not in tests]
        applied = {sig.check for sig in cluster if sig.check in REGISTRY}
        population = ({i for i, e in enumerate(exchanges) if applied & set(e.get("checks") or ())}
                      if applied else set(judged_payloads))
        correlation = correlate(values, indices, population)
        example = _example(cluster, exchanges, indices)
        if example is not None:
            payload = example.pop("payload")
            for corr in correlation[:1]:
                for term in corr["terms"]:
                    if payload is not None and values_at(payload, term["pointer"]) and \
                            term["pointer"] not in example["request_pointers"]:
                        example["request_pointers"].append(term["pointer"])
        title = primary.message()
        isolated = _isolated_to(indices, exchanges)
        out.append({
            "key": primary.key, "severity": severity, "check": primary.check,
            "checks": list(dict.fromkeys(sig.check for sig in cluster)),
            "pointer": primary.pointer, "kind": primary.kind,
            "title": title if len(title) <= TITLE_LENGTH else title[:TITLE_LENGTH - 3] + "...",
            "exchanges": len(indices), "tests": len([t for t in tests if t]),
            "findings": sum(len(sig.findings) for sig in cluster), "test_ids": [t for t in tests if t],
            "judged": len(population | indices),
            "signatures": [{"key": sig.key, "check": sig.check, "pointer": sig.pointer, "kind": sig.kind,
                            "message": sig.message()[:TITLE_LENGTH], "exchanges": len(sig.exchanges),
                            "findings": len(sig.findings)} for sig in cluster],
            "correlation": correlation,
            "only_when": f"only when {correlation[0]['sentence']}" if correlation else "",
            "isolation": _isolation(indices, exchanges, reasons, isolated),
            "isolated_to": isolated,
            "example": example,
            "run_level": not indices,
        })
    out.sort(key=lambda d: (SEVERITY_ORDER.get(d["severity"], 2), -d["exchanges"], -d["tests"], d["key"]))
    prefix = "D" if severity == "failure" else "W"
    for n, defect in enumerate(out, 1):
        defect["id"] = f"{prefix}{n}"
    return out
