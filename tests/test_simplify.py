"""The minimal case: after Hypothesis' shrinking, explicitly simpler architectures and values are tried, and one
is kept only when it still fails the same way."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from manualbp import Case
from oracles.checker import check
from oracles.simplify import simplicity, simplify, structural_steps, with_extra_sample

DATA = Path(__file__).resolve().parent / "data" / "students"


def _simple(case: Case) -> bool:
    values = np.concatenate([np.ravel(a) for a in (*case.weights, *case.biases, case.x, case.y)])
    return all(float(2 * v).is_integer() for v in values)


def _case(widths, seed=0, batch=None, cost="half_sse", output=None) -> Case:
    rng = np.random.default_rng(seed)
    tail = () if batch is None else (batch,)
    Ws = [rng.normal(size=(k, m)) for m, k in zip(widths[:-1], widths[1:])]
    bs = [rng.normal(size=k) for k in widths[1:]]
    return Case.create(Ws, bs, rng.normal(size=(widths[0], *tail)), rng.uniform(size=(widths[-1], *tail)),
                       cost=cost, output=output)


def test_a_predicate_on_one_hidden_unit_shrinks_to_width_one():
    """'Fails' when some hidden unit has a negative bias: the simplest such case is 1-1-1 with b^(1) < 0."""
    def fails(c: Case) -> bool:
        return c.arch.depth >= 3 and bool((c.biases[0] < 0).any())

    start = _case((3, 4, 2, 3), seed=1)
    start = Case.from_arch(start.arch, start.weights, (-np.abs(start.biases[0]), *start.biases[1:]), start.x, start.y)
    assert fails(start)
    got = simplify(start, fails)
    assert got.arch.widths == (1, 1, 1), got.arch
    assert fails(got) and _simple(got)
    assert simplicity(got) < simplicity(start)


def test_structural_steps_keep_the_case_valid():
    case = _case((2, 3, 2), seed=2, batch=3, cost="softmax_ce", output="softmax")
    steps = list(structural_steps(case))
    assert steps
    for c in steps:
        assert simplicity(c) < simplicity(case)
        assert c.arch.activations[-1] == "softmax"
        np.testing.assert_allclose(c.y.sum(axis=0) > 0, True)
    assert {c.x.shape[1] for c in structural_steps(case, min_batch=3)} == {3}
    assert with_extra_sample(case).x.shape == (2, 4)


def test_nothing_simpler_fails_keeps_the_case():
    case = _case((2, 2))
    assert simplify(case, lambda c: False) is case


@pytest.mark.parametrize("seed", [1])
def test_relu_prime_of_activation_shrinks_to_one_unit_per_layer(seed):
    """relu' as (a >= 0) shows on a 1-1-1 network (a negative hidden pre-activation), whatever Hypothesis found."""
    pytest.importorskip("torch")
    result = check(str(DATA / "relu_prime_of_activation.py:backprop"), hidden="relu", output="sigmoid",
                   max_examples=15, seed=seed)
    m = result.minimal["fail"]
    assert m.case.arch.widths == (1, 1, 1), m.case
    assert _simple(m.case), m.case
    assert result.diagnosis.mistake == "missing-sigma-prime"


def test_a_mutation_needing_two_different_weights_shrinks_to_width_one():
    """Reversing the weight list in place is only visible when the reversed arrays differ: 1-1-1 with two
    different weights, not 2-1-1 (where the shapes differ)."""
    pytest.importorskip("torch")
    result = check(str(DATA / "mutates_by_reversing.py:backprop"), max_examples=15, seed=0)
    m = result.minimal["mutates"]
    assert m.case.arch.widths == (1, 1, 1), m.case
    assert _simple(m.case)
    code = result.reproducer("mutates")
    with pytest.raises(AssertionError):
        exec(compile(code, "<reproducer>", "exec"), {"__name__": "reproducer"})


def _busy_on_width_3(weights, biases, x, y):
    """Correct gradients, but a loop that never ends when a layer has 3 or more units (stoppable: pure Python)."""
    import manualbp

    n = 0
    while max(max(W.shape) for W in weights) >= 3:
        n += 1
    g = manualbp.gradients(Case.create(weights, biases, x, y, cost="half_sse"))
    return list(g.dW), list(g.db)


@pytest.mark.parametrize("seed", [3])
def test_a_hang_is_made_smaller_at_the_cost_of_two_more_hangs(seed):
    pytest.importorskip("torch")
    result = check(_busy_on_width_3, cost="half_sse", max_examples=12, timeout=0.2, seed=seed)
    hangs = [o for o in result.outcomes if o.status == "hang"]
    m = result.minimal["hang"]
    assert max(m.case.arch.widths) == 3
    assert m.case.arch.n_params <= 6, m.case.arch  # (3, 1) or (1, 3)
    assert result.seconds < 20
    assert len(hangs) <= 8 + 2
