"""The edge stage of `check`: exact relu kinks, saturated units and extreme magnitudes are tried by default.

A backprop that is NaN at z = 0 or divides by a(1 − a) passes every well-conditioned case; the edge stage
reports its non-finite gradients with a minimal case that says which edge it needed.  Correct backprops written
the derivation's way, with no numerical care (math.exp, log(1 + e^z), softmax without the max, relu'(0) = 1,
σ through tanh), pass it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from oracles.checker import check, is_edge
from oracles.cli import main

pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parents[1]
STUDENTS = ROOT / "examples" / "students"
CAREFREE = ROOT / "tests" / "data" / "edge_students"
EXAMPLES = 15

NAN_AT_EDGES = [
    ("bug_relu_prime_at_zero.py:backprop", {"hidden": "relu", "output": "identity"}, "relu's kink"),
    ("bug_bce_through_dcda.py:backprop", {"cost": "bce"}, "saturated"),
]


@pytest.mark.parametrize("spec, declared, edge", NAN_AT_EDGES, ids=["relu-kink", "bce-saturated"])
def test_non_finite_gradients_at_edges_are_caught_with_their_minimal_case(spec, declared, edge):
    result = check(str(STUDENTS / spec), max_examples=EXAMPLES, **declared)
    assert not result.passed
    m = result.minimal["nonfinite"]
    assert is_edge(m) and m.case.arch.widths in ((1, 1), (1, 1, 1))  # shrunk: one unit on the edge
    grads = m.call.gradients
    assert not all(np.all(np.isfinite(a)) for _, _, a in grads.items())  # it is really NaN/inf there
    text = result.text()
    assert "the subject returned NaN or infinite gradients" in text.splitlines()[0]
    assert "an edge case: " in text and edge in text
    assert "is nan" in text and "every failing case is an edge case" in text
    finding = next(f for f in result.to_report().findings if f.kind == "subject-nonfinite")
    assert any(edge in e for e in finding.values["edge"]) and "np.array" in finding.reproduce
    # the same subject passes when only well-conditioned cases are tried
    assert check(str(STUDENTS / spec), max_examples=EXAMPLES, edge_cases=False, **declared).passed


@pytest.mark.parametrize("spec, declared", [
    ("naive_math_sigmoid.py:backprop", {}),
    ("tanh_sigmoid_bce.py:backprop", {"hidden": "tanh", "output": "sigmoid", "cost": "bce"}),
    ("naive_softplus.py:backprop", {"hidden": "softplus", "output": "identity", "cost": "half_mse"}),
    ("naive_softplus.py:backprop", {"hidden": "softplus", "output": "identity", "cost": "half_mse",
                                    "dtype": "float32"}),
    ("naive_softmax_relu_ge.py:backprop", {"hidden": "relu", "output": "softmax", "cost": "softmax_ce",
                                           "batch": "columns"}),
])
def test_correct_backprops_without_numerical_care_pass_the_edge_cases(spec, declared):
    result = check(str(CAREFREE / spec), max_examples=EXAMPLES, **declared)
    assert result.passed, result.text()
    assert sum(is_edge(o) for o in result.outcomes) >= 5
    assert any("edge cases" in n for n in result.notes)


def test_cli_edge_cases_can_be_switched_off(capsys):
    spec = f"{STUDENTS / 'bug_relu_prime_at_zero.py'}:backprop"
    flags = ["--hidden", "relu", "--output", "identity", "--max-examples", "10"]
    assert main(["check", spec, *flags]) == 1
    assert "relu's kink" in capsys.readouterr().out
    assert main(["check", spec, *flags, "--no-edge-cases"]) == 0
    assert "edge cases" not in capsys.readouterr().out
