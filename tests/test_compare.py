"""The comparison has teeth and does not cry wolf: oracles.compare on planted errors and hard cases.

Expected values come from the oracles themselves (torch, jax, finite differences) and from an
extended-precision complex-step reference, never from numbers typed in from the derivation.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import manualbp
from manualbp import Case, Gradients
from manualbp.activations import get_activation
from manualbp.costs import get_cost
from manualbp.example import seed_case
from oracles import compare as cmp
from oracles.base import MissingDependency, get_oracle
from oracles.compare import Discrepancy, Verdict, compare, error_bound, tolerances
from oracles.findings import Finding, Report, validate

ALL = ("torch", "jax", "fd")


def _batch_case(dtype: str = "float64") -> Case:
    """3-4-3-2, tanh then relu then softmax with softmax_ce, a batch of 3 (relu kept away from its kink)."""
    W1 = (np.arange(12).reshape(4, 3) - 5.5) / 8
    W2 = (np.arange(12).reshape(3, 4)[::-1] - 5) / 9
    W3 = (np.arange(6).reshape(2, 3) - 2.5) / 4
    b1, b2, b3 = np.array([0.1, -0.2, 0.3, 0.0]), np.array([0.5, 0.6, 0.7]), np.array([0.05, -0.05])
    x = np.array([[0.5, -1.0, 0.25], [1.0, 0.5, -0.5], [-0.75, 0.25, 1.0]])
    y = np.array([[0.25, 1.0, 0.5], [0.75, 0.0, 0.5]])
    return Case.create([W1, W2, W3], [b1, b2, b3], x, y, activations=("tanh", "relu", "softmax"),
                       cost="softmax_ce", dtype=dtype, label="batch case")


def _plant(g: Gradients, layer: int, param: str, entry: tuple[int, ...], rel: float) -> Gradients:
    """``g`` with entry ``entry`` of ∂C/∂param^(layer) multiplied by (1 + rel)."""
    dW = [np.array(a, copy=True) for a in g.dW]
    db = [np.array(a, copy=True) for a in g.db]
    target = (dW if param == "W" else db)[layer - 1]
    target[entry] *= 1 + rel
    return Gradients(tuple(dW), tuple(db), "planted")


def test_correct_gradients_pass_the_seed_example_with_every_oracle():
    for dtype in ("float64", "float32"):
        case = seed_case(dtype)
        for fast in (True, False):
            v = compare(case, manualbp.gradients(case), oracles=ALL, fast=fast)
            assert v.status == "pass", str(v)
            assert v.passed and not v.discrepancies
            assert 0 < v.max_error_ratio < 1
        assert set(v.oracle_gradients) == set(ALL)


def test_correct_gradients_pass_a_batch_softmax_case():
    for dtype in ("float64", "float32"):
        case = _batch_case(dtype)
        assert error_bound(case).kinks == ()
        v = compare(case, manualbp.gradients(case), fast=False)
        assert v.status == "pass", str(v)


PLANTS = [(1, "W", (0, 0)), (1, "b", (2,)), (3, "W", (1, 2)), (3, "b", (0,))]


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("make", [seed_case, _batch_case], ids=["seed", "batch"])
@pytest.mark.parametrize(("layer", "param", "entry"), PLANTS)
def test_a_relative_1e6_error_is_caught_and_localised(make, layer, param, entry, fast):
    case = make("float64")
    good = manualbp.gradients(case)
    bad = _plant(good, layer, param, entry, 1e-6)
    v = compare(case, bad, oracles=ALL, fast=fast)
    assert v.status == "fail" and not v.passed, str(v)
    assert [(d.layer, d.param, d.entry) for d in v.discrepancies] == [(layer, param, entry)]
    d = v.discrepancies[0]
    assert d.status == "fail"
    assert set(d.oracles) == set(ALL)  # fast mode ran the full FD to localise and vote
    true = (good.dW if param == "W" else good.db)[layer - 1][entry]
    assert d.subject == pytest.approx(true * (1 + 1e-6), rel=1e-15)
    for name in ALL:
        assert d.oracles[name] == pytest.approx(true, rel=1e-9)
    assert d.rel_err == pytest.approx(1e-6, rel=1e-3)
    assert d.abs_err > d.tolerance > 0
    ratio = v.error_ratio[layer - 1][0 if param == "W" else 1]
    assert ratio[entry] > 1 and np.sum(ratio > 1) == 1


def test_float32_planted_error_is_caught():
    case = seed_case("float32")
    bad = _plant(manualbp.gradients(case), 2, "W", (1, 3), 1e-3)
    v = compare(case, bad)
    assert v.status == "fail"
    assert [(d.layer, d.param, d.entry) for d in v.discrepancies] == [(2, "W", (1, 3))]


class _Planted:
    """An oracle wrapper that returns a wrong entry (to test the vote, not the subject)."""

    def __init__(self, inner, layer, param, entry, rel, name=None):
        self.inner, self.where, self.rel = inner, (layer, param, entry), rel
        self.name, self.kind = name or inner.name, inner.kind

    def gradients(self, case):
        g = self.inner.gradients(case)
        bad = _plant(g, *self.where, self.rel)
        if isinstance(g, Gradients) and type(g) is not Gradients:  # keep FDGradients' error estimates
            return dataclasses.replace(g, dW=bad.dW, db=bad.db)
        return bad

    def cost(self, case):
        return self.inner.cost(case)


@pytest.mark.parametrize("wrong", ALL)
def test_a_wrong_oracle_is_an_oracle_disagreement_not_a_subject_failure(wrong):
    case = _batch_case()
    oracles = [_Planted(get_oracle(n), 2, "W", (1, 0), 1e-5) if n == wrong else n for n in ALL]
    v = compare(case, manualbp.gradients(case), oracles=oracles, fast=False)
    assert v.status == "oracle-disagreement" and not v.passed, str(v)
    assert {d.status for d in v.discrepancies} == {"oracle-disagreement"}
    assert {(d.layer, d.param, d.entry) for d in v.discrepancies} == {(2, "W", (1, 0))}
    findings = v.to_findings(source="sweep", check="vote")
    assert findings and all(f.severity != "error" for f in findings)
    assert any(f.kind == "oracle-disagreement" and f.where.entry == (1, 0) for f in findings)


def test_a_wrong_oracle_is_noticed_even_in_fast_mode_when_the_subject_agrees_with_it():
    """The subject copies a wrong torch: jax disagrees entrywise, the full FD runs, the vote says 'oracles'."""
    case = seed_case()
    torch_bad = _Planted(get_oracle("torch"), 1, "b", (3,), 1e-4)
    subject = torch_bad.gradients(case)
    v = compare(case, subject, oracles=[torch_bad, "jax", "fd"], fast=True)
    assert v.status == "oracle-disagreement", str(v)
    assert "fd" in v.oracle_gradients


def _unfused_bce_subject(case: Case) -> Gradients:
    """A textbook backprop that forms δ^(N) = ∂C/∂a and multiplies by σ'(z) (no fused a − y)."""
    fwd = manualbp.forward(case)
    N = case.arch.depth
    a = {L: v[:, None] if v.ndim == 1 else v for L, v in fwd.a.items()}
    y = case.y[:, None] if case.y.ndim == 1 else case.y
    with np.errstate(all="ignore"):
        delta = get_cost(case.arch.cost).delta(a[N], y)
        dW, db = [], []
        for L in range(N - 1, 0, -1):
            act = get_activation(case.arch.activations[L - 1])
            zz = fwd.z[L + 1][:, None] if fwd.z[L + 1].ndim == 1 else fwd.z[L + 1]
            dz = delta * act.prime(zz, a[L + 1])
            dW.insert(0, dz @ a[L].T)
            db.insert(0, dz.sum(axis=1))
            delta = case.weights[L - 1].T @ dz
    return Gradients(tuple(dW), tuple(db), "unfused")


