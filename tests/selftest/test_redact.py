"""The redactor's matching: every learned secret is found and masked, in pending secrets and compiled levels alike.

Secrets are learned one by one over a run: the first PENDING_MAX are looked for as plain
strings, later ones in levels of Aho-Corasick automatons merged like a binary counter. The
properties hold whichever of them holds a secret.
"""
from __future__ import annotations

import json
import string

from hypothesis import given, settings, strategies as st

from harness.recording.redact import LONG_SECRET, MASK, PENDING_MAX, Redactor

ALPHABET = string.ascii_letters + string.digits + "-_:/+=\"\\ \u00e9\u4e2d\U0001f600\x00\x17"
secrets_ = st.text(alphabet=ALPHABET, min_size=4, max_size=40)
filler = st.text(alphabet=string.ascii_letters + " .,{}", max_size=200)


def _learned(many: list[str]) -> Redactor:
    redactor = Redactor()
    for secret in many:
        redactor.register(secret)
    return redactor


@settings(max_examples=60, deadline=None)
@given(st.lists(secrets_, min_size=1, max_size=3 * PENDING_MAX + 5, unique=True), st.data())
def test_every_learned_secret_is_masked_and_found(many: list[str], data: st.DataObject) -> None:
    redactor = _learned(many)
    secret = data.draw(st.sampled_from(many))
    text = data.draw(filler) + secret + data.draw(filler)
    assert secret not in redactor.text(text)
    assert MASK in redactor.text(text)
    value = {"k": [text, {"n": text}]}
    assert not redactor.absent(json.dumps(value, ensure_ascii=False))  # found, JSON-escaped or not
    assert secret not in json.dumps(redactor.scrub(value), ensure_ascii=False)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(alphabet=string.digits, min_size=6, max_size=12), min_size=1, max_size=2 * PENDING_MAX,
                unique=True), st.text(alphabet=string.ascii_letters + " ", max_size=300))
def test_text_without_a_secret_is_left_alone(many: list[str], text: str) -> None:
    redactor = _learned(many)
    assert redactor.text(text) == text
    assert redactor.absent(json.dumps(text, ensure_ascii=False))


def test_overlapping_and_nested_secrets_leave_no_part_behind() -> None:
    redactor = _learned([f"filler-{n:04d}" for n in range(2 * PENDING_MAX)] + ["abcdefgh", "defghijk", "cdef"])
    out = redactor.text("xx abcdefghijk yy")
    assert out == f"xx {MASK} yy", out


def test_a_long_secret_and_its_head_are_masked() -> None:
    long_secret = "p" * (LONG_SECRET * 3)
    redactor = _learned([long_secret])
    assert redactor.text(f"a {long_secret} b") == f"a {MASK} b"
    assert long_secret[:LONG_SECRET] not in redactor.text("preview: " + long_secret[: LONG_SECRET + 10])
