"""The diagnosis: each catalogued mistake is recognised from the numbers, across all cases, with evidence.

Buggy subjects here are the hand-written student files of examples/students (run through the harness on
varied cases, judged against manualbp), so the mutated backward pass that predicts each mistake is tested
against code it shares nothing with.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import manualbp
from manualbp import Case, Gradients
from oracles.checker import extra_cases
from oracles.diagnose import Mutation, Observation, close, diagnose, mutant_gradients, nice
from oracles.harness import Harness
from oracles.subject import Subject, as_subject

STUDENTS = Path(__file__).resolve().parents[1] / "examples" / "students"


def _dummy(*args):
    return None


def observations(spec: str, n: int = 30, **declared) -> list[Observation]:
    sub = as_subject(str(STUDENTS / spec), **declared)
    h = Harness(sub, timeout=5)
    obs = []
    for case in extra_cases(sub, n, seed=3, max_layers=4, max_width=3):
        call = h.call(case)
        if call.kind in ("raises", "shape"):
            obs.append(Observation(case, None))
        elif call.gradients is not None:
            obs.append(Observation(case, call.gradients))
    return obs


@pytest.mark.parametrize("cost, output, batch", [
    ("half_mse", "sigmoid", None), ("half_sse", "tanh", 3), ("mse", "identity", None), ("bce", "sigmoid", 2),
    ("softmax_ce", "softmax", None), ("softmax_ce", "softmax", 3),
])
@pytest.mark.parametrize("hidden", ["sigmoid", "relu", "softplus"])
def test_unmutated_backward_is_manualbp(cost, output, batch, hidden):
    sub = Subject(_dummy, hidden=hidden, output=output, cost=cost, batch=None if batch is None else "columns")
    for case in extra_cases(sub, 4, seed=1, max_batch=batch or 1):
        got = mutant_gradients(case, Mutation("none"))
        np.testing.assert_allclose(got.flat(), manualbp.gradients(case).flat(), rtol=1e-12, atol=1e-15)


def test_a_mutation_by_hand():
    """σ'(a) instead of σ'(z) on a 1-1 sigmoid network, computed by hand."""
    case = Case.create([[[0.5]]], [[0.25]], [2.0], [1.0], cost="half_sse")
    a = 1 / (1 + np.exp(-(0.5 * 2.0 + 0.25)))
    sa = 1 / (1 + np.exp(-a))
    g = mutant_gradients(case, Mutation("sigma-prime-of-a"))
    np.testing.assert_allclose(g.db[0], [(a - 1.0) * sa * (1 - sa)], rtol=1e-14)
    np.testing.assert_allclose(g.dW[0], [[(a - 1.0) * sa * (1 - sa) * 2.0]], rtol=1e-14)
    assert mutant_gradients(Case.create([np.ones((3, 2)), np.ones((2, 3))], [np.ones(3), np.ones(2)],
                                        [1.0, 2.0], [0.0, 1.0]), Mutation("transposed-W")) is None


# student file, declared convention, expected key, expected scope (None: any), words in the title
CATALOGUE = [
    ("bug_transposed_w.py:backprop", {}, "transposed-W", "all", "W^(L)ᵀ belongs"),
    ("bug_outer_order.py:backprop", {}, "outer-order", "all", "outer product"),
    ("bug_constant_factor.py:backprop", {}, "constant-factor", None, "2×"),
    ("bug_sign.py:backprop", {}, "sign", None, "negative"),
    ("bug_sigma_prime_of_a.py:backprop", {}, "sigma-prime-of-a", "all", "σ'(a)"),
    ("bug_sigma_prime_formula_on_z.py:backprop", {}, "sigma-prime-formula-on-z", "all", "applied to z"),
    ("bug_missing_sigma_prime.py:backprop", {"layout": "columns", "returns": "db,dW"}, "missing-sigma-prime",
     "output", "output layer only"),
    ("bug_wrong_layer_activation.py:backprop", {}, "wrong-layer-activation", "all", "a^(L+1)"),
    ("bug_wrong_target.py:backprop", {}, "wrong-target", "all", "y_1 used for every output"),
    ("bug_stale_delta.py:backprop", {}, "delta-entry", "hidden", "last entry is never computed"),
    ("bug_some_layers.py:backprop", {}, "some-layers", None, "of the first layer (L = 1, below the output) are 0×"),
    ("bug_batch_sum.py:backprop", {"batch": "columns"}, "batch-factor", None, "B (the batch size)"),
    ("bug_sigma_prime_wrong_layer.py:backprop", {}, "sigma-prime-wrong-layer", "hidden", "σ'(z^(L+2)"),
    ("bug_tanh_prime_no_square.py:backprop", {"hidden": "tanh", "output": "identity"}, "sigma-prime-slip", None,
     "the square forgotten"),
]


@pytest.mark.parametrize("spec, declared, key, scope, words", CATALOGUE, ids=[c[2] for c in CATALOGUE])
def test_each_catalogued_mistake_is_recognised_with_evidence(spec, declared, key, scope, words):
    obs = observations(spec, **declared)
    failing = [ob for ob in obs if ob.wrong]
    assert failing, "the buggy student passed every case"
    d = diagnose(obs)
    assert d.mistake == key, d.text()
    assert scope is None or d.scope == scope
    assert words in d.title
    n_wrong = sum(not ob.invalid for ob in failing)
    assert f"on all {n_wrong} failing case" in d.evidence[0]
    assert d.max_relative_deviation < 1e-12  # equal to rounding, not approximately
    m = re.search(r"max deviation (\S+) \(relative (\S+)\)", d.evidence[0])
    assert m and float(m.group(1)) == pytest.approx(d.max_deviation, rel=0.05)
    assert d.fix


def test_raising_cases_count_as_evidence_for_shape_mistakes():
    obs = observations("bug_transposed_w.py:backprop")
    n_invalid = sum(ob.invalid for ob in obs)
    assert n_invalid > 0
    d = diagnose(obs)
    assert f"on the {n_invalid} cases where the subject raised" in " ".join(d.evidence)


def test_constant_factor_evidence_per_layer():
    obs = observations("bug_constant_factor.py:backprop")
    d = diagnose(obs)
    lines = [e for e in d.evidence if e.startswith("∂C/∂")]
    assert lines and all("equals 2× the oracle's on all" in e for e in lines), lines


def test_unrecognised_mistake_shows_the_pattern():
    obs = observations("bug_clipped_dw.py:backprop")
    d = diagnose(obs)
    assert d.mistake == "unrecognised" and not d.recognised
    assert "b^(" not in d.title.split("wrong:")[1]  # only the weights are wrong
    assert "equals the oracle's on all" in " ".join(d.evidence)  # ... and the biases are right
    assert "✗" in d.pattern and "·" in d.pattern


def _scaled(case: Case, k) -> Gradients:
    g = manualbp.gradients(case)
    return Gradients(tuple(k * a for a in g.dW), tuple(k * a for a in g.db))


def test_a_hypothesis_must_fit_every_case_not_just_one():
    sub = Subject(_dummy)
    cases = extra_cases(sub, 20, seed=5)
    obs = [Observation(c, _scaled(c, 2.0 if i % 2 else -1.0)) for i, c in enumerate(cases)]
    d = diagnose(obs)
    assert d.mistake == "unrecognised"
    obs2 = [Observation(c, _scaled(c, 2.0)) for c in cases]
    d2 = diagnose(obs2)
    assert d2.mistake == "constant-factor" and "20 failing cases" in d2.evidence[0]


def test_passing_cases_also_have_to_fit():
    """A mistake that would change a passing case's answer is rejected."""
    sub = Subject(_dummy)
    cases = extra_cases(sub, 10, seed=6)
    obs = [Observation(c, _scaled(c, 3.0)) for c in cases[:5]] + [Observation(c, _scaled(c, 1.0))
                                                                  for c in cases[5:]]
    assert diagnose(obs).mistake == "unrecognised"


