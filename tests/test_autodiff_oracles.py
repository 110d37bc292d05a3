"""The torch and JAX oracles against manualbp, against each other and against inline finite differences."""

from __future__ import annotations

import sys
import threading
import warnings

import numpy as np
import pytest

import manualbp
from manualbp import Case
from manualbp.activations import ACTIVATIONS, Activation
from manualbp.costs import COSTS, Cost
from manualbp.example import seed_case
from oracles._netspec import ELEMENTWISE, SQUARED
from oracles.base import MissingDependency

pytest.importorskip("torch")
pytest.importorskip("jax")

from oracles.jax_oracle import JaxOracle  # noqa: E402
from oracles.torch_oracle import TorchOracle  # noqa: E402

EPS = {"float64": float(np.finfo(np.float64).eps), "float32": float(np.finfo(np.float32).eps)}

# (output activation, cost) pairs manualbp accepts: squared costs after any output, bce/softmax_ce as required.
OUTPUT_COSTS = [(out, cost) for cost in SQUARED for out in (*ELEMENTWISE, "softmax")]
OUTPUT_COSTS += [("sigmoid", "bce"), ("softmax", "softmax_ce")]


@pytest.fixture(scope="module")
def torch_oracle():
    return TorchOracle()


@pytest.fixture(scope="module")
def jax_oracle():
    return JaxOracle()


@pytest.fixture(params=["torch", "jax"])
def oracle(request, torch_oracle, jax_oracle):
    return {"torch": torch_oracle, "jax": jax_oracle}[request.param]


def make_case(rng, widths, acts, cost, batch=None, dtype="float64", scale=1.0, label=""):
    """A random case; ``scale`` multiplies weights and input (scale ~100 puts |z| near 1e4)."""
    Ws = [scale * rng.normal(0, 1 / np.sqrt(m), (n, m)) for m, n in zip(widths[:-1], widths[1:])]
    bs = [rng.normal(0, 0.5, n) for n in widths[1:]]
    cols = () if batch is None else (batch,)
    x = scale * rng.normal(0, 1, (widths[0], *cols))
    if cost == "bce":
        y = rng.uniform(0, 1, (widths[-1], *cols))
    elif cost == "softmax_ce":
        y = rng.dirichlet(np.ones(widths[-1]), size=batch).T
    else:
        y = rng.normal(0, 1, (widths[-1], *cols))
    return Case.create(Ws, bs, x, y, activations=acts, cost=cost, dtype=dtype, label=label)


def random_cases(rng, n, *, depths=(2, 6), max_width=8, batches=(None, 1, 4), dtypes=("float64",)):
    """``n`` random small cases with random widths, activations, costs, batch and dtype."""
    cases = []
    for i in range(n):
        depth = int(rng.integers(*depths))
        widths = [int(w) for w in rng.integers(1, max_width + 1, depth)]
        out, cost = OUTPUT_COSTS[rng.integers(len(OUTPUT_COSTS))]
        acts = [str(a) for a in rng.choice(ELEMENTWISE, depth - 2)] + [out]
        batch = batches[rng.integers(len(batches))]
        dtype = dtypes[rng.integers(len(dtypes))]
        cases.append(make_case(rng, widths, acts, cost, batch, dtype, label=f"random {i}"))
    return cases


def _col(v):
    return v if v.ndim == 2 else v[:, None]


