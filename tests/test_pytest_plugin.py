"""The pytest plugin: a project's CI checks its backprop in a few lines (run here with pytester)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]
pytest.importorskip("torch")

# Imported once here, outside the in-process pytester runs: each run restores sys.modules afterwards, and a
# module it dropped (manualbp.case, say) would be imported again by the next run as a second copy, whose Case
# class is not the one the surviving modules check against.
import manualbp  # noqa: E402, F401
import oracles.checker  # noqa: E402, F401
import oracles.compare  # noqa: E402, F401
import oracles.strategies  # noqa: E402, F401
import oracles.torch_oracle  # noqa: E402, F401

STUDENTS = Path(__file__).resolve().parents[1] / "examples" / "students"


def test_marker_and_fixture_pass_and_fail(pytester):
    pytester.makepyfile(test_student=f"""
        import sys
        import pytest
        sys.path.insert(0, {str(STUDENTS)!r})
        from correct_loops import backprop as good
        from bug_sign import backprop as bad

        @pytest.mark.backprop(hidden="sigmoid", output="sigmoid", cost="half_sse")
        def test_good(backprop_checker):
            result = backprop_checker(good)
            assert result.passed

        @pytest.mark.backprop(hidden="sigmoid", cost="half_sse")
        def test_bad(backprop_checker):
            backprop_checker(bad)
    """)
    res = pytester.runpytest("-p", "no:cacheprovider", "--backprop-max-examples=8")
    res.assert_outcomes(passed=1, failed=1)
    out = res.stdout.str()
    assert "Diagnosis: sign: every gradient is the negative of the correct one" in out
    assert "reproducer" in out and "from bug_sign import backprop" in out
    # the report once (it was printed twice, chained by 'During handling of the above exception'); in CI the short
    # summary repeats the whole message, so the chaining itself is what is asserted
    assert "During handling of the above exception" not in out


def test_subject_in_the_marker_and_declarations_in_the_call(pytester):
    spec = f"{STUDENTS / 'correct_nielsen.py'}:backprop"
    pytester.makepyfile(f"""
        import pytest

        @pytest.mark.backprop({spec!r}, layout="columns")
        def test_nielsen(backprop_checker):
            backprop_checker(returns="db,dW", max_examples=5)
    """)
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_edge_cases_run_by_default_and_can_be_switched_off(pytester):
    spec = f"{STUDENTS / 'bug_relu_prime_at_zero.py'}:backprop"
    pytester.makepyfile(f"""
        import pytest

        @pytest.mark.backprop({spec!r}, hidden="relu", output="identity", max_examples=8)
        def test_relu(backprop_checker):
            backprop_checker()
    """)
    res = pytester.runpytest("-p", "no:cacheprovider")
    res.assert_outcomes(failed=1)
    assert "NaN or infinite gradients" in res.stdout.str() and "relu's kink" in res.stdout.str()
    pytester.runpytest("-p", "no:cacheprovider", "--backprop-no-edge-cases").assert_outcomes(passed=1)


def test_a_class_for_a_subject_fails_with_the_expected_signature(pytester):
    pytester.makepyfile("""
        class MLP:
            def __init__(self, weights, biases):
                self.W = weights

        def test_class(backprop_checker):
            backprop_checker(MLP)
    """)
    res = pytester.runpytest("-p", "no:cacheprovider")
    res.assert_outcomes(failed=1)
    out = res.stdout.str()
    assert "the subject cannot be checked: MLP is a class" in out and "f(weights, biases, x, y)" in out
    assert "Traceback" not in out


def test_profile_option_and_missing_subject(pytester):
    pytester.makepyfile("""
        def test_nothing_to_check(backprop_checker):
            backprop_checker()
    """)
    res = pytester.runpytest("-p", "no:cacheprovider", "--manualbp-profile=ci")
    assert res.ret != 0
    assert "needs a subject" in res.stdout.str() + res.stderr.str()


def test_marker_is_registered(pytester):
    res = pytester.runpytest("--markers")
    assert "@pytest.mark.backprop" in res.stdout.str()


def test_plugin_import_is_cheap():
    code = ("import sys; import oracles.pytest_plugin; "
            "heavy = [m for m in ('torch', 'jax', 'hypothesis', 'oracles.checker', 'numpy') if m in sys.modules]; "
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True)