def _saturated_bce_case(dtype: str) -> Case:
    # z = 17: σ(z) rounds to 1 in float32 (1 − σ = 4e-8 < 2^-24), so a(1 − a) = 0 and δ^(N) = ∞.
    return Case.create([[[16.0]]], [[1.0]], [1.0], [0.5], activations=("sigmoid",), cost="bce", dtype=dtype,
                       label="saturated bce")


def test_float32_failure_that_vanishes_in_float64_is_precision():
    case = _saturated_bce_case("float32")
    subject = _unfused_bce_subject(case)
    assert not np.all(np.isfinite(subject.flat()))  # the textbook formula really breaks in float32
    v = compare(case, subject, rerun=_unfused_bce_subject)
    assert v.status == "precision" and v.passed, str(v)
    assert v.float64 is not None and v.float64.status == "pass"
    assert {d.status for d in v.discrepancies} == {"precision"}
    kinds = {f.kind for f in v.to_findings(source="check", check="unfused")}
    assert "precision" in kinds and "gradient-mismatch" not in kinds
    # without a re-run there is no evidence that it is only precision
    assert compare(case, subject).status == "fail"


def test_float32_failure_that_persists_in_float64_is_a_failure():
    case = seed_case("float32")

    def wrong(c: Case) -> Gradients:
        return _plant(manualbp.gradients(c), 3, "b", (1,), 1e-2)

    v = compare(case, wrong(case), rerun=wrong)
    assert v.status == "fail"
    assert v.float64 is not None and v.float64.status == "fail"
    assert any("float64 re-run also fails" in n for n in v.notes)