def condition_scale(case):
    """Per entry, a first-order bound (in units of eps) on the rounding error of ∂C/∂W and ∂C/∂b.

    Forward, E^(L) bounds |a^(L)| plus the rounding that reaches it: E^(L+1) = |a^(L+1)| +
    |σ'(z^(L+1))| (|W^(L)| E^(L) + |b^(L)|).  Backward, m^(L) bounds the error of ∂C/∂z^(L): the
    same backprop with |W| and with |a| + |y| for a − y, plus |δ^(L)| times the absolute error of
    σ'(z) itself (σ' from a saturated σ, 1 − a² or a(1 − a), is off by ulps in absolute terms, not
    relative ones).  Then ∂C/∂W^(L) is off by about m^(L+1) E^(L)ᵀ.  So two correct gradients differ
    by a few ulps of this scale, however small the gradient itself; a wrong one does not.
    """
    c = case.astype("float64")
    fwd, bwd = manualbp.forward(c), manualbp.backward(c)
    acts, N = c.arch.activations, c.arch.depth
    a = {L: np.abs(_col(v)) for L, v in fwd.a.items()}

    def slope(L):  # |σ'(z^(L))|; 1 bounds softmax's Jacobian
        return np.abs(_col(bwd.sigma_prime[L])) if L in bwd.sigma_prime else np.ones_like(a[L])

    def prime_error(L):  # absolute error of σ'(z^(L)), in eps: 1 + |a| for σ' computed from a
        return 1.0 + a[L] * (acts[L - 2] in ("sigmoid", "tanh", "softplus"))

    E = {1: a[1]}
    for L, (W, b) in enumerate(zip(c.weights, c.biases), start=1):
        E[L + 1] = a[L + 1] + slope(L + 1) * (np.abs(W) @ E[L] + np.abs(b)[:, None])
    y = np.abs(_col(c.y))
    n, B, P = c.arch.widths[-1], y.shape[1], E[N]
    if c.arch.cost == "bce":
        m = (P + y) / B
    elif c.arch.cost == "softmax_ce":
        m = (P * y.sum(axis=0) + y) / B
    else:
        coef = {"half_mse": 1 / n, "half_sse": 1.0, "mse": 2 / n}[c.arch.cost]
        delta, e_delta = np.abs(_col(bwd.delta[N])), coef * (P + y) / B
        if acts[-1] == "softmax":
            u = delta + e_delta
            m = P * (u + (P * u).sum(axis=0))
        else:
            m = delta * prime_error(N) + slope(N) * e_delta
    dW, db = [], []
    for L in range(N - 1, 0, -1):
        dW.insert(0, m @ E[L].T)
        db.insert(0, m.sum(axis=1))
        if L > 1:
            m = np.abs(_col(bwd.delta[L])) * prime_error(L) + slope(L) * (np.abs(c.weights[L - 1]).T @ m)
    return manualbp.Gradients(tuple(dW), tuple(db), "scale")


def error_ratio(g, ref, dtype, scale):
    """max over entries of |g − ref| / (eps · (|ref| + scale) + tiny): the error in ulps of the condition scale.

    tiny, the dtype's smallest normal number, absorbs flush-to-zero of subnormal results.
    """
    worst = 0.0
    for (_, _, a), (_, _, r), (_, _, s) in zip(g.items(), ref.items(), scale.items()):
        assert a.shape == r.shape and a.dtype == np.dtype(dtype), (a.shape, a.dtype, r.shape, dtype)
        assert np.all(np.isfinite(a))
        err = np.abs(a.astype(float) - r.astype(float))
        worst = max(worst, float(np.max(err / (EPS[dtype] * (np.abs(r) + s) + np.finfo(dtype).tiny))))
    return worst


def assert_grads_close(case, g, ref, ulps, what=""):
    ratio = error_ratio(g, ref, case.dtype, condition_scale(case))
    RATIOS.setdefault(case.dtype, []).append(ratio)
    assert ratio <= ulps, f"{what}: error {ratio:.3g} ulps of the condition scale > {ulps}"


RATIOS: dict[str, list[float]] = {}
"""Every measured error ratio, by dtype (for reporting the observed agreement)."""


ULPS = 8
"""Autodiff and manualbp do the same arithmetic in another order: they agree to a few ulps of the
condition scale (measured: at most ~0.8 in both dtypes, median ~0.02, float32 results measured
against manualbp in float64 on the same float32 values)."""


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("batch", [None, 5])
def test_every_activation_and_cost_matches_manualbp(oracle, dtype, batch):
    rng = np.random.default_rng(1)
    cases = []
    for hidden in ELEMENTWISE:
        for out, cost in OUTPUT_COSTS:
            cases.append(make_case(rng, (3, 4, 5, 2), (hidden, hidden, out), cost, batch, dtype,
                                   label=f"{hidden}/{out}/{cost}"))
    for case in cases:
        g = oracle.gradients(case)
        assert g.source == oracle.name
        assert_grads_close(case, g, manualbp.gradients(case.astype("float64")), ULPS,
                           f"{oracle.name} {case.label} {dtype} batch={batch}")
        assert oracle.cost(case) == pytest.approx(manualbp.cost(case.astype("float64")),
                                                  rel=64 * EPS[dtype], abs=64 * EPS[dtype])


def test_seed_worked_example(oracle):
    case = seed_case()
    assert_grads_close(case, oracle.gradients(case), manualbp.gradients(case), ULPS, "seed example")
    assert oracle.cost(case) == pytest.approx(manualbp.cost(case), rel=4 * EPS["float64"])
    g32 = oracle.gradients(seed_case("float32"))
    assert all(a.dtype == np.float32 for _, _, a in g32.items())
    assert_grads_close(seed_case("float32"), g32, manualbp.gradients(case), ULPS, "seed example float32")


