"""Property tests: manualbp against torch, jax and finite differences over random architectures.

The number of examples comes from the Hypothesis profile (tests/conftest.py: ``ci`` by default,
``MANUALBP_HYPOTHESIS_PROFILE=thorough`` for the long run).  An oracle whose optional dependency is
missing is skipped (never silently passed).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import manualbp
from manualbp.example import seed_case
from oracles import strategies as mst
from oracles.base import MissingDependency, get_oracle
from oracles.compare import compare, error_bound, tolerances

ALL = ("torch", "jax", "fd")
DTYPES = ("float64", "float32")


def _oracle(name: str):
    try:
        return get_oracle(name)
    except MissingDependency as exc:  # only an optional dependency may skip
        pytest.skip(str(exc))


@pytest.fixture(scope="module", params=ALL)
def oracle_name(request) -> str:
    _oracle(request.param)
    return request.param


@pytest.fixture(scope="module")
def all_oracles() -> tuple[str, ...]:
    for name in ALL:
        _oracle(name)
    return ALL


def _cases(**arch_kwargs):
    arch_kwargs.setdefault("max_layers", 4)
    arch_kwargs.setdefault("max_width", 6)
    arch_kwargs.setdefault("dtypes", DTYPES)
    return mst.cases(architectures=mst.architectures(**arch_kwargs), batch=(None, 1, 3))


def _assert_pass(verdict) -> None:
    assert verdict.status == "pass", str(verdict)
    assert verdict.max_error_ratio <= 1


@given(case=_cases())
def test_manualbp_agrees_with_each_oracle(oracle_name, case):
    v = compare(case, manualbp.gradients(case), oracles=(oracle_name,), fast=False, rerun=manualbp.gradients)
    _assert_pass(v)
    assert set(v.oracle_gradients) == {oracle_name}


@pytest.mark.parametrize("hidden", mst.ELEMENTWISE)
@given(data=st.data())
def test_three_way_vote_passes_for_every_hidden_activation(all_oracles, hidden, data):
    case = data.draw(_cases(min_layers=3, activations=(hidden,)), label="case")
    _assert_pass(compare(case, manualbp.gradients(case), oracles=all_oracles, fast=False,
                         rerun=manualbp.gradients))


@pytest.mark.parametrize("cost", sorted(manualbp.COSTS))
@given(data=st.data())
def test_three_way_vote_passes_for_every_cost_and_output(all_oracles, cost, data):
    case = data.draw(_cases(costs=(cost,)), label="case")
    _assert_pass(compare(case, manualbp.gradients(case), oracles=all_oracles, fast=True,
                         rerun=manualbp.gradients))


@given(case=_cases())
def test_the_oracles_agree_with_each_other(all_oracles, case):
    for judged in ("torch", "jax"):
        others = tuple(n for n in all_oracles if n != judged)
        v = compare(case, get_oracle(judged).gradients(case), oracles=others, fast=False)
        _assert_pass(v)


@given(case=_cases())
def test_error_model_bounds_manualbp_against_an_extended_precision_reference(case):
    """The single-implementation rounding bound E holds (so tolerances 8E are never cried wolf on)."""
    from oracles.fd import reference_gradients

    eb = error_bound(case)
    ref = reference_gradients(case)
    got = manualbp.gradients(case)
    for E, r, g in zip((*eb.W, *eb.b), (*ref.dW, *ref.db), (*got.dW, *got.db)):
        err = np.abs(np.asarray(g, np.longdouble) - r)
        assert np.all(err <= E), float(np.max(err / E))


@given(data=st.data())
def test_a_planted_error_is_caught_and_localised(all_oracles, data):
    case = data.draw(_cases(), label="case")
    good = manualbp.gradients(case)
    layer = data.draw(st.integers(1, len(case.weights)), label="layer")
    param = data.draw(st.sampled_from(("W", "b")), label="param")
    arr = (good.dW if param == "W" else good.db)[layer - 1]
    entry = tuple(data.draw(st.integers(0, n - 1)) for n in arr.shape)
    tol = tolerances(case, "autodiff")
    t = float((tol.dW if param == "W" else tol.db)[layer - 1][entry])
    size = max(1e-6 * abs(float(arr[entry])), 4 * t) if case.dtype == "float64" else 4 * t
    sign = data.draw(st.sampled_from((1.0, -1.0)), label="sign")
    dW = [np.array(a, dtype=np.float64) for a in good.dW]
    db = [np.array(a, dtype=np.float64) for a in good.db]
    (dW if param == "W" else db)[layer - 1][entry] += sign * size
    bad = manualbp.Gradients(tuple(a.astype(case.dtype) for a in dW), tuple(a.astype(case.dtype) for a in db))
    if np.array_equal(bad.flat(), good.flat()):  # the error is below float32 resolution of that entry
        return
    v = compare(case, bad, oracles=all_oracles, fast=True)
    assert v.status == "fail", str(v)
    assert [(d.layer, d.param, d.entry) for d in v.discrepancies] == [(layer, param, entry)]


@given(case=mst.cases(extreme=True, architectures=mst.architectures(max_layers=4, max_width=6)))
def test_extreme_cases_are_never_blamed_on_a_correct_backprop(all_oracles, case):
    v = compare(case, manualbp.gradients(case), oracles=all_oracles, fast=False)
    assert v.status in ("pass", "non-differentiable", "inconclusive"), str(v)


@pytest.mark.parametrize("dtype", DTYPES)
def test_the_worked_example_passes_every_oracle(dtype, oracle_name):
    case = seed_case(dtype)
    for fast in (True, False):
        _assert_pass(compare(case, manualbp.gradients(case), oracles=(oracle_name,), fast=fast))


@pytest.mark.parametrize("dtype", DTYPES)
def test_the_worked_example_passes_the_three_way_vote(dtype, all_oracles):
    case = seed_case(dtype)
    v = compare(case, manualbp.gradients(case), oracles=all_oracles, fast=False)
    _assert_pass(v)
    assert set(v.oracle_gradients) == set(all_oracles)


@given(case=_cases(), rel=st.sampled_from([0.0, 1e-15, 1e-13, 1e-11]))
def test_the_lower_bound_shortcut_never_changes_a_verdict(all_oracles, case, rel):
    """Fast mode decides most passes on a lower bound of the rounding model; with the model given (no shortcut)
    every verdict is the same, and a shortcut pass reads the model's ratios.  The subject is manualbp, as is or
    off by rel × each entry's scale (around the tolerance, where a shortcut would show)."""
    g = manualbp.gradients(case)
    scale = error_bound(case)
    off = manualbp.Gradients(tuple((w + rel * s).astype(case.dtype) for w, s in zip(g.dW, scale.scale_W)),
                             tuple((b + rel * s).astype(case.dtype) for b, s in zip(g.db, scale.scale_b)), "off")
    fast = compare(case, off, oracles=all_oracles)
    full = compare(case, off, oracles=all_oracles, bound=scale)
    assert (fast.status, len(fast.discrepancies)) == (full.status, len(full.discrepancies)), (str(fast), str(full))
    for (rW, rb), (sW, sb) in zip(fast.error_ratio, full.error_ratio, strict=True):
        np.testing.assert_array_equal(rW, sW)
        np.testing.assert_array_equal(rb, sb)