def _kink_case(hidden: str = "relu") -> Case:
    # z^(2) = 0.5·1 − 1·0.5 + 0 = 0 exactly: the hidden unit sits on its kink.
    return Case.create([[[1.0, -1.0]], [[2.0], [-1.0]]], [[0.0], [0.25, 0.5]], [0.5, 0.5], [1.0, 0.0],
                       activations=(hidden, "tanh"), cost="half_mse", label="kink")


@pytest.mark.parametrize("rerun_gives", ["raises", "wrong shapes"])
def test_a_float64_rerun_that_gives_no_gradients_leaves_the_float32_failure(rerun_gives):
    case = seed_case("float32")
    wrong = _plant(manualbp.gradients(case), 3, "b", (1,), 1e-2)

    def rerun(c: Case) -> Gradients:
        if rerun_gives == "raises":
            raise ValueError("no float64 here")
        return Gradients(wrong.dW[:1], wrong.db[:1], "truncated")

    v = compare(case, wrong, rerun=rerun)
    assert v.status == "fail" and v.float64 is None
    assert any(f.status == "fail" and (f.layer, f.param, f.entry) == (3, "b", (1,)) for f in v.discrepancies)
    why = "ValueError: no float64 here" if rerun_gives == "raises" else "weight and 1 bias gradients"
    assert any("float64 re-run gave no gradients" in n and why in n for n in v.notes), v.notes


@pytest.mark.parametrize("hidden", ["relu", "leaky_relu"])
def test_a_kink_is_non_differentiable_not_a_failure(hidden):
    case = _kink_case(hidden)
    assert error_bound(case).kinks == ((2, 0),)
    v = compare(case, manualbp.gradients(case), fast=False)
    assert v.status == "non-differentiable" and v.passed, str(v)
    # a subject using the other one-sided derivative (σ'(0) = 1) is not blamed either
    other = dataclasses.replace(case.arch, activations=("identity", "tanh"))
    subject = manualbp.gradients(Case.from_arch(other, case.weights, case.biases, case.x, case.y))
    v = compare(case, subject, fast=False)
    assert v.status == "non-differentiable" and v.passed, str(v)
    if hidden == "relu":
        assert v.discrepancies and {d.status for d in v.discrepancies} == {"non-differentiable"}
        assert {(d.layer, d.param) for d in v.discrepancies} <= {(1, "W"), (1, "b")}


def test_kink_flag_does_not_excuse_entries_the_kink_cannot_reach():
    case = _kink_case()
    bad = _plant(manualbp.gradients(case), 2, "b", (1,), 1e-6)  # b^(2) sits after the kinked unit
    v = compare(case, bad, fast=False)
    assert v.status == "fail"
    assert [(d.layer, d.param, d.entry, d.status) for d in v.discrepancies] == [(2, "b", (1,), "fail")]


