"""Batched directional derivatives (oracles.fd_batch) against the per-case ones they stand in for."""

from __future__ import annotations

import numpy as np
import pytest

from manualbp import gradients as manualbp_gradients
from manualbp.activations import KINKED
from oracles import fd_batch
from oracles.fd import directional_derivatives_flat
from oracles.fd_batch import directional_derivatives_many
from oracles.projection import direction_matrix
from oracles.sweep_cases import Distribution, random_cases
from tests.test_fd import float32_boundary_case, make_case, relu_case_at_kink, with_dead_kink


def _agree(many, one) -> None:
    assert many.method == one.method
    assert many.value.shape == one.value.shape
    # two evaluations whose sums round differently (padded or not): within both error estimates, or
    # within 1e-12 of the derivatives' size (a wrong mask or padding would be off by O(1))
    size = max(float(np.abs(one.value).max(initial=0.0)), 1e-3)
    np.testing.assert_array_less(np.abs(many.value - one.value), 2 * (many.err + one.err) + 1e-12 * size)
    assert np.all(many.err <= 100 * one.err + 1e-12 * size)


@pytest.mark.parametrize("seed", [0, 1])
def test_many_matches_per_case(seed):
    cases = random_cases(seed, 0, 150)
    dirs = [direction_matrix(c, 2, seed) for c in cases]
    many = directional_derivatives_many(cases, dirs)
    assert len(many) == len(cases)
    for c, d, m in zip(cases, dirs, many):
        _agree(m, directional_derivatives_flat(c, d))


def test_directional_derivative_equals_gradient_projection():
    """An independent check: ⟨∇C, v⟩ from manualbp's backprop equals the batched FD derivative."""
    cases = random_cases(5, 0, 100, Distribution(float32_share=0.0))
    dirs = [direction_matrix(c, 3, 1) for c in cases]
    for c, d, m in zip(cases, dirs, directional_derivatives_many(cases, dirs)):
        g = manualbp_gradients(c).flat()
        for j, v in enumerate(d):
            exact = float(g @ v)
            scale = float(np.abs(g) @ np.abs(v))
            assert abs(m.value[j] - exact) <= 4 * m.err[j] + 1e-12 * scale, (c.arch, j)


def test_large_cases_take_the_per_case_path_and_mix_with_small_ones():
    wide = random_cases(2, 0, 40, Distribution(max_width=24, max_batch=12))
    dirs = [direction_matrix(c, 2, 0) for c in wide]
    for c, d, m in zip(wide, dirs, directional_derivatives_many(wide, dirs)):
        _agree(m, directional_derivatives_flat(c, d))


def test_counts_must_match():
    cases = random_cases(0, 0, 2)
    with pytest.raises(ValueError, match="2 cases but 1 lists"):
        directional_derivatives_many(cases, [direction_matrix(cases[0], 2, 0)])


def _kinked(case) -> bool:
    return any(a in KINKED for a in case.arch.activations)


def test_kinked_cases_take_the_per_case_method():
    """relu/leaky cases clear of kinks take the complex step in the batch as per case; a case at a kink,
    or clear of it in float64 only, Richardson (the kink flagged alike); values agree."""
    special = [relu_case_at_kink("relu"), relu_case_at_kink("leaky_relu", 2), float32_boundary_case(),
               with_dead_kink(make_case("leaky_relu", "softmax", "softmax_ce", widths=(3, 5, 4, 3), batch=2)),
               make_case("relu", "sigmoid", "bce", widths=(3, 5, 4, 2), batch=3),
               make_case("leaky_relu", "identity", "mse", widths=(4, 6, 2))]
    methods = ["richardson"] * 4 + ["complex-step"] * 2
    cases = special + [c for c in random_cases(3, 0, 120) if _kinked(c)]
    assert all(fd_batch.spec.bucket_key(c, max_width=fd_batch.MAX_WIDTH, max_batch=fd_batch.MAX_BATCH,
                                        min_width=8, min_layers=4, min_batch=4) is not None for c in special)
    dirs = [direction_matrix(c, 3, 2) for c in cases]
    many = directional_derivatives_many(cases, dirs)
    assert [m.method for m in many[:len(special)]] == methods
    assert many[0].kink.all() and many[1].kink.all() and many[3].kink.any() and not many[2].kink.any()
    for c, d, m in zip(cases, dirs, many):
        one = directional_derivatives_flat(c, d)
        _agree(m, one)
        np.testing.assert_array_equal(m.kink, one.kink)
    assert sum(m.method == "complex-step" for m in many[len(special):]) > 0.9 * (len(cases) - len(special))


def test_kinked_complex_step_equals_gradient_projection():
    """The batched complex step through relu/leaky_relu gives manualbp's ⟨∇C, v⟩ to ~1e-12 (relative to
    Σ|g_i v_i|), float64 cases."""
    cases = [c for c in random_cases(7, 0, 200, Distribution(float32_share=0.0)) if _kinked(c)]
    dirs = [direction_matrix(c, 3, 1) for c in cases]
    taken = 0
    for c, d, m in zip(cases, dirs, directional_derivatives_many(cases, dirs)):
        if m.method != "complex-step":
            continue
        taken += 1
        g = manualbp_gradients(c).flat()
        scale = np.abs(d) @ np.abs(g)
        np.testing.assert_array_less(np.abs(m.value - d @ g), 1e-12 * scale + 1e-300, err_msg=str(c.arch))
    assert taken > 0.9 * len(cases)


@pytest.mark.parametrize("seed", [3, 4])
def test_many_with_rounding_bounds_matches_per_case(seed):
    """With per-case rounding bounds the batched derivatives (no float32 twin on the complex step) agree with the
    per-case ones given the same bounds, and the error estimate is at least the bound."""
    cases = random_cases(seed, 0, 120)
    dirs = [direction_matrix(c, 2, seed) for c in cases]
    rounding = [np.full(2, 1e-13 * (k % 3)) for k in range(len(cases))]
    many = directional_derivatives_many(cases, dirs, rounding)
    for c, d, r, m in zip(cases, dirs, rounding, many):
        _agree(m, directional_derivatives_flat(c, d, rounding=r))
        if m.method == "complex-step":
            assert (m.err >= r).all()
    with pytest.raises(ValueError, match="120 cases but 1 rounding"):
        directional_derivatives_many(cases, dirs, rounding[:1])
