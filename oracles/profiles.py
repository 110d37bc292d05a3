"""Hypothesis settings profiles for manualbp's property tests: ``ci``, ``thorough`` and ``dev``.

- ``ci``: fast and reproducible (``derandomize=True``): the same examples on every run, suitable for CI.
- ``thorough``: thousands of examples per test, random seeds; the long run before a release.
- ``dev``: a middle ground for local work, random seeds, prints statistics-friendly output.

Choose one with the environment variable ``MANUALBP_HYPOTHESIS_PROFILE`` (default ``ci``) or with
Hypothesis's own pytest option ``--hypothesis-profile NAME``, which wins when given.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

ENV_VAR = "MANUALBP_HYPOTHESIS_PROFILE"
DEFAULT_PROFILE = "ci"
PROFILES = ("ci", "thorough", "dev")

_SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]

_registered = False


def register_profiles() -> None:
    """Register the ``ci``, ``thorough`` and ``dev`` profiles with Hypothesis (idempotent)."""
    global _registered
    if _registered:
        return
    settings.register_profile(
        "ci",
        max_examples=30,
        deadline=None,
        derandomize=True,
        database=None,
        print_blob=True,
        suppress_health_check=_SLOW_OK,
    )
    settings.register_profile(
        "thorough",
        max_examples=2000,
        deadline=None,
        print_blob=True,
        suppress_health_check=_SLOW_OK,
    )
    settings.register_profile(
        "dev",
        max_examples=100,
        deadline=None,
        print_blob=True,
        suppress_health_check=_SLOW_OK,
        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink, Phase.explain],
    )
    _registered = True


def profile_name(name: str | None = None) -> str:
    """The profile to use: ``name`` if given, else ``$MANUALBP_HYPOTHESIS_PROFILE``, else ``ci``."""
    chosen = name if name is not None else os.environ.get(ENV_VAR, "").strip() or DEFAULT_PROFILE
    if chosen not in PROFILES:
        source = "argument" if name is not None else f"environment variable {ENV_VAR}"
        raise ValueError(f"unknown Hypothesis profile {chosen!r} (from {source}); valid: {', '.join(PROFILES)}")
    return chosen


def load_profile(name: str | None = None) -> str:
    """Register the profiles and load ``name`` (or the one the environment asks for); return its name."""
    register_profiles()
    chosen = profile_name(name)
    settings.load_profile(chosen)
    return chosen