def test_a_unit_rounded_to_either_side_of_its_kink_blames_no_entry_after_it():
    """z = 0.01 + 0.02 − 0.03 is 0 as manualbp adds it and 3.5e-18 with the bias added first: a correct
    backprop that adds in that order gets a = 3.5e-18 and ∂C/∂W^(2)[:, 0] = dz·a ≠ 0, where the oracles
    get 0.  Those entries come after the kinked unit and must pass (they failed with tolerance ~1e-307)."""
    arch = manualbp.Architecture((2, 2, 2), ("relu", "sigmoid"), "half_mse")
    W1, b1 = np.array([[0.01, 0.02], [0.5, -0.25]]), np.array([-0.03, 0.1])
    W2, b2 = np.array([[1.5, -0.7], [0.3, 0.9]]), np.array([0.1, -0.2])
    case = Case(arch, (W1, W2), (b1, b2), np.ones(2), np.array([0.2, 0.7]))
    z1 = (b1 + W1[:, 0]) + W1[:, 1]  # the bias first
    assert z1[0] > 0 and (W1 @ np.ones(2) + b1)[0] == 0
    a1 = np.maximum(z1, 0.0)
    a2 = get_activation("sigmoid").f(W2 @ a1 + b2)
    dz2 = (a2 - case.y) / 2 * a2 * (1 - a2)
    dz1 = (W2.T @ dz2) * (z1 > 0)
    subject = Gradients((np.outer(dz1, case.x), np.outer(dz2, a1)), (dz1, dz2), "bias first")
    assert subject.dW[1][0, 0] != 0 and manualbp.gradients(case).dW[1][0, 0] == 0
    for fast in (True, False):
        v = compare(case, subject, fast=fast)
        assert v.passed and v.status == "non-differentiable", str(v)
        assert {(d.layer, d.status) for d in v.discrepancies} <= {(1, "non-differentiable")}


def test_findings_are_valid_and_point_at_the_entry():
    case = seed_case()
    bad = _plant(_plant(manualbp.gradients(case), 1, "W", (2, 1), 1e-6), 1, "W", (0, 2), -3e-6)
    v = compare(case, bad)
    findings = v.to_findings(source="check", check="planted")
    assert len(findings) == 1
    f = findings[0]
    assert isinstance(f, Finding)
    assert (f.kind, f.severity, f.source, f.check) == ("gradient-mismatch", "error", "check", "planted")
    assert (f.where.layer, f.where.param, f.where.entry) == (1, "W", (0, 2))  # the worst of the two
    assert f.values["n_wrong"] == 2
    assert np.asarray(f.values["error_ratio"]).shape == case.weights[0].shape
    assert {"subject", "torch", "jax", "fd", "abs_err", "rel_err"} <= set(f.values)
    assert f.tolerance == pytest.approx(v.discrepancies[0].tolerance) or f.tolerance > 0
    assert "W^(1)[0, 2]" in f.message
    report = Report(findings=findings)
    validate(report)
    assert Report.from_json(report.to_json()).findings[0].where.entry == (0, 2)


def test_a_pass_has_no_findings_and_non_pass_statuses_have_a_note_finding():
    case = seed_case()
    assert compare(case, manualbp.gradients(case)).to_findings(source="sweep", check="c") == []
    v = compare(_kink_case(), manualbp.gradients(_kink_case()), fast=False)
    fs = v.to_findings(source="sweep", check="c")
    assert [f.kind for f in fs if f.where.layer is None] == ["non-differentiable"]
    assert all(f.severity == "info" for f in fs)


def test_missing_optional_oracle_is_noted_and_skipped(monkeypatch):
    real = cmp.get_oracle

    def fake(name):
        if name == "jax":
            raise MissingDependency("the 'jax' oracle needs jax, which is not installed; pip install 'manualbp[jax]'")
        return real(name)

    monkeypatch.setattr(cmp, "get_oracle", fake)
    case = seed_case()
    v = compare(case, manualbp.gradients(case))
    assert v.status == "pass"
    assert "jax" not in v.oracle_gradients
    assert any("'jax' skipped" in n and "pip install" in n for n in v.notes)
    bad = _plant(manualbp.gradients(case), 2, "b", (0,), 1e-6)
    assert compare(case, bad).status == "fail"  # still judged by torch and fd


def test_no_oracle_at_all_is_inconclusive(monkeypatch):
    def missing(name):
        raise MissingDependency(f"{name} is not installed")

    monkeypatch.setattr(cmp, "get_oracle", missing)
    case = seed_case()
    v = compare(case, manualbp.gradients(case), oracles=("torch", "jax"))
    assert v.status == "inconclusive" and not v.passed
    assert any("no oracle" in n for n in v.notes)


def test_an_oracle_that_cannot_handle_the_case_is_a_clear_error():
    class Refuses:
        name, kind = "picky", "autodiff"

        def gradients(self, case):
            raise ValueError("activation 'softplus' is not supported")

        def cost(self, case):
            return 0.0

    with pytest.raises(ValueError, match="oracle 'picky' cannot handle case.*softplus"):
        compare(seed_case(), manualbp.gradients(seed_case()), oracles=[Refuses()])


