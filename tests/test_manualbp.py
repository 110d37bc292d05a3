"""manualbp against an independent scalar-loop backprop in 40-digit arithmetic."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import manualbp
from manualbp import Architecture, Case
from manualbp.example import seed_case, worked_example
from tests import scalar_reference as ref

ELEMENTWISE = ["sigmoid", "tanh", "relu", "leaky_relu", "softplus", "identity"]


def _f(v):
    return np.array(v, dtype=float)


def random_case(rng, widths, acts, cost, batch=None, dtype="float64"):
    Ws = [rng.normal(0, 1 / np.sqrt(m), (n, m)) for m, n in zip(widths[:-1], widths[1:])]
    bs = [rng.normal(0, 0.5, n) for n in widths[1:]]
    shape_x = (widths[0],) if batch is None else (widths[0], batch)
    shape_y = (widths[-1],) if batch is None else (widths[-1], batch)
    x = rng.normal(0, 1, shape_x)
    if cost == "bce":
        y = rng.uniform(0, 1, shape_y)
    elif cost == "softmax_ce":
        y = rng.dirichlet(np.ones(widths[-1]), size=None if batch is None else batch).T
    else:
        y = rng.normal(0, 1, shape_y)
    return Case.create(Ws, bs, x, y, activations=acts, cost=cost, dtype=dtype)


def reference(case):
    W = [w.astype(float).tolist() for w in case.weights]
    b = [v.astype(float).tolist() for v in case.biases]
    return ref.grads(W, b, case.x.astype(float).tolist(), case.y.astype(float).tolist(),
                     list(case.arch.activations), case.arch.cost)


def assert_grads_match(case, rtol, atol):
    C, dW, db, _ = reference(case)
    g = manualbp.gradients(case)
    assert manualbp.cost(case) == pytest.approx(float(C), rel=rtol, abs=atol)
    for L in range(len(dW)):
        np.testing.assert_allclose(g.dW[L], _f(dW[L]), rtol=rtol, atol=atol, err_msg=f"dC/dW^({L + 1})")
        np.testing.assert_allclose(g.db[L], _f(db[L]), rtol=rtol, atol=atol, err_msg=f"dC/db^({L + 1})")
        assert g.dW[L].dtype == case.weights[L].dtype


def test_worked_example_every_intermediate_matches_scalar_reference():
    case = seed_case()
    W = [w.tolist() for w in case.weights]
    b = [v.tolist() for v in case.biases]
    _, dW, db, tr = ref.sample_grads(W, b, case.x.tolist(), case.y.tolist(), ["sigmoid"] * 3, "half_mse")
    expected = {"a^(1)": tr["a"][0]}
    for L in (2, 3, 4):
        expected[f"z^({L})"] = tr["z"][L - 2]
        expected[f"a^({L})"] = tr["a"][L - 1]
        expected[f"σ'(z^({L}))"] = [ref.act_prime("sigmoid", z) for z in tr["z"][L - 2]]
    for L in (1, 2, 3, 4):
        expected[f"δ^({L})"] = tr["delta"][L]
    for L in (1, 2, 3):
        expected[f"∂C/∂b^({L})"] = db[L - 1]
        expected[f"∂C/∂W^({L})"] = dW[L - 1]
    steps = worked_example()
    symbols = [s.symbol for s in steps]
    # the derivation's order: forward, then per layer σ', ∂C/∂b, ∂C/∂W, δ
    assert symbols[:8] == ["a^(1)", "z^(2)", "a^(2)", "z^(3)", "a^(3)", "z^(4)", "a^(4)", "δ^(4)"]
    assert symbols[8:12] == ["σ'(z^(4))", "∂C/∂b^(3)", "∂C/∂W^(3)", "δ^(3)"]
    assert symbols[-1] == "∂C/∂W^(1)"
    for s in steps:
        np.testing.assert_allclose(s.value, _f(expected[s.symbol]), rtol=1e-12, atol=1e-17, err_msg=s.symbol)


def test_seed_cost_is_half_the_mean_squared_error():
    case = seed_case()
    a = manualbp.forward(case).a[4]
    mse = np.mean((a - case.y) ** 2)
    assert manualbp.cost(case) == pytest.approx(0.5 * mse, rel=1e-15)
    # and δ^(4) = (a − y)/2 as the derivation writes for n_L = 2
    np.testing.assert_allclose(manualbp.backward(case).delta[4], (a - case.y) / 2, rtol=1e-15)


@pytest.mark.parametrize("hidden", ELEMENTWISE)
@pytest.mark.parametrize("cost", ["half_mse", "half_sse", "mse"])
def test_every_activation_and_regression_cost(hidden, cost):
    rng = np.random.default_rng(abs(hash((hidden, cost))) % 2**32)
    case = random_case(rng, (3, 4, 2, 2), [hidden, "tanh", hidden], cost)
    assert_grads_match(case, rtol=1e-11, atol=1e-14)


@pytest.mark.parametrize("widths,output,cost", [((3, 4, 2), "sigmoid", "bce"), ((2, 5, 3), "softmax", "softmax_ce"),
                                                ((2, 3, 3), "softmax", "half_sse")])
@pytest.mark.parametrize("batch", [None, 5])
def test_classification_costs_single_and_batch(widths, output, cost, batch):
    case = random_case(np.random.default_rng(7), widths, ["softplus", output], cost, batch=batch)
    assert_grads_match(case, rtol=1e-11, atol=1e-14)


def test_batch_is_the_mean_of_single_samples():
    rng = np.random.default_rng(3)
    case = random_case(rng, (3, 5, 2), ["tanh", "sigmoid"], "mse", batch=4)
    g = manualbp.gradients(case)
    singles = [manualbp.gradients(Case.create(case.weights, case.biases, case.x[:, s], case.y[:, s],
                                              activations=case.arch.activations, cost="mse")) for s in range(4)]
    for L in range(2):
        np.testing.assert_allclose(g.dW[L], np.mean([s.dW[L] for s in singles], axis=0), rtol=1e-13)
        np.testing.assert_allclose(g.db[L], np.mean([s.db[L] for s in singles], axis=0), rtol=1e-13)


def test_float32_stays_float32_and_is_close():
    case = random_case(np.random.default_rng(11), (4, 6, 3), ["sigmoid", "identity"], "half_sse", dtype="float32")
    g = manualbp.gradients(case)
    assert all(d.dtype == np.float32 for d in (*g.dW, *g.db))
    assert manualbp.forward(case).a[3].dtype == np.float32
    assert_grads_match(case, rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("act", [*ELEMENTWISE, "softmax"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_stable_for_huge_pre_activations(act, dtype):
    cost = {"softmax": "softmax_ce"}.get(act, "half_sse")
    W = [np.array([[1e4], [-1e4], [3.0]])]
    b = [np.zeros(3)]
    y = np.array([0.2, 0.3, 0.5])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for x in ([1.0], [-1.0]):
            case = Case.create(W, b, np.array(x), y, activations=[act], cost=cost, dtype=dtype)
            g = manualbp.gradients(case)
            assert np.isfinite(manualbp.cost(case))
            assert all(np.all(np.isfinite(d)) for d in (*g.dW, *g.db))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_is_accurate_to_a_few_ulps_everywhere(dtype):
    """σ(z) against an extended-precision evaluation over z in [−800, 800]: within 2 ulps where σ is a normal
    number, below that within the smallest normal number (σ is 0 where e^{-z} overflows), no warning."""
    from manualbp.activations import sigmoid

    z = np.linspace(-800, 800, 200_001).astype(dtype)
    want = 1 / (1 + np.exp(-z.astype(np.longdouble)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = sigmoid(z)
    assert got.dtype == dtype
    normal = want >= np.finfo(dtype).smallest_normal
    rel = np.abs(got[normal] - want[normal]) / want[normal]
    assert rel.max() <= 2 * np.finfo(dtype).eps
    assert np.abs(got[~normal] - want[~normal]).max() < np.finfo(dtype).smallest_normal


def test_bce_saturated_sigmoid_is_finite():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        case = Case.create([np.array([[1e4]])], [np.zeros(1)], np.array([1.0]), np.array([0.0]),
                           activations=["sigmoid"], cost="bce")
        g = manualbp.gradients(case)
    assert manualbp.cost(case) == pytest.approx(1e4)
    assert g.dW[0][0, 0] == pytest.approx(1.0)


@pytest.mark.parametrize(("dtype", "gap"), [("float64", 713.0), ("float32", 100.0)])
def test_softmax_output_below_the_normal_range_gives_no_overflow_warning(dtype, gap):
    """A softmax output entry that is tiny but not 0 (a subnormal): δ^(N) = −y/a/B overflows, as it must, and
    the gradients, which take the fused ∂C/∂z^(N) = a − y, stay finite; no warning either way."""
    case = Case.create([np.array([[gap], [0.0], [0.0]])], [np.zeros(3)], np.array([-1.0]),
                       np.array([0.2, 0.3, 0.5]), activations=["softmax"], cost="softmax_ce", dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bwd = manualbp.backward(case)
        g = manualbp.gradients(case)
    a0 = manualbp.forward(case).a[2][0]
    assert 0 < a0 < np.finfo(dtype).smallest_normal  # the case does reach the subnormal range
    assert bwd.delta[2][0] == -np.inf
    assert all(np.all(np.isfinite(d)) for d in (*g.dW, *g.db))


def test_derivation_numbering():
    case = seed_case()
    fwd, bwd = manualbp.forward(case), manualbp.backward(case)
    assert sorted(fwd.z) == [2, 3, 4] and sorted(fwd.a) == [1, 2, 3, 4]
    assert sorted(bwd.delta) == [1, 2, 3, 4] and sorted(bwd.dC_dW) == [1, 2, 3]
    assert bwd.dC_dW[1].shape == (4, 3) and bwd.dC_db[3].shape == (2,)


def test_architecture_uniform_and_counts():
    arch = Architecture.uniform([3, 4, 2], hidden="relu", output="identity", cost="mse")
    assert arch.activations == ("relu", "identity")
    assert arch.n_params == 4 * 3 + 4 + 2 * 4 + 2


@pytest.mark.parametrize("acts, cost", [(("sigmoid", "sigmoid", "sigmoid"), "half_mse"),
                                        (("relu", "tanh", "softmax"), "softmax_ce"),
                                        (("softplus", "identity", "sigmoid"), "bce")])
def test_backward_without_keeping_intermediates_gives_the_same_gradients(acts, cost):
    """keep=False (what gradients() uses) frees δ and σ' layer by layer: the same ∂C/∂W, ∂C/∂b to the bit,
    and nothing of δ or σ' left in the result."""
    case = random_case(np.random.default_rng(21), (4, 6, 5, 3), acts, cost, batch=7)
    full = manualbp.backward(case)
    lean = manualbp.backward(case, input_delta=False, keep=False)
    assert lean.delta == {} and lean.sigma_prime == {}
    for L in full.dC_dW:
        np.testing.assert_array_equal(lean.dC_dW[L], full.dC_dW[L])
        np.testing.assert_array_equal(lean.dC_db[L], full.dC_db[L])
    assert set(full.delta) == {1, 2, 3, 4} and set(full.sigma_prime) == ({2, 3, 4} if cost != "softmax_ce" else {2, 3})
    g = manualbp.gradients(case)
    for L, (dW, db) in enumerate(zip(g.dW, g.db), start=1):
        np.testing.assert_array_equal(dW, full.dC_dW[L])
        np.testing.assert_array_equal(db, full.dC_db[L])


def test_forward_without_the_cost_keeps_every_z_and_a():
    """forward(with_cost=False), what backward uses when given no forward pass: the same z and a to the bit,
    C not evaluated (None); with it, C is the mean of the per-sample costs computed sample by sample."""
    case = random_case(np.random.default_rng(5), (3, 5, 2), ("tanh", "sigmoid"), "half_mse", batch=4)
    full, lean = manualbp.forward(case), manualbp.forward(case, with_cost=False)
    assert lean.cost is None
    assert set(lean.z) == set(full.z) and set(lean.a) == set(full.a)
    for L in full.z:
        np.testing.assert_array_equal(lean.z[L], full.z[L])
    for L in full.a:
        np.testing.assert_array_equal(lean.a[L], full.a[L])
    per_sample = [0.5 * np.mean((full.a[3][:, b] - case.y[:, b]) ** 2) for b in range(4)]
    assert full.cost == pytest.approx(np.mean(per_sample), rel=1e-12)