def test_the_tolerance_has_teeth(torch_oracle):
    """Planting a relative error of 1e-10 (float64) or 1e-2 (float32) in ANY one entry is caught."""
    for dtype, rel in [("float64", 1e-10), ("float32", 1e-2)]:
        case = seed_case(dtype)
        g = torch_oracle.gradients(case)
        ref, scale = manualbp.gradients(case.astype("float64")), condition_scale(case)
        assert error_ratio(g, ref, dtype, scale) <= ULPS
        flat = g.flat()
        for i in range(flat.size):
            planted = flat.copy()
            planted[i] *= 1 + rel
            assert error_ratio(unflatten(planted, g), ref, dtype, scale) > ULPS, (dtype, i)


def unflatten(flat, like):
    """Gradients shaped like ``like`` from a vector in the order of Gradients.flat()."""
    parts, at = [], 0
    for _, _, a in like.items():
        parts.append(flat[at:at + a.size].reshape(a.shape).astype(a.dtype))
        at += a.size
    return manualbp.Gradients(tuple(parts[0::2]), tuple(parts[1::2]), "planted")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("act", ["relu", "leaky_relu"])
def test_kinks_at_z_exactly_zero_take_manualbps_subgradient(oracle, act, dtype):
    """relu'(0) = 0 and leaky_relu'(0) = LEAKY_SLOPE, as manualbp, on hidden and output units at z = 0 exactly."""
    W1, b1 = [[0.5, -1.0], [1.0, 1.0]], [0.0, 0.25]
    W2, b2 = [[2.0, 1.0]], [-1.75]
    x = np.array([[1.0, 0.25], [0.5, 2.0]])  # dyadic: column 0 puts z^(2)_1 and z^(3)_1 exactly on 0
    y = np.array([[0.5, 0.5]])
    case = Case.create([W1, W2], [b1, b2], x, y, activations=[act, act], cost="half_mse", dtype=dtype)
    fwd = manualbp.forward(case)
    assert fwd.z[2][0, 0] == 0 and fwd.z[3][0, 0] == 0 and fwd.z[3][0, 1] > 0
    ref = manualbp.gradients(case)
    if act == "relu":  # unit 1 of layer 2 is off in both columns (z = 0 and z < 0): no gradient reaches W^(1)
        assert not np.any(ref.dW[0][0])
    for g in (oracle.gradients(case), oracle.gradients_many([case, seed_case()])[0]):
        assert_grads_close(case, g, ref, ULPS, f"{oracle.name} {act} kink {dtype}")


def test_torch_and_jax_agree(torch_oracle, jax_oracle):
    rng = np.random.default_rng(2)
    cases = random_cases(rng, 60, dtypes=("float64", "float32"))
    for case, gt, gj in zip(cases, torch_oracle.gradients_many(cases), jax_oracle.gradients_many(cases)):
        assert_grads_close(case, gj, gt, ULPS, f"torch vs jax, {case.label} {case.arch}")


def test_gradients_many_equals_per_case_gradients(oracle):
    rng = np.random.default_rng(3)
    cases = random_cases(rng, 30, dtypes=("float64", "float32"))  # depth 2-5, widths 1-8
    cases += random_cases(rng, 4, depths=(6, 9))  # deeper: another JAX depth bucket
    cases += random_cases(rng, 4, max_width=12)  # wider: another JAX width bucket
    # repeated architectures (one batched group each in torch), and a case too wide for a JAX bucket
    cases += [make_case(rng, (4, 3, 2), ("tanh", "identity"), "mse", 3, label=f"same {i}") for i in range(12)]
    cases += [make_case(rng, (70, 3, 2), ("relu", "softmax"), "softmax_ce", 2, dtype, label=f"wide {i} {dtype}")
              for i, dtype in enumerate(["float64", "float64", "float32"])]
    order = rng.permutation(len(cases))
    cases = [cases[i] for i in order]
    many = oracle.gradients_many(cases)
    assert len(many) == len(cases)
    for case, g in zip(cases, many):
        one = oracle.gradients(case)
        assert g.source == oracle.name
        assert_grads_close(case, g, one, ULPS, f"{oracle.name} many vs one, {case.label}")
        assert_grads_close(case, g, manualbp.gradients(case.astype("float64")), ULPS,
                           f"{oracle.name} many vs manualbp, {case.label}")
    assert oracle.gradients_many([]) == []