def test_bad_candidates_and_arguments_are_clear_errors():
    case = seed_case()
    g = manualbp.gradients(case)
    short = Gradients(g.dW[:2], g.db[:2])
    with pytest.raises(ValueError, match="2 weight and 2 bias gradients; the case has 3 layers"):
        compare(case, short)
    wrong = Gradients((g.dW[0].T, *g.dW[1:]), g.db)
    with pytest.raises(ValueError, match=r"W\^\(1\) has shape \(3, 4\), W\^\(1\) has shape \(4, 3\)"):
        compare(case, wrong)
    with pytest.raises(TypeError, match="Gradients"):
        compare(case, [g.dW, g.db])
    with pytest.raises(ValueError, match="unknown oracle 'pytorch'"):
        compare(case, g, oracles=("pytorch",))
    with pytest.raises(ValueError, match="unknown oracle kind"):
        tolerances(case, "symbolic")


def test_nan_in_the_candidate_is_a_failure_at_that_entry():
    case = seed_case()
    g = manualbp.gradients(case)
    db = [np.array(b, copy=True) for b in g.db]
    db[1][2] = np.nan
    v = compare(case, Gradients(g.dW, tuple(db)))
    assert v.status == "fail"
    assert [(d.layer, d.param, d.entry) for d in v.discrepancies] == [(2, "b", (2,))]


def test_error_bound_covers_manualbp_against_an_extended_precision_reference():
    """The model's single-implementation bound E really bounds manualbp's rounding (both dtypes)."""
    from oracles.fd import reference_gradients

    for case in (seed_case(), seed_case("float32"), _batch_case(), _batch_case("float32")):
        eb = error_bound(case)
        ref = reference_gradients(case)
        got = manualbp.gradients(case)
        for E, r, g in zip((*eb.W, *eb.b), (*ref.dW, *ref.db), (*got.dW, *got.db)):
            err = np.abs(np.asarray(g, np.longdouble) - r)
            assert np.all(err <= E), (case.label, case.dtype, float((err / E).max()))


def test_tolerances_scale_with_the_dtype_and_stay_sharp():
    c64, c32 = _batch_case(), _batch_case("float32")
    t64, t32 = tolerances(c64, "autodiff"), tolerances(c32, "autodiff")
    ratio = t32.flat() / t64.flat()
    u_ratio = np.finfo(np.float32).eps / np.finfo(np.float64).eps
    assert np.all((ratio > 0.5 * u_ratio) & (ratio < 2 * u_ratio))
    g = np.abs(manualbp.gradients(c64).flat())
    big = g > 1e-6 * g.max()  # entries that are not rounding noise around an exact 0
    assert big.sum() > 0.8 * g.size
    assert np.all(t64.flat()[big] < 1e-11 * g[big])  # well below the 1e-6 errors the teeth tests plant
    fd = get_oracle("fd").gradients(c64)
    t_fd = tolerances(c64, "fd", fd=fd).flat()
    assert np.all(t_fd >= cmp.FD_TRUST * fd.errors().flat())


def test_verdict_rejects_unknown_status_and_discrepancy_describes_itself():
    with pytest.raises(ValueError, match="status 'maybe'"):
        Verdict("maybe", seed_case())
    d = Discrepancy(2, "W", (1, 0), 0.5, {"torch": 0.25}, 0.25, 1.0, 1e-12)
    assert "W^(2)[1, 0]" in d.describe() and "torch 0.25" in d.describe()