def test_nothing_failing_means_no_diagnosis():
    sub = Subject(_dummy)
    obs = [Observation(c, manualbp.gradients(c)) for c in extra_cases(sub, 5)]
    assert diagnose(obs) is None


def test_float32_mistake_is_recognised_at_float32_rounding():
    def f32_sigma_prime_of_a(weights, biases, x, y):
        f = np.float32
        a = [x]
        for W, b in zip(weights, biases):
            a.append(f(1) / (f(1) + np.exp(-(W @ a[-1] + b))))
        delta, dW, db = a[-1] - y, [], []
        for l in range(len(weights) - 1, -1, -1):
            s = f(1) / (f(1) + np.exp(-a[l + 1]))
            dz = delta * s * (f(1) - s)
            dW.insert(0, np.outer(dz, a[l]))
            db.insert(0, dz)
            delta = weights[l].T @ dz
        return dW, db

    sub = Subject(f32_sigma_prime_of_a, dtype="float32")
    h = Harness(sub)
    obs = []
    for c in extra_cases(sub, 15, seed=2):
        call = h.call(c)
        assert call.gradients is not None and {g.dtype for g in call.gradients.dW} == {np.dtype("float64")}
        obs.append(Observation(c, call.gradients))
    d = diagnose(obs)
    assert d.mistake == "sigma-prime-of-a", d.text()
    assert 1e-12 < d.max_relative_deviation < 1e-4  # float32 rounding, accepted


