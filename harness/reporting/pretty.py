"""HTTP texts as a person reads them: JSON bodies indented, the lines of given JSON pointers marked.

Pure text work for the HTML view (no markup here): `lines()` splits a
recorded request or response text (head, blank line, body) into lines, each
with whether it is to be highlighted; a JSON body is re-indented and every
line knows the pointer it belongs to, so `/config/stealth` marks the line
`"stealth": "extreme"` and a pointer to an object marks the whole object. A
long body folds the objects and arrays away from the marked lines (`{...}`),
so the offending line is in view; the view shows the text as recorded too.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Iterable

FOLD_OVER = 24  # a JSON body longer than this (pretty) folds the objects and arrays away from the marked lines
MAX_LINES = 60  # still longer: keep its head, the marked lines with some context, and its end
CONTEXT = 3


@dataclass(frozen=True)
class Line:
    text: str
    marked: bool = False
    elided: int = 0  # >0: stands for this many lines left out
    folded: int = 0  # >0: an object or array shown as {...} or [...]; its length unfolded


def _escape_token(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _size(value: Any) -> int:
    """How many lines `json.dumps(value, indent=2)` takes."""
    if isinstance(value, dict) and value:
        return 2 + sum(_size(v) for v in value.values())
    if isinstance(value, list) and value:
        return 2 + sum(_size(v) for v in value)
    return 1


def json_lines(value: Any, pointer: str = "", indent: int = 0, key: str | None = None, last: bool = True,
               fold: Callable[[str], bool] | None = None) -> list[tuple[str, str, int]]:
    """`json.dumps(value, indent=2)` as (pointer, line, folded) triples, each line with the pointer of the value it
    shows; an object or array whose pointer `fold` holds for is one line (`{...}`), `folded` its unfolded length."""
    pad = "  " * indent
    label = json.dumps(key, ensure_ascii=False) + ": " if key is not None else ""
    comma = "" if last else ","
    if isinstance(value, (dict, list)) and value and fold is not None and pointer and fold(pointer):
        return [(pointer, f"{pad}{label}{'{...}' if isinstance(value, dict) else '[...]'}{comma}", _size(value))]
    if isinstance(value, dict) and value:
        out = [(pointer, f"{pad}{label}{{", 0)]
        items = list(value.items())
        for i, (k, v) in enumerate(items):
            out += json_lines(v, f"{pointer}/{_escape_token(str(k))}", indent + 1, str(k), i == len(items) - 1, fold)
        return out + [(pointer, f"{pad}}}{comma}", 0)]
    if isinstance(value, list) and value:
        out = [(pointer, f"{pad}{label}[", 0)]
        for i, v in enumerate(value):
            out += json_lines(v, f"{pointer}/{i}", indent + 1, None, i == len(value) - 1, fold)
        return out + [(pointer, f"{pad}]{comma}", 0)]
    return [(pointer, f"{pad}{label}{json.dumps(value, ensure_ascii=False)}{comma}", 0)]


def _hit(line_pointer: str, pointers: Iterable[str]) -> bool:
    return any(p and (line_pointer == p or line_pointer.startswith(p + "/")) for p in pointers)


def _elide(out: list[Line]) -> list[Line]:
    if len(out) <= MAX_LINES:
        return out
    keep = set(range(min(8, len(out)))) | set(range(len(out) - 3, len(out)))
    for i, line in enumerate(out):
        if line.marked:
            keep |= set(range(max(0, i - CONTEXT), min(len(out), i + CONTEXT + 1)))
    result: list[Line] = []
    skipped = 0
    for i, line in enumerate(out):
        if i in keep:
            if skipped:
                result.append(Line("", elided=skipped))
                skipped = 0
            result.append(line)
        else:
            skipped += 1
    if skipped:
        result.append(Line("", elided=skipped))
    return result


def lines(text: str, pointers: Iterable[str] = ()) -> tuple[list[Line], bool]:
    """The text's lines, a JSON body pretty-printed with `pointers` marked; and whether the body was JSON."""
    pointers = [p for p in pointers if p]
    head, sep, body = (text or "").partition("\n\n")
    out = [Line(h) for h in head.split("\n")] if head else []
    if not sep:
        return out, False
    try:
        document = json.loads(body)
    except ValueError:
        return out + [Line("")] + [Line(b) for b in body.split("\n")], False
    if not isinstance(document, (dict, list)):
        return out + [Line(""), Line(body)], False

    def away(ptr: str) -> bool:  # neither on the way to a marked value nor inside one
        return not any(m == ptr or m.startswith(ptr + "/") or ptr.startswith(m + "/") for m in pointers)

    fold = away if pointers and _size(document) > FOLD_OVER else None
    out.append(Line(""))
    out += [Line(t, _hit(p, pointers), folded=n) for p, t, n in json_lines(document, fold=fold)]
    return _elide(out), True