def test_projection_tolerance_includes_the_bound_projected_on_each_direction():
    """Given the error bound, the projection check allows C_AUTODIFF·Σ E_i|v_i| more (the per-entry FD
    tolerance projected on v), and the complex step's own error estimate is that bound in float64 units
    (no single-precision twin): correct float32 gradients through saturated units pass, a real error
    still fails."""
    from oracles import forward_eval as fe
    from oracles import projection as pr
    from oracles.projection import direction_matrix, projection_check
    from oracles.sweep_cases import random_case

    u64, u32 = np.finfo(np.float64).eps / 2, np.finfo(np.float32).eps / 2
    for seed, index in [(2, 333), (2, 1402)]:  # float32 cases whose candidate rounds beyond 64·eps·Σ|g_i v_i|
        case = random_case(seed, index)
        assert case.dtype == "float32"
        g, eb = manualbp.gradients(case), error_bound(case)
        plain, with_bound = projection_check(case, g), projection_check(case, g, bound=eb)
        assert with_bound.method == plain.method == "complex-step"
        V = direction_matrix(case, 2, 0)
        extra = cmp.C_AUTODIFF * (np.abs(V) @ eb.flat)
        fd_err = np.maximum(4 * u64 * np.abs(with_bound.reference), extra * (u64 / u32))
        np.testing.assert_allclose(with_bound.fd_error, fd_err, rtol=1e-12)
        eps_part = np.subtract(plain.tolerance, pr.SAFETY * np.array(plain.fd_error))  # 64·eps·Σ|g_i v_i|
        np.testing.assert_allclose(with_bound.tolerance, pr.SAFETY * fd_err + eps_part + extra, rtol=1e-12)
        assert with_bound.passed is True
        # an error of 3 tolerances along the first direction is still caught
        shift = 3 * max(with_bound.tolerance) * V[0]
        Ws, bs = fe.layer_views(case.arch, (g.flat().astype(np.float64) + shift)[None])
        wrong = Gradients(tuple(W[0].astype(np.float32) for W in Ws), tuple(b[0].astype(np.float32) for b in bs),
                          "wrong")
        assert projection_check(case, wrong, bound=eb).passed is False


def test_the_projected_bound_covers_the_complex_steps_rounding():
    """The projection takes C_AUTODIFF·(u₆₄/u)·Σ E_i|v_i| as the float64 complex step's error estimate: over
    random cases (float64 and float32, every activation) the actual error of the projection check's FD
    value against an extended-precision reference stays within it."""
    from oracles.fd import reference_gradients
    from oracles.projection import direction_matrix, projection_check
    from oracles.sweep_cases import random_cases

    worst, n = 0.0, 0
    for case in random_cases(9, 0, 250):
        eb = error_bound(case)
        res = projection_check(case, manualbp.gradients(case), bound=eb)
        if res.method != "complex-step":
            continue
        V = direction_matrix(case, 2, 0)
        exact = V.astype(np.longdouble) @ reference_gradients(case).flat().astype(np.longdouble)
        actual = np.abs(np.array(res.reference, np.longdouble) - exact).astype(float)
        estimate = np.array(res.fd_error)
        assert (actual <= estimate).all(), (case.label, actual, estimate)
        worst, n = max(worst, float((actual / np.maximum(estimate, 1e-300)).max())), n + 1
    assert n > 200 and worst < 0.5  # a margin, not a near miss


def test_projection_judges_a_gradient_that_cancels_to_zero():
    """A softmax over one output unit is constant: every gradient entry is 0 through cancelling terms.  Given the
    bound the projection judges it on the scale of those terms: True for the zeros, False for a small error."""
    from oracles.projection import projection_check

    rng = np.random.default_rng(5)
    case = Case.create([rng.normal(size=(4, 3)), rng.normal(size=(1, 4))], [rng.normal(size=4), rng.normal(size=1)],
                       rng.normal(size=(3, 2)), np.array([[0.3, 1.2]]), hidden="tanh", output="softmax",
                       cost="half_mse")
    g = manualbp.gradients(case)
    assert not any(np.any(a) for a in (*g.dW, *g.db))
    eb = error_bound(case)
    assert eb.scale_flat.max() > 0  # the terms themselves do not vanish
    assert projection_check(case, g, bound=eb).passed is True
    off = Gradients(g.dW, (g.db[0] + 1e-6, g.db[1]), "off")
    assert projection_check(case, off, bound=eb).passed is False


def test_projection_judges_a_dead_relu_network():
    """Every relu pre-activation negative: every gradient term is 0, the derivative along any direction is
    exactly 0, so the projection check can judge (True for zeros, False for anything else)."""
    from oracles.projection import projection_check

    rng = np.random.default_rng(3)
    case = Case.create([rng.uniform(0.1, 1, (4, 3)), rng.normal(size=(2, 4))], [-5 * np.ones(4), rng.normal(size=2)],
                       rng.uniform(0, 1, (3, 5)), rng.normal(size=(2, 5)), activations=["relu", "identity"],
                       cost="half_mse")
    g, eb = manualbp.gradients(case), error_bound(case)
    assert not g.dW[0].any() and not eb.kinks
    assert projection_check(case, g, bound=eb).passed is True
    off = Gradients((g.dW[0] + 1e-9, g.dW[1]), g.db, "off")
    assert projection_check(case, off, bound=eb).passed is False