def test_nice_snaps_only_exact_simple_fractions():
    assert nice(0.5000000000001) == 0.5 and nice(-1.0) == -1.0 and nice(1e-15) == 0.0
    assert nice(0.333333333333) == pytest.approx(1 / 3, rel=1e-15)
    assert nice(0.5003) == 0.5003


def test_no_closest_entry_from_cases_without_values():
    """A subject that never returns usable gradients gets no value-based "closest catalogue entry"."""
    sub = Subject(_dummy)
    obs = [Observation(c, None) for c in extra_cases(sub, 30, seed=4)]
    d = diagnose(obs)
    assert d.mistake == "unrecognised"
    assert not [e for e in d.evidence if "closest" in e], d.text()
    assert "raised or returned wrong shapes on 30 cases" in d.title


def test_closest_entry_only_for_a_clear_majority():
    """3× the gradient where the subject ran, a crash on every non-square network: the factor explains every
    failing case with gradients and is shown with how well; a fit on a minority is not shown."""
    sub = Subject(_dummy)
    cases = extra_cases(sub, 30, seed=4)
    square = [len(set(c.arch.widths)) == 1 for c in cases]
    assert 5 <= sum(square) <= 25
    obs = [Observation(c, _scaled(c, 3.0)) if sq else Observation(c, None) for c, sq in zip(cases, square)]
    d = diagnose(obs)
    assert d.mistake == "unrecognised"
    closest = [e for e in d.evidence if "closest" in e]
    n = sum(square)
    assert closest == [f"closest catalogue entry: 'constant factor: every gradient is 3× the correct one' explains "
                       f"{n} of the {n} failing cases with gradients (100%) and matches {n} of all {n}"]
    minority = [Observation(c, _scaled(c, 3.0 if i % 3 == 0 else -2.0)) for i, c in enumerate(cases)]
    assert not [e for e in diagnose(minority).evidence if "closest" in e]


NEW_MUTATIONS = [("extra-output-prime", "diagonal"), ("extra-output-prime", "jacobian"),
                 ("reshaped-W", "standard"), ("reshaped-W", "xw"),
                 ("sigma-prime-wrong-layer", "next"), ("sigma-prime-wrong-layer", "previous"),
                 ("sigma-prime-slip", "tanh-no-square"), ("sigma-prime-slip", "sigmoid-plus"),
                 ("sigma-prime-slip", "swapped"), ("delta-lower-W", ""),
                 ("output-slip", "aliased"), ("output-slip", "softmax-diagonal"), ("softmax-over-batch", "plain"),
                 ("updated-W", "0.1"), ("outer-order", "shape-guided"), ("wrong-target", "truncated"),
                 ("aliased-dW", "")]


@pytest.mark.parametrize("key, variant", NEW_MUTATIONS)
def test_new_mutations_do_not_fit_correct_students(key, variant):
    """On a correct student's answers (softmax + cross-entropy, sigmoid and tanh networks with hidden layers) each
    new mistake predicts something else where it applies: it is rejected (a slip in tanh' cannot be told from
    the right answer on a relu network, where it changes nothing: that is no fit, nothing is explained)."""
    from oracles.diagnose import Hypothesis, test_hypothesis

    mut = Mutation(key, variant)
    h = Hypothesis(key, key, "", lambda ob: mutant_gradients(ob.case, mut))
    rejected = 0
    for spec, declared in (("correct_batch.py:backprop", {"hidden": "relu", "output": "softmax",
                                                          "cost": "softmax_ce", "batch": "columns"}),
                           ("correct_loops.py:backprop", {}),
                           ("correct_flat.py:grad", {"hidden": "tanh", "output": "identity", "cost": "mse",
                                                     "layout": "flat"})):
        obs = observations(spec, n=20, **declared)
        assert obs and not any(ob.wrong for ob in obs)
        fit = test_hypothesis(h, obs)
        rejected += not fit.fits
        if fit.fits:  # only where the mistake changes nothing
            assert all(mutant_gradients(ob.case, mut) is not None and close(mutant_gradients(ob.case, mut),
                                                                            ob.reference)[0] for ob in obs), spec
    assert rejected, "the mistake is not told from a right answer on any network"