def test_torch_restores_its_thread_setting(torch_oracle):
    """Small work runs on one intra-op thread (much faster for tiny ops); the user's setting comes back."""
    import torch

    original = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        torch_oracle.gradients_many(random_cases(np.random.default_rng(8), 5))
        torch_oracle.gradients(seed_case())
        torch_oracle.cost(seed_case())
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(original)


def test_jax_compiles_a_handful_of_times_for_many_architectures():
    import jax.monitoring
    from jax._src.dispatch import BACKEND_COMPILE_EVENT

    events = []

    def listen(event, duration, **kwargs):
        if event == BACKEND_COMPILE_EVENT:
            events.append(duration)

    rng = np.random.default_rng(4)
    cases = [make_case(rng, [int(w) for w in rng.integers(1, 9, 4)], ("sigmoid", "tanh", "identity"),
                       "half_mse", 2) for _ in range(50)]
    assert len({c.arch.widths for c in cases}) > 30  # really many architectures
    oracle = JaxOracle(min_batch=2)  # a bucket no other test uses, so JAX's own cache cannot serve it
    jax.monitoring.register_event_duration_secs_listener(listen)
    try:
        singles = [oracle.gradients(c) for c in cases]
        after_singles = oracle.compile_count
        many = oracle.gradients_many(cases)
    finally:
        jax.monitoring.unregister_event_duration_listener(listen)
    assert after_singles == 1  # one bucket: widths <= 8, 3 weight layers, batch 2
    assert oracle.compile_count <= 3  # plus the vmap-ed chunk sizes (64, and 8 for a remainder)
    assert 1 <= len(events) <= oracle.compile_count  # no XLA compilation escapes the count
    for case, a, b in zip(cases, singles, many):
        assert_grads_close(case, b, a, ULPS, str(case.arch.widths))


def test_single_case_results_are_warning_free_and_own_their_memory(oracle):
    """gradients()/cost() of one case: no warnings, and fresh writeable arrays that alias nothing."""
    rng = np.random.default_rng(9)
    cases = [make_case(rng, (3, 5, 2), ("relu", "softmax"), "softmax_ce", batch, dtype)
             for batch in (None, 3) for dtype in ("float64", "float32")]
    cases.append(make_case(rng, (2, 70, 1), ("tanh", "sigmoid"), "bce", 2))  # too wide for a bucket
    for case in cases:
        before = [a.copy() for a in (*case.weights, *case.biases, case.x, case.y)]
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            g = oracle.gradients(case)
            C = oracle.cost(case)
        assert isinstance(C, float)
        arrays = [a for _, _, a in g.items()]
        for i, a in enumerate(arrays):
            assert a.flags.writeable and a.dtype == np.dtype(case.dtype)
            assert not any(np.shares_memory(a, b) for b in arrays[i + 1:])
            assert not any(np.shares_memory(a, v) for v in (*case.weights, *case.biases, case.x, case.y))
        for a, b in zip(before, (*case.weights, *case.biases, case.x, case.y)):
            np.testing.assert_array_equal(a, b)
        assert [a.shape for a in g.dW] == [W.shape for W in case.weights]
        assert [a.shape for a in g.db] == [b.shape for b in case.biases]


def test_jax_unrolled_buckets_agree_with_the_layer_loop(monkeypatch):
    """Shallow buckets unroll the hidden-layer scan; the same cases through the scan give the same gradients."""
    import oracles.jax_oracle as jax_oracle

    rng = np.random.default_rng(10)
    cases = random_cases(rng, 12, depths=(2, 6))  # 1-4 weight layers: one 4-layer bucket per batch size
    assert all(JaxOracle().bucket(c)[2] <= jax_oracle.UNROLL_LAYERS for c in cases)
    unrolled = JaxOracle()
    singles, many = [unrolled.gradients(c) for c in cases], unrolled.gradients_many(cases)
    monkeypatch.setattr(jax_oracle, "UNROLL_LAYERS", 0)
    looped = JaxOracle()
    for case, a, b, ref, ref_many in zip(cases, singles, many, [looped.gradients(c) for c in cases],
                                         looped.gradients_many(cases)):
        assert_grads_close(case, a, ref, ULPS, f"unrolled vs scan, {case.label}")
        assert_grads_close(case, b, ref_many, ULPS, f"unrolled vs scan, many, {case.label}")