def test_the_clear_pass_shortcut_builds_the_verdict_the_vote_would(monkeypatch):
    """compare() returns a clear pass without the vote; the Verdict is the one the full vote builds (status,
    notes, ratios and tolerances entry by entry), and cases that are not clear passes still get the vote."""
    from oracles.sweep_cases import random_cases

    cases = random_cases(4, 0, 80)
    cands = [manualbp.gradients(c) for c in cases]
    cands[3] = Gradients(tuple(dW * 1.001 for dW in cands[3].dW), cands[3].db, "scaled")  # not a clear pass
    shortcut = [compare(c, g) for c, g in zip(cases, cands)]
    for v in shortcut:  # a pass decided on the lower bound computes its ratios when read: before the patch
        assert len(v.error_ratio) == len(v.case.weights)
    monkeypatch.setattr(cmp, "_clear_ratios", lambda *a: None)
    full = [compare(c, g) for c, g in zip(cases, cands)]
    assert shortcut[3].status == full[3].status == "fail"
    assert sum(v.status == "pass" for v in full) > 60
    for a, b in zip(shortcut, full):
        assert (a.status, a.notes, len(a.discrepancies)) == (b.status, b.notes, len(b.discrepancies))
        for (rW, rb), (sW, sb) in zip(a.error_ratio, b.error_ratio, strict=True):
            np.testing.assert_array_equal(rW, sW)
            np.testing.assert_array_equal(rb, sb)
        assert a.tolerance.keys() == b.tolerance.keys()
        for n in a.tolerance:
            np.testing.assert_array_equal(a.tolerance[n].flat(), b.tolerance[n].flat())
            assert a.tolerance[n].source == b.tolerance[n].source


def test_rtol_widens_the_subjects_tolerance_by_its_scale_not_the_oracles_agreement():
    """A subject 1e-12 off (relative to each entry's scale) fails on rounding alone and passes with rtol 1e-10, in
    fast and full mode; 1e-8 off still fails at rtol 1e-10; the verdict carries rtol, and accepted_range widens by
    rtol × scale exactly."""
    case = seed_case()
    g = manualbp.gradients(case)
    scale = error_bound(case)
    off = lambda rel: Gradients(tuple(w + rel * s for w, s in zip(g.dW, scale.scale_W)),  # noqa: E731
                                tuple(b + rel * s for b, s in zip(g.db, scale.scale_b)), "off")
    for fast in (True, False):
        assert compare(case, off(1e-12), fast=fast).status == "fail"
        v = compare(case, off(1e-12), fast=fast, rtol=1e-10)
        assert v.status == "pass" and v.rtol == 1e-10 and any("rtol" in n for n in v.notes), str(v)
        assert compare(case, off(1e-8), fast=fast, rtol=1e-10).status == "fail"
    strict, loose = cmp.accepted_range(compare(case, g, fast=False)), cmp.accepted_range(
        compare(case, g, fast=False, rtol=1e-10))
    widened = (loose[1].flat() - loose[0].flat()) - (strict[1].flat() - strict[0].flat())
    np.testing.assert_allclose(widened, 2e-10 * scale.scale_flat, rtol=1e-6, atol=1e-16)
    for bad in (-1.0, float("nan"), float("inf"), True):
        with pytest.raises(ValueError, match="rtol"):
            compare(case, g, rtol=bad)


def test_gradients_near_underflow_are_not_an_oracle_disagreement():
    """A softmax output of e^-690 makes gradients of 1e-299: the complex step's imaginary parts underflow to
    subnormals and keep six digits, which its error estimate now says (thorough profile: 'oracle-disagreement'
    with FD off by 6e-7 relative against a tolerance of 5e-306; fails before)."""
    arch = manualbp.Architecture((3, 2, 2), ("relu", "softmax"), "softmax_ce", "float64")
    case = Case(arch, (np.array([[0.0, 0, 0], [0.25, 2, 1]]), np.array([[0.0, 46], [0, 0]])),
                (np.zeros(2), np.zeros(2)), np.array([32.0, 1, 5]), np.array([1.0, 0]))
    g = manualbp.gradients(case)
    assert 0 < abs(g.dW[1][1, 1]) < 1e-290
    v = compare(case, g, fast=False)
    assert v.status in ("pass", "non-differentiable", "inconclusive"), str(v)