def test_extra_output_prime_by_hand():
    """Softmax + cross-entropy on a 1-2 network: a − y times a(1 − a), and the Jacobian applied to a − y."""
    case = Case.create([[[0.5], [-1.0]]], [[0.25, 0.0]], [2.0], [1.0, 0.0], cost="softmax_ce", output="softmax")
    z = np.array([0.5 * 2 + 0.25, -2.0])
    a = np.exp(z) / np.exp(z).sum()
    g = a - np.array([1.0, 0.0])
    diag = mutant_gradients(case, Mutation("extra-output-prime", "diagonal"))
    np.testing.assert_allclose(diag.db[0], g * a * (1 - a), rtol=1e-14)
    jac = mutant_gradients(case, Mutation("extra-output-prime", "jacobian"))
    np.testing.assert_allclose(jac.db[0], (np.diag(a) - np.outer(a, a)) @ g, rtol=1e-14)
    np.testing.assert_allclose(jac.dW[0], np.outer((np.diag(a) - np.outer(a, a)) @ g, [2.0]), rtol=1e-14)
    sig = Case.create([[[0.5]], [[2.0]]], [[0.25], [0.0]], [2.0], [1.0], cost="half_sse")
    a1 = 1 / (1 + np.exp(-1.25))
    a2 = 1 / (1 + np.exp(-2.0 * a1))
    got = mutant_gradients(sig, Mutation("extra-output-prime", "diagonal"))
    np.testing.assert_allclose(got.db[1], [(a2 - 1.0) * (a2 * (1 - a2)) ** 2], rtol=1e-14)


def test_reshaped_w_by_hand():
    """W.reshape(n_in, n_out) in place of W.T on a 1-2-2 identity network, computed by hand."""
    W1, W2 = np.array([[1.0], [2.0]]), np.array([[1.0, 2.0], [3.0, 4.0]])
    case = Case.create([W1, W2], [[0.0, 0.0], [0.0, 0.0]], [1.0], [0.0, 0.0], hidden="identity",
                       output="identity", cost="half_sse")
    a2 = W1 @ [1.0]
    a3 = W2 @ a2
    d3 = a3
    got = mutant_gradients(case, Mutation("reshaped-W", "standard"))
    np.testing.assert_allclose(got.db[0], W2.reshape(2, 2) @ d3, rtol=1e-14)
    np.testing.assert_allclose(got.db[1], d3, rtol=1e-14)
    right = manualbp.gradients(case)
    assert not np.allclose(got.db[0], right.db[0])
    np.testing.assert_allclose(right.db[0], W2.T @ d3, rtol=1e-14)


EDGE_STUDENTS = Path(__file__).resolve().parent / "data" / "edge_students"


