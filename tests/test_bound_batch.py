"""oracles.bound_batch.error_bound_many gives error_bound's bounds, computed for many cases at once.

Every bound is compared with :func:`oracles.compare.error_bound` of the same case: each array of W, b,
scale_W, scale_b to relative 1e-12 (padded and stacked sums may add in another order), identical shapes,
float64, identical kinks and unit roundoff.
"""

from __future__ import annotations

import numpy as np
import pytest

from manualbp import Architecture, Case
from manualbp.activations import KINKED
from oracles import bound_batch
from oracles.bound_batch import MAX_WIDTH, batchable, error_bound_many
from oracles.compare import ErrorBound, error_bound
from oracles.sweep_cases import Distribution, case_for, random_cases

COSTS = ("half_mse", "half_sse", "mse", "bce", "softmax_ce")


def assert_same_bound(got: ErrorBound, want: ErrorBound, what: object = "") -> None:
    """``got`` agrees with ``want`` (error_bound's) entry by entry to relative 1e-12."""
    assert isinstance(got, ErrorBound), what
    assert got.kinks == want.kinks, what
    assert got.unit_roundoff == want.unit_roundoff, what
    for name in ("W", "b", "scale_W", "scale_b"):
        g, w = getattr(got, name), getattr(want, name)
        assert isinstance(g, tuple) and len(g) == len(w), (what, name)
        for L, (x, y) in enumerate(zip(g, w), start=1):
            assert x.shape == y.shape and x.dtype == np.float64, (what, name, L, x.shape, y.shape, x.dtype)
            np.testing.assert_allclose(x, y, rtol=1e-12, atol=0, equal_nan=True, err_msg=f"{what} {name}^({L})")


def assert_agrees(cases: list[Case]) -> list[ErrorBound]:
    got = error_bound_many(cases)
    assert len(got) == len(cases)
    for k, (case, eb) in enumerate(zip(cases, got)):
        assert_same_bound(eb, error_bound(case), (k, case.label, case.arch))
    return got


@pytest.fixture
def batch_everything(monkeypatch):
    """Batch even a handful of cases (normally fewer than MIN_CASES go through error_bound one by one)."""
    monkeypatch.setattr(bound_batch, "MIN_CASES", 1)


@pytest.fixture
def count_error_bound(monkeypatch):
    """The cases error_bound_many handed to error_bound (not computed in a batch), in order."""
    calls = []

    def counted(case):
        calls.append(case)
        return error_bound(case)

    monkeypatch.setattr(bound_batch, "error_bound", counted)
    return calls


@pytest.mark.parametrize("seed", [0, 17])
def test_random_sweep_cases_agree_and_are_batched(seed, count_error_bound):
    cases = random_cases(seed, 0, 600)
    assert {c.dtype for c in cases} == {"float32", "float64"}
    assert {c.batched for c in cases} == {True, False}
    assert {c.arch.cost for c in cases} == set(COSTS)
    assert {len(c.weights) for c in cases} == {1, 2, 3, 4}
    assert all(batchable(c) for c in cases)
    assert_agrees(cases)
    assert count_error_bound == []  # every one computed in a batch


def test_larger_distribution_agrees():
    # widths up to 20 and 12 samples: batches of both sizes, and cases too wide for any batch
    cases = random_cases(5, 0, 300, Distribution(max_layers=5, max_width=20, max_batch=12))
    assert any(max(c.arch.widths) > MAX_WIDTH for c in cases)
    assert_agrees(cases)


def test_empty_list():
    assert error_bound_many([]) == []


def _kink_case(hidden: str, *, batched: bool, output: str = "tanh", cost: str = "half_mse") -> Case:
    # z^(2)_0 = 1·0.5 − 1·0.5 + 0 = 0 exactly: hidden unit 0 sits on its kink; unit 1 does not
    x = np.array([[0.5, 1.0], [0.5, -2.0]]) if batched else np.array([0.5, 0.5])
    y = np.array([[0.5, 0.25], [0.5, 0.75]]) if batched else np.array([0.3, 0.7])
    return Case.create([[[1.0, -1.0], [0.5, 0.25]], [[2.0, 1.0], [-1.0, 0.5]]], [[0.0, 0.125], [0.25, 0.5]],
                       x, y, activations=(hidden, output), cost=cost, label=f"kink {hidden}")


def _output_kink_case(name: str) -> Case:
    # z^(3)_1 = 0.5·1 − 0.25·2 + 0 = 0: the output unit 1 sits on the kink of a relu/leaky_relu output
    return Case.create([[[1.0], [2.0]], [[0.25, 0.5], [0.5, -0.25]]], [[0.0, 0.0], [0.25, 0.0]], [1.0],
                       [0.5, -0.5], activations=("identity", name), cost="half_sse", label=f"output kink {name}")


@pytest.mark.parametrize("hidden", sorted(KINKED))
def test_kinks_are_error_bounds(hidden, batch_everything, count_error_bound):
    cases = [_kink_case(hidden, batched=False), _kink_case(hidden, batched=True), _output_kink_case(hidden),
             _kink_case(hidden, batched=True, output="softmax", cost="softmax_ce")]
    got = assert_agrees(cases)
    assert count_error_bound == []
    assert got[0].kinks == got[1].kinks == got[3].kinks == ((2, 0),)
    assert got[2].kinks == ((3, 1),)
    # within a sweep-like batch too, whatever the other cases
    mixed = random_cases(3, 0, 40) + cases
    assert [eb.kinks for eb in error_bound_many(mixed)[-4:]] == [eb.kinks for eb in got]