def _scaled(case: Case, s: float) -> Case:
    """The case with every weight and bias times s (saturated units, large cancelling sums)."""
    return case.with_params([W * s for W in case.weights], [b * s for b in case.biases])


def test_the_lower_bound_never_exceeds_the_tolerance_model():
    """The fast mode decides most passes on _lower_bound (from the oracles' gradients alone): on random cases of
    every activation and cost, in float32 and float64, also with parameters scaled up 30x (saturation,
    cancellation), it is at most error_bound at every entry wherever _kink_free says the model finds no kink;
    and _kink_free is False wherever the model finds one."""
    from oracles.sweep_cases import random_cases

    torch = get_oracle("torch")
    checked = kinked = 0
    for case in random_cases(21, 0, 150):
        for c in (case, _scaled(case, 30.0), case.astype("float32" if case.dtype == "float64" else "float64")):
            eb = error_bound(c)
            free = cmp._kink_free(c)
            if eb.kinks:
                assert not free, c.arch
                kinked += 1
            if not free:
                continue
            refs = {"torch": torch.gradients(c).flat().astype(np.float64),
                    "manualbp": manualbp.gradients(c).flat().astype(np.float64)}
            low = cmp._lower_bound(c, refs)
            bad = np.flatnonzero(low.flat > eb.flat)
            assert bad.size == 0, (c.arch, bad, low.flat[bad], eb.flat[bad])
            assert low.kinks == () and low.unit_roundoff == eb.unit_roundoff
            checked += 1
    assert checked > 400


def test_kink_free_sees_a_relu_unit_at_its_kink():
    """A relu pre-activation that is exactly 0 (or within rounding of it) in one sample: the model lists the kink and
    _kink_free says so, in the first and in a later layer; moved clear of it, both find none."""
    W1, b1 = np.array([[1.0, -1.0], [0.5, 0.25]]), np.array([0.0, 0.1])
    W2, b2 = np.array([[1.0, 2.0], [-2.0, 1.0]]), np.array([0.3, -0.2])
    x, y = np.array([[0.3, 0.7], [0.3, 0.2]]), np.array([[0.1, 0.2], [0.3, 0.4]])
    for shift in (0.0, 1e-17):  # z^(2)_1 = 0.3 − 0.3 (+ shift): 0, or a rounding error away from it
        case = Case.create([W1, W2], [b1 + [shift, 0.0], b2], x, y, activations=["relu", "sigmoid"])
        assert error_bound(case).kinks and not cmp._kink_free(case)
    first = Case.create([W1, W2], [b1 + [0.5, 0.0], b2], x, y, activations=["sigmoid", "leaky_relu"])
    b2_kink = np.array([-(W2[0] @ manualbp.network.forward(first).a[2])[1], 0.0])  # z^(3)_1 ≈ 0 in sample 2
    case = Case.create([W1, W2], [b1 + [0.5, 0.0], b2_kink], x, y, activations=["sigmoid", "leaky_relu"])
    assert error_bound(case).kinks and not cmp._kink_free(case)
    clear = Case.create([W1, W2], [b1 + [0.5, 0.0], b2], x, y, activations=["relu", "leaky_relu"])
    assert not error_bound(clear).kinks and cmp._kink_free(clear)


def test_a_pass_on_the_lower_bound_reads_the_model_when_asked():
    """A fast-mode pass decided on the lower bound has no ratios computed until read; read, they are the model's
    (as compare with the bound given computes them), and at most 1."""
    case = seed_case()
    g = manualbp.gradients(case)
    quick = compare(case, g)
    assert quick.status == "pass" and quick._deferred is not None
    full = compare(case, g, bound=error_bound(case))
    assert full._deferred is None
    for (rW, rb), (sW, sb) in zip(quick.error_ratio, full.error_ratio, strict=True):
        np.testing.assert_array_equal(rW, sW)
        np.testing.assert_array_equal(rb, sb)
    assert quick._deferred is None and 0 < quick.max_error_ratio <= 1
    for n in full.tolerance:
        np.testing.assert_array_equal(quick.tolerance[n].flat(), full.tolerance[n].flat())
