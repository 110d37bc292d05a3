"""At an exact relu/leaky_relu kink any slope between the left and right one is right, and nothing else is."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given

import manualbp
from oracles import strategies as mst
from oracles.subgradient import SLOPES, exact_kinks, kink_envelope

DATA = Path(__file__).resolve().parent / "data" / "edge_students"

_KINKED = mst.architectures(activations=("relu", "leaky_relu", "tanh"), max_width=3,
                            output_activations=("relu", "leaky_relu", "identity"), costs=("half_sse",),
                            dtypes=("float64", "float32"))


@given(mst.cases(architectures=_KINKED, batch=(None, 2), edge=True))
def test_the_envelope_holds_manualbp_and_every_slope_in_between(case):
    """manualbp (relu'(0) = 0, leaky_relu'(0) = 0.01: the left slopes) lies in the envelope, and so does an
    independent backprop that takes the midpoint slope at every exact kink."""
    envelope = kink_envelope(case)
    if envelope is None:
        return
    lo, hi, size = envelope
    assert np.all(size >= np.maximum(np.abs(lo), np.abs(hi)) * (1 - 1e-6))
    kinks = exact_kinks(case)
    assert kinks
    with np.errstate(all="ignore"):
        left = manualbp.gradients(case).flat().astype(np.float64)
    slack = 1e-4 * np.maximum(np.abs(lo), np.abs(hi)) + 1e-30
    assert np.all(lo - slack <= left) and np.all(left <= hi + slack)
    mid = _midpoint_backprop(case, kinks)
    assert np.all(lo - slack <= mid) and np.all(mid <= hi + slack)


def _midpoint_backprop(case, kinks):
    """A backprop written here (not manualbp's): slope (left + right)/2 at the exact kinks."""
    x = case.x if case.x.ndim == 2 else case.x[:, None]
    y = case.y if case.y.ndim == 2 else case.y[:, None]
    acts, zs = [x], []
    for W, b, act in zip(case.weights, case.biases, case.arch.activations):
        zs.append(W @ acts[-1] + b[:, None])
        acts.append(manualbp.get_activation(act).f(zs[-1]))
    N, B = len(case.weights), x.shape[1]
    dz = (acts[-1] - y) * _slope(case.arch.activations[-1], zs[-1], kinks.get(N + 1)) / B  # half_sse
    grads = []
    for L in range(N - 1, -1, -1):
        grads = [dz @ acts[L].T, dz.sum(axis=1)] + grads
        if L:
            dz = (case.weights[L].T @ dz) * _slope(case.arch.activations[L - 1], zs[L - 1], kinks.get(L + 1))
    return np.concatenate([g.ravel() for g in grads]).astype(np.float64)


def _slope(act, z, mask):
    if act == "identity":
        return np.ones_like(z)
    if act == "tanh":
        return 1 - np.tanh(z) ** 2
    left, right = SLOPES[act]
    s = np.where(z > 0, right, left).astype(z.dtype)
    return s if mask is None else np.where(mask, (left + right) / 2, s).astype(z.dtype)


def test_each_kinked_unit_may_take_its_own_slope():
    """Two leaky_relu units exactly at the kink, fed by one unit: a backprop whose forward pass rounds otherwise
    (leaky written z/100) lands on one side of the kink for the first unit and on the other for the second.
    Every corner (s_0, s_1) is a right answer, and the envelope is exactly the range over the corners (fails
    before: one slope per layer gave [0.000025, 0.0025] for ∂C/∂b^(1), refusing the mixed corners)."""
    a2 = float(np.float64(0.01) * np.float64(-0.25))  # manualbp's leaky output of z^(2) = -0.25
    case = manualbp.Case.create([np.array([[0.75]]), np.array([[1.0], [-1.0]]), np.array([[0.5, 0.25]])],
                                [np.array([-1.0]), np.array([-a2, a2]), np.array([0.0])], np.array([1.0]),
                                np.array([-1.0]), hidden="leaky_relu", output="identity", cost="half_sse")
    assert {L: m.ravel().tolist() for L, m in exact_kinks(case).items()} == {3: [True, True]}
    lo, hi, _ = kink_envelope(case)

    def db1(s0: float, s1: float) -> float:  # the backward pass by hand: dz^(4) = a^(4) − y = 1
        delta2 = 1.0 * 0.5 * s0 * 1.0 + 1.0 * 0.25 * s1 * -1.0  # W^(2)ᵀ (W^(3)ᵀ dz^(4) ⊙ s)
        return delta2 * SLOPES["leaky_relu"][0]  # z^(2) < 0: the leak

    corners = [db1(s0, s1) for s0 in SLOPES["leaky_relu"] for s1 in SLOPES["leaky_relu"]]
    k = 0  # ∂C/∂W^(1) is the flat vector's first entry; x = 1, so it equals ∂C/∂b^(1)
    assert lo[k] == pytest.approx(min(corners), rel=1e-12) and hi[k] == pytest.approx(max(corners), rel=1e-12)
    assert min(corners) < 0 < max(corners)  # the mixed corners: one unit left, the other right


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_the_right_slope_is_judged_with_its_own_rounding(dtype):
    """relu'(0) = 1 behind a dead unit, softmax output: the subject's ∂C/∂b^(1) rounds differently from the
    corner's (3.5e-18 apart in float64), while compare's bound for the left slope (0) is ~1e-306: a false
    alarm before the corner's own rounding was allowed for."""
    pytest.importorskip("torch")
    from oracles.checker import check

    W = [np.zeros((1, 4)), np.array([[0.0], [0.0], [0.0625]])]
    b = [np.array([-0.0]), np.zeros(3)]
    y = np.array([[5.0], [8.0], [6.0]]) / 19
    case = manualbp.Case.create(W, b, np.zeros((4, 1)), y, hidden="relu", output="softmax", cost="softmax_ce",
                                dtype=dtype)
    result = check(f"{DATA / 'naive_softmax_relu_ge.py'}:backprop", hidden="relu", output="softmax",
                   cost="softmax_ce", batch="columns", dtype=dtype, cases=[case], max_examples=1,
                   edge_cases=False)
    assert result.passed, result.text()


def test_rounding_level_kinks_keep_compare_s_leniency():
    """A z that is 0 in one summation order but not exactly: no envelope (compare's non-differentiable stands)."""
    W = np.array([[0.1, 0.2, -0.3]])
    x = np.array([1.0, 1.0, 1.0])
    b = np.array([-(W[0] @ x)])  # 0.1 + 0.2 − 0.3 is not 0 in floating point
    case = manualbp.Case.create([W, np.ones((1, 1))], [b, np.zeros(1)], x, np.zeros(1), hidden="relu",
                                output="identity", cost="half_sse")
    assert exact_kinks(case) is None and kink_envelope(case) is None


@pytest.mark.parametrize("func, right", [("half", True), ("two", False)])
def test_check_accepts_any_subgradient_and_refuses_other_slopes(func, right):
    pytest.importorskip("torch")
    from oracles.checker import check

    result = check(f"{DATA / 'relu_prime_at_zero.py'}:{func}", hidden="relu", output="identity", max_examples=10)
    assert result.passed is right, result.text()
    if not right:
        m = result.minimal["fail"]
        assert m.case.label.startswith(mst.EDGE_LABEL) and "lowest right answer" in result.text()
        assert result.declaration is None  # a slope at the kink is no flag mistake
        assert check(f"{DATA / 'relu_prime_at_zero.py'}:{func}", hidden="relu", output="identity",
                     max_examples=10, edge_cases=False).passed