@pytest.mark.parametrize("spec, declared, key, words", [
    ("leaky_without_leak.py:backprop", {"hidden": "leaky_relu", "output": "identity"}, "leak-forgotten", "leak"),
    ("leaky_without_leak.py:other_leak", {"hidden": "leaky_relu", "output": "identity"}, "leak-slope", "is 0.2"),
    ("hidden_batch_twice.py:backprop", {"hidden": "sigmoid", "output": "sigmoid", "batch": "columns"},
     "batch-factor-hidden", "again at every hidden layer"),
    ("train_as_you_go.py:lower_w", {"hidden": "sigmoid", "output": "sigmoid"}, "delta-lower-W", "layer below"),
    ("bias_mean_wrong_axis.py:backprop", {"hidden": "sigmoid", "output": "sigmoid", "batch": "rows"},
     "bias-wrong-axis", "one entry per sample"),
    ("output_slips.py:backprop", {"hidden": "sigmoid", "output": "sigmoid"}, "output-slip", "in place"),
    ("output_slips.py:softmax_diagonal", {"hidden": "sigmoid", "output": "softmax"}, "output-slip", "sign flipped"),
    ("softmax_whole_batch.py:backprop", {"hidden": "relu", "output": "softmax", "cost": "softmax_ce",
                                         "batch": "columns"}, "softmax-over-batch", "whole batch"),
    ("softmax_whole_batch.py:smoothed", {"hidden": "relu", "output": "softmax", "cost": "softmax_ce",
                                         "batch": "columns"}, "wrong-target", "label smoothing"),
    ("train_as_you_go.py:backprop", {"hidden": "sigmoid", "output": "sigmoid"}, "updated-W", "learning rate 0.1"),
    ("train_as_you_go.py:outer_by_shape", {"hidden": "sigmoid", "output": "sigmoid"}, "outer-order", "square layers"),
    ("round5.py:no_output_activation", {"hidden": "sigmoid", "output": "sigmoid"}, "output-slip",
     "left out of the forward pass"),
    ("round5.py:int_targets", {"hidden": "sigmoid", "output": "sigmoid"}, "wrong-target", "truncated to integers"),
    ("round5.py:shared_buffers", {"hidden": "sigmoid", "output": "sigmoid"}, "aliased-dW", "share one buffer"),
    ("round5.py:dropout_rescale", {"hidden": "sigmoid", "output": "identity"}, "scaled-activation",
     "multiplied by 1.25"),
    ("round5.py:fan_in_mean", {"hidden": "tanh", "output": "identity"}, "fan-in-scaled", "1/n_in (mean-field"),
    ("round5.py:shared_z", {"hidden": "tanh", "output": "sigmoid", "batch": "columns"}, "aliased-z", "one buffer"),
    ("round5.py:dot_outer", {"hidden": "tanh", "output": "sigmoid"}, "inner-product-dW", "inner product"),
    ("round5.py:bias_along_samples", {"hidden": "tanh", "output": "sigmoid", "batch": "columns"}, "bias-broadcast",
     "along the samples"),
    ("weight_decay.py:backprop", {"hidden": "sigmoid", "output": "sigmoid"}, "weight-decay", "λ = 0.001"),
    ("weight_decay.py:l1", {"hidden": "sigmoid", "output": "sigmoid"}, "l1-penalty", "sign(W) with λ = 0.0005"),
    ("weight_decay.py:rmsprop_like", {"hidden": "sigmoid", "output": "sigmoid"}, "optimizer-step", "ε = 1e-07"),
])
def test_second_trial_mistakes_are_catalogued(spec, declared, key, words):
    """Fail before: a forgotten leak and an L2 term in dW were 'unrecognised' (found by the second outside trial)."""
    from oracles.checker import check

    result = check(f"{EDGE_STUDENTS / spec}", max_examples=30, **{"cost": "half_sse", **declared})
    assert not result.passed and result.diagnosis is not None, result.text()
    assert result.diagnosis.mistake == key and words in result.diagnosis.title, result.text()


def test_a_batch_factor_on_the_bias_gradients_alone_is_named():
    """Fails before: db divided by B twice (dW right) was 'unrecognised' (found by the third outside trial)."""
    from oracles.checker import check

    result = check(f"{EDGE_STUDENTS / 'db_mean_twice.py'}:backprop", hidden="sigmoid", output="sigmoid",
                   cost="half_sse", batch="columns", max_examples=30)
    assert not result.passed and result.diagnosis is not None, result.text()
    assert result.diagnosis.mistake == "batch-factor-b" and "once more" in result.diagnosis.title, result.text()


def test_a_bias_gradient_kept_with_an_extra_axis_is_named():
    """Fails before: db as a (1, n) row (keepdims=True, np.matrix) was 'unrecognised … raised or returned wrong
    shapes' (found by the third outside trial)."""
    from oracles.checker import check

    result = check(f"{EDGE_STUDENTS / 'bias_keepdims.py'}:grads", hidden="sigmoid", output="sigmoid",
                   cost="half_sse", layout="xw", batch="rows", max_examples=20)
    assert not result.passed and result.diagnosis is not None, result.text()
    assert result.diagnosis.mistake == "bias-two-axes", result.text()


