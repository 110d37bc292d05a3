"""pytest plugin for manualbp (registered through the ``pytest11`` entry point).

Check a project's backprop in a few lines::

    import pytest
    from mynet import backprop

    @pytest.mark.backprop(hidden="sigmoid", output="sigmoid", cost="half_sse")
    def test_backprop(backprop_checker):
        backprop_checker(backprop)

``backprop_checker(subject=None, **declared)`` runs :func:`oracles.checker.check` and fails the test with
the verdict, the minimal counterexample, the diagnosis and a ready-to-paste reproducer; it returns the
:class:`~oracles.checker.CheckResult` when the subject is correct.  The ``backprop`` marker's arguments
are defaults for the call (a subject may be given there too, as a callable or ``"file.py:function"``).

The Hypothesis profile is manualbp's: ``--manualbp-profile`` or ``$MANUALBP_HYPOTHESIS_PROFILE``
(``ci`` by default, ``thorough`` for thousands of examples).  Nothing heavy is imported until the
fixture is used.
"""

from __future__ import annotations

from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    """Options of the ``backprop_checker`` fixture."""
    group = parser.getgroup("manualbp", "manualbp backprop checks")
    group.addoption("--manualbp-profile", default=None, choices=("ci", "thorough", "dev"),
                    help="Hypothesis profile for backprop checks (default: $MANUALBP_HYPOTHESIS_PROFILE or ci)")
    group.addoption("--backprop-max-examples", type=int, default=None,
                    help="Hypothesis examples per backprop check (overrides the profile)")
    group.addoption("--backprop-oracles", default=None,
                    help="comma-separated judges for backprop checks (torch, jax, fd; default torch,fd)")
    group.addoption("--backprop-no-edge-cases", action="store_true", default=False,
                    help="skip the edge stage of backprop checks (exact relu kinks, saturated units, 2^±24 inputs)")


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``backprop`` marker."""
    config.addinivalue_line(
        "markers",
        "backprop(subject=None, *, hidden, output, cost, scale, layout, batch, reduction, returns, dtype, "
        "max_examples, timeout, edge_cases): what the backprop under test computes (defaults for backprop_checker)",
    )


def _options(request: pytest.FixtureRequest) -> dict[str, Any]:
    opts: dict[str, Any] = {}
    marker = request.node.get_closest_marker("backprop")
    if marker is not None:
        if len(marker.args) > 1:
            raise pytest.UsageError("@pytest.mark.backprop takes at most one positional argument (the subject)")
        if marker.args:
            opts["subject"] = marker.args[0]
        opts.update(marker.kwargs)
    config = request.config
    if config.getoption("backprop_max_examples") is not None:
        opts["max_examples"] = config.getoption("backprop_max_examples")
    if config.getoption("backprop_no_edge_cases"):
        opts["edge_cases"] = False
    if config.getoption("backprop_oracles"):
        opts["oracles"] = tuple(o.strip() for o in config.getoption("backprop_oracles").split(",") if o.strip())
    return opts


@pytest.fixture
def backprop_checker(request: pytest.FixtureRequest):
    """A function ``(subject=None, **declared) -> CheckResult`` that fails the test when the backprop is wrong."""
    defaults = _options(request)
    profile = request.config.getoption("manualbp_profile")

    def run(subject: Any = None, **declared: Any):
        from hypothesis import settings

        from oracles.checker import assert_backprop
        from oracles.profiles import profile_name, register_profiles
        from oracles.subject import SubjectLoadError, SubjectSignatureError

        register_profiles()
        opts = {**defaults, **declared}
        target = subject if subject is not None else opts.pop("subject", None)
        opts.pop("subject", None)
        if target is None:
            raise pytest.UsageError("backprop_checker needs a subject: backprop_checker(my_backprop) or "
                                    "@pytest.mark.backprop(my_backprop, ...)")
        opts.setdefault("settings", settings.get_profile(profile_name(profile)))
        failure = None  # failed outside the except clauses: pytest would print the report twice, chained
        try:
            return assert_backprop(target, **opts)
        except AssertionError as exc:
            failure = str(exc)
        except (SubjectLoadError, SubjectSignatureError, FileNotFoundError) as exc:  # not the backprop's fault
            failure = f"manualbp: the subject cannot be checked: {exc}"
        pytest.fail(failure, pytrace=False)

    return run