def test_jax_submit_collects_what_gradients_many_returns(jax_oracle):
    """submit() dispatches and returns at once; work can run before collecting; the same values, same order."""
    import jax

    rng = np.random.default_rng(12)
    cases = random_cases(rng, 20, dtypes=("float64", "float32"))  # buckets in both dtypes
    cases += [make_case(rng, (70, 3, 2), ("relu", "softmax"), "softmax_ce", 2, dtype, label=f"wide {dtype}")
              for dtype in ("float64", "float32")]  # exact-shape programs
    want = jax_oracle.gradients_many(cases)
    x64_before = jax.config.jax_enable_x64
    collect = jax_oracle.submit(cases)
    meanwhile = [manualbp.gradients(c.astype("float64")) for c in cases]  # other work before collecting
    got = collect()  # outside any x64 context: float64 results must still be float64 values
    assert jax.config.jax_enable_x64 == x64_before
    assert len(got) == len(cases)
    for case, g, w, ref in zip(cases, got, want, meanwhile):
        assert g.source == "jax"
        for (_, _, a), (_, _, b) in zip(g.items(), w.items()):
            assert a.dtype == np.dtype(case.dtype)
            np.testing.assert_array_equal(a, b)
        assert_grads_close(case, g, ref, ULPS, f"submit vs manualbp, {case.label}")
    with pytest.raises(RuntimeError, match="already collected"):
        collect()
    assert jax_oracle.submit([])() == []
    one = jax_oracle.submit([seed_case()])()[0]
    np.testing.assert_array_equal(one.flat(), jax_oracle.gradients(seed_case()).flat())


def test_jax_submit_validates_before_returning(jax_oracle, monkeypatch):
    W, b = np.ones((2, 2)), np.ones(2)
    monkeypatch.setitem(ACTIVATIONS, "gelu", Activation("gelu", np.tanh, lambda z, a: 1 - a * a))
    case = Case.create([W, W], [b, b], np.ones(2), np.ones(2), activations=["gelu", "identity"])
    with pytest.raises(ValueError, match=r"cannot compute activation 'gelu' \(layer 2\)"):
        jax_oracle.submit([seed_case(), case])
    with pytest.raises(TypeError, match=r"needs a manualbp.Case"):
        jax_oracle.submit([seed_case(), "not a case"])


def test_jax_does_not_leak_x64_into_the_global_config():
    import jax
    import jax.numpy as jnp

    before = (jax.config.jax_enable_x64, jnp.zeros(1).dtype, jnp.asarray(1.0).dtype)
    oracle = JaxOracle()
    g = oracle.gradients(seed_case())
    assert g.dW[0].dtype == np.float64
    assert_grads_close(seed_case(), g, manualbp.gradients(seed_case()), ULPS, "seed")  # really float64 accuracy
    seen = []
    worker = threading.Thread(target=lambda: seen.append(oracle.gradients(seed_case()).db[0].dtype))
    worker.start()
    worker.join()
    assert seen == [np.float64]
    after = (jax.config.jax_enable_x64, jnp.zeros(1).dtype, jnp.asarray(1.0).dtype)
    assert after == before
    if not before[0]:
        assert after[1] == jnp.float32


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_extreme_inputs_give_finite_gradients(oracle, dtype):
    rng = np.random.default_rng(5)
    cases = []
    for hidden in ELEMENTWISE:
        for out, cost in OUTPUT_COSTS:
            case = make_case(rng, (3, 4, 2), (hidden, out), cost, 3, dtype, scale=100.0,
                             label=f"{hidden}/{out}/{cost} {dtype}")
            cases.append(case)
            fwd = manualbp.forward(case.astype("float64"))
            assert np.max(np.abs(fwd.z[2])) > 1e3  # the pre-activations really are extreme
            g = oracle.gradients(case)
            assert all(np.all(np.isfinite(a)) for _, _, a in g.items()), (hidden, out, cost)
            assert np.isfinite(oracle.cost(case))
            # and the same numbers as manualbp, to a few ulps of the (large) condition scale
            ref = manualbp.gradients(case.astype("float64"))
            assert_grads_close(case, g, ref, ULPS, f"{oracle.name} extreme {case.label}")
    for case, g in zip(cases, oracle.gradients_many(cases)):  # the padded, masked path too
        assert_grads_close(case, g, manualbp.gradients(case.astype("float64")), ULPS,
                           f"{oracle.name} many, extreme {case.label}")


