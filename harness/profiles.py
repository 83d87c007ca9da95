"""Hypothesis settings profiles: `--hypothesis-profile dev|ci|nightly` (default: ci).

- dev: 10 examples, no explain phase: a quick look while editing;
- ci: 40 examples, the default; the whole default `pytest` run stays well under 30 s
  (the covering set and the invalid catalog are fixed lists, not examples);
- nightly: 400 examples, for the scheduled run against staging.
Every profile shrinks a failure and prints the shrunk payload (the `Draw 1 (payload)`
note) with a `@reproduce_failure` blob; `--hypothesis-seed N` replays a whole run,
since no example database is kept (a shared CI machine has none to share).
"""
from __future__ import annotations

from hypothesis import HealthCheck, Phase, settings

DEFAULT_PROFILE = "ci"
_common = dict(
    deadline=None,  # network round trips vary; timeouts are the client's business
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    database=None,  # reproduce with --hypothesis-seed, not a local example database
    print_blob=True,
)
PROFILES = {
    "dev": settings(max_examples=10, phases=[Phase.explicit, Phase.generate, Phase.shrink], **_common),
    "ci": settings(max_examples=40, **_common),
    "nightly": settings(max_examples=400, **_common),
}


def register() -> None:
    for name, profile in PROFILES.items():
        settings.register_profile(name, profile)