@pytest.mark.parametrize("hidden", ["identity", "relu"])
def test_a_pre_activation_that_cancels_to_rounding_is_error_bounds(hidden, count_error_bound):
    # z^(2)_0 = (1 + e)·(1 + e) − (1 + 2e)·1 = e² = 2^-60 exactly, but a product rounded before the sum (a
    # padded or stacked matmul may add so) gives 0: |a| (in S_W, E_W) and relu's σ' would differ entirely
    e = 2.0 ** -30
    case = Case.create([[[1 + e, -(1 + 2 * e)], [0.5, 0.25]], [[1.0, -0.5]]], [[0.0, 0.0], [0.1]], [1 + e, 1.0],
                       [0.2], activations=(hidden, "tanh"), cost="half_mse", label="cancels")
    cases = [*random_cases(1, 0, 30), case]  # padded to 8 units and 4 samples with the others
    got = assert_agrees(cases)
    assert count_error_bound == []
    assert got[-1].scale_W[1][0, 0] == error_bound(case).scale_W[1][0, 0]


@pytest.mark.parametrize("cost", ["softmax_ce", "half_mse", "half_sse", "mse"])
@pytest.mark.parametrize("batch", [None, 1, 3])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_softmax_outputs_with_every_cost(cost, batch, dtype, batch_everything, count_error_bound):
    rng = np.random.default_rng([len(cost), batch or 0, len(dtype)])
    cases = [case_for(Architecture(widths, (*hidden, "softmax"), cost, dtype), rng, batch=batch)
             for widths, hidden in [((3, 4), ()), ((2, 5, 3), ("tanh",)), ((4, 1, 6), ("relu",)),
                                    ((5, 3, 2, 7), ("softplus", "sigmoid")), ((1, 2), ())]]
    assert_agrees(cases)
    assert count_error_bound == []


@pytest.mark.parametrize("output", ["sigmoid", "tanh", "relu", "leaky_relu", "softplus", "identity"])
def test_every_elementwise_output_with_squared_and_bce_costs(output, batch_everything):
    rng = np.random.default_rng(len(output))
    costs = ("half_mse", "half_sse", "mse", "bce") if output == "sigmoid" else ("half_mse", "half_sse", "mse")
    cases = [case_for(Architecture((3, 4, 2), ("leaky_relu", output), cost, dtype), rng, batch=batch)
             for cost in costs for dtype in ("float64", "float32") for batch in (None, 2)]
    assert_agrees(cases)


def test_unbatched_and_batched_cases_share_a_batch(batch_everything, count_error_bound):
    rng = np.random.default_rng(4)
    arch = Architecture((3, 5, 2), ("tanh", "sigmoid"), "bce", "float64")
    cases = [case_for(arch, rng, batch=None), case_for(arch, rng, batch=4), case_for(arch, rng, batch=1)]
    got = assert_agrees(cases)
    assert count_error_bound == []
    assert [eb.W[0].shape for eb in got] == [(5, 3)] * 3 and [eb.b[1].shape for eb in got] == [(2,)] * 3


def test_a_big_case_takes_error_bound_itself(count_error_bound):
    rng = np.random.default_rng(1)
    big = case_for(Architecture((MAX_WIDTH + 4, 6, 3), ("tanh", "softmax"), "softmax_ce"), rng, batch=2)
    many_samples = case_for(Architecture((3, 2), ("sigmoid",), "bce"), rng, batch=bound_batch.MAX_BATCH + 1)
    assert not batchable(big) and not batchable(many_samples)
    small = random_cases(2, 0, 30)
    cases = [*small[:10], big, *small[10:], many_samples]
    got = assert_agrees(cases)
    assert [id(c) for c in count_error_bound] == [id(big), id(many_samples)]
    want = error_bound(big)  # the very same computation: bit-identical
    assert all(np.array_equal(g, w) for g, w in zip(got[10].W + got[10].scale_W, want.W + want.scale_W))


def test_a_few_cases_take_error_bound_itself(count_error_bound):
    cases = random_cases(6, 0, bound_batch.MIN_CASES - 1)
    assert_agrees(cases)
    assert len(count_error_bound) == len(cases)


def test_an_overflowing_case_is_error_bounds_and_leaves_the_others_alone(count_error_bound):
    rng = np.random.default_rng(2)
    arch = Architecture((3, 4, 2), ("identity", "identity"), "half_mse", "float64")
    huge = case_for(arch, rng, weight_scale=1e200, batch=2)
    with np.errstate(over="ignore", invalid="ignore"):
        want = error_bound(huge)
        assert not np.isfinite(want.W[0]).all()
        cases = [*random_cases(9, 0, 20), huge, *random_cases(9, 20, 40)]
        got = assert_agrees(cases)
    assert [c is huge for c in count_error_bound] == [True]
    np.testing.assert_array_equal(got[20].W[0], want.W[0])


def test_not_a_case_is_refused_like_error_bound():
    with pytest.raises(TypeError, match="expected a manualbp.Case"):
        error_bound_many([*random_cases(1, 0, 20), "not a case"])


def test_large_lists_are_split_into_equal_batches(monkeypatch):
    monkeypatch.setattr(bound_batch, "MAX_CASES", 40)
    sizes = []
    real = bound_batch._Batch

    def spy(cases):
        sizes.append(len(cases))
        return real(cases)

    monkeypatch.setattr(bound_batch, "_Batch", spy)
    assert_agrees(random_cases(12, 0, 101))
    assert sorted(sizes) == [33, 34, 34]