def test_a_mistake_that_changes_nothing_explains_nothing():
    """Gradients 13 digits right but beyond rounding (tanh written 2σ(2z) − 1): "bias not summed" on a single
    sample, or a forgotten leak in a tanh network, predicts the right answer, so it explains no failure; the
    diagnosis is "approximate" (fails before: a mistake that makes no difference fitted trivially)."""
    rng = np.random.default_rng(3)
    obs = []
    for _ in range(4):
        Ws = [rng.normal(size=(3, 2)), rng.normal(size=(2, 3))]
        bs = [rng.normal(size=3), rng.normal(size=2)]
        case = Case.create(Ws, bs, rng.normal(size=2), rng.normal(size=2), hidden="tanh", cost="half_mse")
        g = manualbp.gradients(case)
        off = Gradients(tuple(w * (1 + 2e-13) for w in g.dW), tuple(b * (1 + 2e-13) for b in g.db), "subject")
        obs.append(Observation(case, off, wrong=True))
    d = diagnose(obs)
    assert d.mistake == "approximate", d.text()
    assert "right to about 12 digits" in d.evidence[0] and "2σ(2z) − 1" in d.fix


@pytest.mark.parametrize("func, declared, key, advice", [
    ("tanh_inplace", {"hidden": "tanh", "output": "identity"}, "sigma-prime-of-a", "1 − a² for tanh"),
    ("ce_over_width", {"hidden": "relu", "output": "softmax", "cost": "softmax_ce"}, "width-factor",
     "the declared softmax_ce has no factor of the output width"),
])
def test_the_fix_speaks_of_the_declared_network(func, declared, key, advice):
    """Fails before: σ'(a) in a tanh network was told only the sigmoid formula; a factor 1/n_N under softmax_ce was
    told to declare half_mse or half_sse (outside trial, round 5)."""
    from oracles.checker import check

    result = check(f"{EDGE_STUDENTS / 'round5.py'}:{func}", max_examples=30, **{"cost": "half_sse", **declared})
    assert result.diagnosis is not None and result.diagnosis.mistake == key, result.text()
    assert advice in result.diagnosis.fix, result.diagnosis.fix


def test_an_inner_product_for_dW_is_judged_on_the_returned_numbers():
    """inner-product-dW explains a 0-d ∂C/∂W that is Σ_i dz_i a_i (with ∂C/∂b right) and a raise where a layer is not
    square; not a wrong number, a raise on a square network, nor a batch."""
    from oracles.diagnose import _inner_product_explains

    square = Case.create([[[0.5, -1.0], [2.0, 0.25]]], [[0.1, -0.2]], [0.3, 0.7], [1.0, 0.0], cost="half_sse")
    g = manualbp.gradients(square)
    inner = float(np.dot(g.db[0], [0.3, 0.7]))  # Σ_i dz_i x_i

    def ob(case, dW):
        o = Observation(case, None, wrong=True)
        if dW is not None:
            o.returned, o.expected = ([np.array(dW)], [g.db[0]]), ([g.dW[0]], [g.db[0]])
        return o

    assert _inner_product_explains(ob(square, inner))
    assert not _inner_product_explains(ob(square, inner + 0.01))
    assert not _inner_product_explains(ob(square, None))  # np.dot of two equal lengths does not raise
    wide = Case.create([[[0.5, -1.0, 0.2], [2.0, 0.25, 0.1]]], [[0.1, -0.2]], [0.3, 0.7, 0.1], [1.0, 0.0])
    assert _inner_product_explains(ob(wide, None))
    batch = Case.create([[[0.5, -1.0], [2.0, 0.25]]], [[0.1, -0.2]], [[0.3, 0.1], [0.7, 0.2]], [[1.0, 0.0], [0.0, 1.0]])
    assert not _inner_product_explains(ob(batch, None))


def test_float16_gradients_are_approximate_and_say_so():
    """Gradients accumulated and returned in float16 (3 digits) are "approximate", with the returned dtype named;
    fails before: 'unrecognised' (found by the sixth outside trial)."""
    from oracles.checker import check

    result = check(f"{EDGE_STUDENTS / 'float16_accumulators.py'}:backprop", hidden="sigmoid", output="identity",
                   cost="half_sse", batch="columns", max_examples=30)
    assert not result.passed and result.diagnosis is not None, result.text()
    assert result.diagnosis.mistake == "approximate", result.text()
    assert any("returned float16 arrays in a float64 check" in e for e in result.diagnosis.evidence), result.text()