def test_against_inline_central_differences(oracle):
    """No manualbp here: a numpy forward pass written out, differentiated by central differences."""
    rng = np.random.default_rng(6)
    W1, b1 = rng.normal(size=(3, 2)), rng.normal(size=3)
    W2, b2 = rng.normal(size=(2, 3)), rng.normal(size=2)
    x, y = rng.normal(size=(2, 4)), rng.normal(size=(2, 4))
    params = [W1, b1, W2, b2]

    def C(W1, b1, W2, b2):
        a2 = np.tanh(W1 @ x + b1[:, None])
        a3 = np.log1p(np.exp(W2 @ a2 + b2[:, None]))  # softplus output
        return np.mean(0.5 * np.sum((a3 - y) ** 2, axis=0) / 2)  # half_mse, n_N = 2, mean over 4 samples

    fd = []
    h = 1e-5
    for i, p in enumerate(params):
        grad = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            plus = [q.copy() for q in params]
            minus = [q.copy() for q in params]
            plus[i][idx] += h
            minus[i][idx] -= h
            grad[idx] = (C(*plus) - C(*minus)) / (2 * h)
        fd.append(grad)
    case = Case.create([W1, W2], [b1, b2], x, y, activations=["tanh", "softplus"], cost="half_mse")
    g = oracle.gradients(case)
    assert oracle.cost(case) == pytest.approx(C(*params), rel=1e-14)
    for got, want in [(g.dW[0], fd[0]), (g.db[0], fd[1]), (g.dW[1], fd[2]), (g.db[1], fd[3])]:
        np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-10)


def test_unsupported_activation_or_cost_is_a_clear_error(oracle, monkeypatch):
    W, b = np.ones((2, 2)), np.ones(2)
    monkeypatch.setitem(ACTIVATIONS, "gelu", Activation("gelu", np.tanh, lambda z, a: 1 - a * a))
    case = Case.create([W, W], [b, b], np.ones(2), np.ones(2), activations=["gelu", "identity"])
    with pytest.raises(ValueError, match=r"cannot compute activation 'gelu' \(layer 2\)"):
        oracle.gradients(case)
    with pytest.raises(ValueError, match=r"'gelu'"):
        oracle.gradients_many([seed_case(), case])
    monkeypatch.setitem(COSTS, "hinge", Cost("hinge"))
    case = Case.create([W], [b], np.ones(2), np.ones(2), activations=["identity"], cost="hinge")
    with pytest.raises(ValueError, match=r"cannot compute cost 'hinge'"):
        oracle.cost(case)
    with pytest.raises(TypeError, match=r"needs a manualbp.Case"):
        oracle.gradients("not a case")


@pytest.mark.parametrize("module, cls", [("torch", TorchOracle), ("jax", JaxOracle)])
def test_missing_dependency_names_the_extra(monkeypatch, module, cls):
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` fail
    with pytest.raises(MissingDependency, match=rf"pip install 'manualbp\[{module}\]'"):
        cls()


def test_jax_programs_travel_to_another_oracle_without_compiling():
    """export_programs/load_programs (what a sweep sends its worker processes): same numbers, no compilation."""
    import pickle

    rng = np.random.default_rng(12)
    cases = [make_case(rng, [int(w) for w in rng.integers(1, 9, 3)], ("tanh", "sigmoid"), "half_mse", 3)
             for _ in range(12)]
    source = JaxOracle(min_batch=3)
    expected = source.gradients_many(cases)
    programs = pickle.loads(pickle.dumps(source.export_programs()))  # as sent to another process
    assert programs and all(key[0] == "bucket" for key in programs)

    broken = {key: (b"not a program", *blob[1:]) for key, blob in programs.items()}
    assert JaxOracle(min_batch=3).load_programs(broken) == 0  # left out: compiled on demand instead

    target = JaxOracle(min_batch=3)
    assert target.load_programs(programs) == len(programs)
    assert target.load_programs(programs) == 0  # already there
    got = target.gradients_many(cases)
    assert target.compile_count == 0
    for a, b in zip(expected, got):
        np.testing.assert_array_equal(a.flat(), b.flat())


def test_jax_programs_that_cannot_be_serialized_are_left_out(monkeypatch):
    """A JAX build that cannot serialize a program exports nothing for it (the worker compiles it)."""
    from jax.experimental import serialize_executable

    def refuse(exe):
        raise NotImplementedError("no serialization here")

    monkeypatch.setattr(serialize_executable, "serialize", refuse)
    oracle = JaxOracle(min_batch=3)
    oracle.gradients(make_case(np.random.default_rng(13), (3, 4, 2), ("tanh", "sigmoid"), "half_mse", 3))
    assert oracle.compile_count == 1 and oracle.export_programs() == {}
