"""Shared pytest set-up: the Hypothesis profile (env MANUALBP_HYPOTHESIS_PROFILE, default ``ci``).

Hypothesis's own ``--hypothesis-profile NAME`` option wins when given (its plugin loads it after this
file registered the profiles). Nothing here imports torch, jax or the oracles, so the suite still
collects when those are missing.
"""

from __future__ import annotations

try:
    from oracles.profiles import load_profile
except ImportError:  # hypothesis not installed: tests that need it are skipped by importorskip
    load_profile = None

if load_profile is not None:
    load_profile()


def pytest_configure(config) -> None:
    """Honour ``--hypothesis-profile`` (registered by Hypothesis's plugin) over the environment."""
    if load_profile is None:
        return
    try:
        chosen = config.getoption("hypothesis_profile")
    except ValueError:
        chosen = None
    if chosen:
        from hypothesis import settings

        settings.load_profile(chosen)


def pytest_report_header(config) -> str | None:
    """Say which Hypothesis profile is active in pytest's header."""
    if load_profile is None:
        return None
    from hypothesis import settings

    return f"manualbp hypothesis profile: {settings.get_current_profile_name()}"
