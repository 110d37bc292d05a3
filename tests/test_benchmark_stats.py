"""The benchmarks' confidence interval of a median (benchmarks.common.median_interval).

Its coverage is checked two independent ways: the exact binomial probability from scipy, and sampling
(uniform draws, whose median 0.5 the interval must cover at the stated rate).
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.common import median_interval

stats = pytest.importorskip("scipy.stats")


def _order(values, lo) -> int:
    """j such that the interval's lower end is the j-th smallest value (1-based)."""
    return sorted(values).index(lo) + 1


@pytest.mark.parametrize("n", [6, 7, 15, 35, 100, 300, 1001])
@pytest.mark.parametrize("level", [0.9, 0.95, 0.99])
def test_the_tightest_symmetric_order_statistics_with_the_coverage(n, level):
    values = list(np.random.default_rng(n).permutation(n) * 0.5)
    lo, hi = median_interval(values, level)
    j = _order(values, lo)
    assert sorted(values)[n - j] == hi  # symmetric: the j-th smallest and the j-th largest
    coverage = 1 - 2 * stats.binom.cdf(j - 1, n, 0.5)
    tighter = 1 - 2 * stats.binom.cdf(j, n, 0.5)
    if coverage >= level:
        assert tighter < level or j == n // 2  # no tighter pair of order statistics would do
    else:  # too few values for the level: nothing narrower than the whole range is offered
        assert (lo, hi) == (min(values), max(values))


def test_sampled_coverage_of_the_median():
    rng = np.random.default_rng(0)
    draws = rng.uniform(size=(20000, 35))
    hits = sum(lo <= 0.5 <= hi for lo, hi in map(median_interval, draws))
    assert 0.95 - 0.005 <= hits / len(draws) <= 0.975  # exact coverage for n = 35: 0.959


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="at least one value"):
        median_interval([])
    with pytest.raises(ValueError, match="level"):
        median_interval([1.0, 2.0], 1.0)
