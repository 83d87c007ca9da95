"""Hypothesis settings profiles: `--hypothesis-profile dev|ci|nightly` (default: ci).

- dev: 10 examples, no explain phase: a quick look while editing;
- ci: 40 examples, the default, without the explain phase; the whole default `pytest` run stays well under 30 s
  (the covering set and the invalid catalog are fixed lists, not examples);
- nightly: 400 examples, for the scheduled run against staging.
Every profile shrinks a failure and prints the shrunk payload; the report's replay
command (`--hypothesis-seed N` and the target) replays a whole run, since no example
database is kept (a shared CI machine has none to share).
"""
from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, Phase, settings

DEFAULT_PROFILE = "ci"
_common = dict(
    deadline=None,  # network round trips vary; timeouts are the client's business
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    database=None,  # reproduce with --hypothesis-seed, not a local example database
    # No "@reproduce_failure(...)" blob: the report prints the whole command that replays the run.
    print_blob=False,
)
PROFILES = {
    "dev": settings(max_examples=10, phases=[Phase.explicit, Phase.generate, Phase.shrink], **_common),
    # No explain phase by default: on a failing server it replayed every shrunk example
    # variant and took 11 s of a 17 s run; nightly keeps it for the richer printout.
    "ci": settings(max_examples=40, phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
                   **_common),
    "nightly": settings(max_examples=400, **_common),
}


# Which of schemathesis' coverage-phase modes each profile runs (tests/conformance/test_schemathesis.py).
# Its negative mode sends every other JSON type in place of every field, each
# missing required property and each enum outside its list: about 220 cases on
# this contract, which the invalid catalogue (strategies/invalid.yaml, 99 named
# cases with their own expectations) already covers kind for kind in every run.
# In dev and ci they cost a quarter of the run for that overlap, so only the
# scheduled nightly run sends them; schemathesis' fuzzing phase still generates
# negative cases in every profile.
SCHEMATHESIS_COVERAGE_MODES = {
    "dev": ("positive",),
    "ci": ("positive",),
    "nightly": ("positive", "negative"),
    "default": ("positive", "negative"),  # Hypothesis' own profile: nothing trimmed
}


def active_profile(config: Any) -> str:
    """The run's profile: `--hypothesis-profile`, or ours by default (the plugin has checked the name)."""
    return config.getoption("hypothesis_profile", None) or DEFAULT_PROFILE


def register() -> None:
    for name, profile in PROFILES.items():
        settings.register_profile(name, profile)


def scale_profile(name: str, scale: int) -> None:
    """Load profile `name` with `scale` times its examples.

    Re-registered under the same name, so Hypothesis' own `--hypothesis-profile`
    handling, which runs after ours, loads the scaled one.
    """
    if scale != 1:
        base = settings.get_profile(name)
        settings.register_profile(name, parent=base, max_examples=base.max_examples * scale)
    settings.load_profile(name)
