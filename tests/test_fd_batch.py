"""Batched directional derivatives (oracles.fd_batch) against the per-case ones they stand in for."""

from __future__ import annotations

import numpy as np
import pytest

from manualbp import gradients as manualbp_gradients
from oracles.fd import directional_derivatives_flat
from oracles.fd_batch import directional_derivatives_many
from oracles.projection import direction_matrix
from oracles.sweep_cases import Distribution, random_cases


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
