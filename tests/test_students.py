"""Every example student in examples/students is classified right by `check`, with a minimal reproducer.

Correct students (index loops, vectorised, Nielsen's column vectors, x @ W with a summed batch and a ¼
cost, a flat parameter vector, float32 throughout, a softmax/cross-entropy batch) must pass; each buggy
one must fail with the catalogued diagnosis, its minimal case must be small, and the printed reproducer,
run on its own, must fail the same way.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from oracles.checker import check

pytest.importorskip("torch")

STUDENTS = Path(__file__).resolve().parents[1] / "examples" / "students"
EXAMPLES = 15  # Hypothesis examples per check (shrinking and the diagnosis cases come on top)

COLUMNS = {"layout": "columns", "returns": "db,dW"}
CORRECT = [
    ("correct_loops.py:backprop", {}),
    ("correct_vectorised.py:backprop", {"cost": "half_mse"}),
    ("correct_nielsen.py:backprop", COLUMNS),
    ("correct_xw.py:backprop", {"hidden": "tanh", "output": "identity", "scale": 0.5, "layout": "xw",
                                "batch": "rows", "reduction": "sum"}),
    ("correct_flat.py:grad", {"hidden": "tanh", "output": "identity", "cost": "mse", "layout": "flat"}),
    ("correct_float32.py:backprop", {"dtype": "float32"}),
    ("correct_batch.py:backprop", {"hidden": "relu", "output": "softmax", "cost": "softmax_ce",
                                   "batch": "columns"}),
]
BUGGY = [
    ("bug_transposed_w.py:backprop", {}, "transposed-W"),
    ("bug_outer_order.py:backprop", {}, "outer-order"),
    ("bug_constant_factor.py:backprop", {}, "constant-factor"),
    ("bug_sign.py:backprop", {}, "sign"),
    ("bug_sigma_prime_of_a.py:backprop", {}, "sigma-prime-of-a"),
    ("bug_sigma_prime_formula_on_z.py:backprop", {}, "sigma-prime-formula-on-z"),
    ("bug_missing_sigma_prime.py:backprop", COLUMNS, "missing-sigma-prime"),
    ("bug_wrong_layer_activation.py:backprop", {}, "wrong-layer-activation"),
    ("bug_wrong_target.py:backprop", {}, "wrong-target"),
    ("bug_stale_delta.py:backprop", {}, "delta-entry"),
    ("bug_some_layers.py:backprop", {}, "some-layers"),
    ("bug_batch_sum.py:backprop", {"batch": "columns"}, "batch-factor"),
    ("bug_weight_decay.py:backprop", {}, "weight-decay"),
    ("bug_clipped_dw.py:backprop", {}, "unrecognised"),
    ("bug_extra_softmax_prime.py:backprop", {"output": "softmax", "cost": "softmax_ce", "batch": "columns"},
     "extra-output-prime"),
    ("bug_softmax_jacobian_twice.py:backprop", {"hidden": "tanh", "output": "softmax", "cost": "softmax_ce"},
     "extra-output-prime"),
    ("bug_reversed_order.py:backprop", {"hidden": "tanh", "output": "identity"}, "reversed-order"),
    ("bug_reshape_not_transpose.py:backprop", {}, "reshaped-W"),
    ("bug_sigma_prime_wrong_layer.py:backprop", {}, "sigma-prime-wrong-layer"),
    ("bug_tanh_prime_no_square.py:backprop", {"hidden": "tanh", "output": "identity"}, "sigma-prime-slip"),
    ("bug_clip_grad_norm.py:backprop", {}, "clipped"),
]


def _check(spec, declared):
    return check(str(STUDENTS / spec), max_examples=EXAMPLES, **declared)


@pytest.mark.parametrize("spec, declared", CORRECT, ids=[c[0].split(".")[0] for c in CORRECT])
def test_correct_students_pass(spec, declared):
    result = _check(spec, declared)
    assert result.passed, result.text()
    assert result.diagnosis is None and not result.minimal
    assert result.counts.get("pass", 0) >= EXAMPLES // 2
    report = result.to_report()
    assert report.checks[0].passed and not report.errors


def test_correct_student_also_passes_a_float32_run():
    """The float64-minded vectorised student, run on float32 cases, is not flagged (precision is not a bug)."""
    result = _check("correct_loops.py:backprop", {"dtype": "float32"})
    assert result.passed, result.text()


@pytest.mark.parametrize("spec, declared, key", BUGGY, ids=[b[0].split(".")[0] for b in BUGGY])
def test_buggy_students_are_caught_and_diagnosed(spec, declared, key):
    result = _check(spec, declared)
    assert not result.passed
    assert result.diagnosis is not None and result.diagnosis.mistake == key, result.text()
    m = result.minimal.get("fail")
    assert m is not None
    # shrunk: at most one hidden layer (two for a mistake that needs a hidden δ), narrow
    assert m.case.arch.depth <= (4 if key in ("transposed-W", "delta-entry") else 3), m.case.arch
    assert max(m.case.arch.widths) <= 3, m.case.arch
    text = result.text()
    assert "Diagnosis:" in text and "minimal case" in text and "reproducer" in text
    # the reproducer, run on its own, fails the same way
    code = result.reproducer("fail")
    assert "expected_dW" in code or "expected_grad" in code
    with pytest.raises(AssertionError):
        exec(compile(code, "<reproducer>", "exec"), {"__name__": "reproducer"})
    report = result.to_report()
    assert not report.checks[0].passed and report.errors
    assert {f.source for f in report.findings} == {"check"}
    assert any(f.kind == "diagnosis" for f in report.findings)


def test_some_layers_names_the_layers():
    result = _check("bug_some_layers.py:backprop", {})
    assert "∂C/∂W and ∂C/∂b of the first layer (L = 1, below the output) are 0×" in result.diagnosis.title
    assert "the output layer (L = N−1), the middle layers (1 < L < N−1) are right" in result.diagnosis.title


def test_transposed_w_reports_both_the_crash_and_the_wrong_numbers():
    result = _check("bug_transposed_w.py:backprop", {})
    assert {"fail", "raises"} <= set(result.minimal)
    assert "matmul" in result.minimal["raises"].message or "mismatch" in result.minimal["raises"].message
    assert any("raised or returned wrong shapes" in e for e in result.diagnosis.evidence)


def test_stateful_student_is_reported_as_not_reentrant():
    result = _check("bug_stateful.py:backprop", {})
    assert not result.passed and "reentrant" in result.minimal
    code = result.reproducer("reentrant")
    with pytest.raises(AssertionError):  # its own reproducer shows the second call differing
        exec(compile(code, "<reproducer>", "exec"), {"__name__": "reproducer"})


def test_minimal_case_values_are_simple():
    result = _check("bug_sign.py:backprop", {})
    m = result.minimal["fail"]
    assert m.case.arch.widths == (1, 1)
    values = np.concatenate([np.ravel(a) for a in (*m.case.weights, *m.case.biases, m.case.x, m.case.y)])
    assert all(float(v).is_integer() or len(repr(float(v))) <= 6 for v in values), values


def test_bias_not_summed_is_diagnosed_from_the_returned_shapes():
    """Every answer has the wrong shape (db per sample): the diagnosis comes from the returned arrays, and the
    minimal case keeps a batch of 2, where the extra axis is visibly the batch."""
    result = _check("bug_bias_not_summed.py:backprop", {"batch": "rows"})
    assert set(result.minimal) == {"shape"}
    d = result.diagnosis
    assert d.mistake == "bias-not-summed", d.text()
    assert "summed over it equals the correct gradient" in " ".join(d.evidence)
    assert not [e for e in d.evidence if "closest" in e or "next best" in e]
    m = result.minimal["shape"]
    assert m.case.arch.widths == (1, 1) and m.case.x.shape[1] == 2, m.case
    assert "has shape (2, 1); expected (1,)" in m.message


def test_swapped_return_order_is_diagnosed_from_the_returned_lists():
    """Nielsen's student returns (db, dW); declared as returning (dW, db) its answers have the wrong shapes, and
    the diagnosis says the two lists are swapped (not a value-based catalogue entry)."""
    result = _check("correct_nielsen.py:backprop", {"layout": "columns"})
    assert "shape" in result.minimal  # (and wrong values where every layer has one input: (k, 1) either way)
    d = result.diagnosis
    assert d.mistake == "swapped-returns", d.text()
    assert "--returns db,dW" in d.fix


def test_a_subject_that_always_raises_gets_no_catalogue_entry():
    result = check(lambda weights, biases, x, y: weights[5], max_examples=EXAMPLES)
    assert set(result.minimal) == {"raises"}
    d = result.diagnosis
    assert d.mistake == "unrecognised"
    assert not [e for e in d.evidence if "closest" in e or "next best" in e]
    assert "raised or returned wrong shapes on" in d.title and "traceback" not in d.fix and "--layout" in d.fix
