"""oracles.strategies: valid, well-conditioned, validated arguments, and failures that shrink."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument, NoSuchExample

import manualbp
from manualbp import Architecture, Case
from manualbp.activations import KINKED
from oracles import strategies as mst

_FIND = settings(max_examples=500, database=None, suppress_health_check=list(HealthCheck),
                 phases=[Phase.generate, Phase.shrink])


@given(mst.architectures(min_layers=3, max_layers=4, min_width=2, max_width=3,
                         activations=("tanh", "relu"), costs=("half_sse", "bce"), dtypes=("float32",)))
def test_architectures_respect_their_arguments(arch):
    assert isinstance(arch, Architecture)
    assert 3 <= arch.depth <= 4
    assert all(2 <= n <= 3 for n in arch.widths)
    assert set(arch.activations[:-1]) <= {"tanh", "relu"}
    assert arch.cost in ("half_sse", "bce")
    if arch.cost == "bce":
        assert arch.activations[-1] == "sigmoid"
    assert arch.dtype == "float32"


@given(mst.cases(architectures=mst.architectures(dtypes=("float32", "float64")), batch=(None, 1, 3)))
def test_default_cases_are_well_conditioned(case):
    assert isinstance(case, Case)
    assert case.x.dtype.name == case.dtype == case.weights[0].dtype.name
    assert case.x.ndim == 1 or case.x.shape[1] in (1, 3)
    fwd = manualbp.forward(case)
    for L, act in enumerate(case.arch.activations, start=2):
        z = np.abs(fwd.z[L])
        if act in ("sigmoid", "tanh", "softmax"):
            assert z.max() <= 4.0, (L, act, z.max())  # not saturated: FD is meaningful
        if act in KINKED:
            assert z.min() >= 0.125, (L, act, z.min())  # away from the kink
    y = case.y
    if case.arch.cost == "bce":
        assert np.all((y >= 0) & (y <= 1))
    if case.arch.cost == "softmax_ce":
        assert np.all(y >= 0)
        np.testing.assert_allclose(y.sum(axis=0), 1.0, rtol=1e-6)
    for arr in (*case.weights, *case.biases, case.x):  # simple dyadic numbers, exact in float32
        scaled = np.asarray(arr, np.float64) * 2.0**20
        assert np.all(scaled == np.round(scaled))


@given(mst.cases(extreme=True, architectures=mst.architectures(dtypes=("float64",))))
def test_extreme_cases_are_still_valid_cases(case):
    assert all(np.all(np.isfinite(W)) for W in case.weights)
    assert np.all(np.isfinite(case.x))


def test_extreme_mode_reaches_saturation_and_default_mode_does_not():
    def saturated(case):
        return any(np.abs(z).max() > 30 for z in manualbp.forward(case).z.values())

    found = find(mst.cases(extreme=True), saturated, settings=_FIND)
    assert saturated(found)
    with pytest.raises(NoSuchExample):
        find(mst.cases(), saturated, settings=settings(_FIND, max_examples=200, phases=[Phase.generate]))


def test_failures_shrink_to_small_networks_and_simple_numbers():
    deep = find(mst.cases(), lambda c: c.arch.depth >= 4, settings=_FIND)
    assert deep.arch.depth == 4 and deep.arch.widths == (1, 1, 1, 1)
    assert deep.x.ndim == 1 and deep.arch.dtype == "float64"
    nonzero = find(mst.cases(), lambda c: np.any(c.weights[0] != 0), settings=_FIND)
    assert nonzero.arch.widths == (1, 1)
    assert np.count_nonzero(nonzero.weights[0]) == 1
    assert abs(float(nonzero.weights[0][0, 0])) == 1 / 16
    big = find(mst.cases(), lambda c: c.x.ndim == 2 and c.x.shape[1] >= 2, settings=_FIND)
    assert big.x.shape == (1, 2)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_layers": 1}, "min_layers must be >= 2"),
        ({"min_layers": 4, "max_layers": 3}, "min_layers=4 must be <= max_layers=3"),
        ({"min_width": 0}, "min_width must be >= 1"),
        ({"max_width": 2.5}, "max_width must be an integer"),
        ({"activations": ("sigmoid", "swish")}, "unknown or disallowed entries"),
        ({"activations": ("softmax",)}, "unknown or disallowed entries"),
        ({"activations": "relu"}, "not the string 'relu'"),
        ({"costs": ()}, "costs must not be empty"),
        ({"dtypes": ("float16",)}, "dtypes has unknown"),
        ({"output_activations": ("relu",), "costs": ("bce", "softmax_ce")}, "bce needs 'sigmoid'"),
    ],
)
def test_architectures_validates_its_arguments(kwargs, message):
    with pytest.raises(InvalidArgument, match=message):
        mst.architectures(**kwargs)


def test_cases_and_parts_validate_their_arguments():
    arch = Architecture((2, 3), ("sigmoid",))
    with pytest.raises(InvalidArgument, match="batch must be a sequence"):
        mst.cases(batch=3)
    with pytest.raises(InvalidArgument, match="batch must be >= 1"):
        mst.cases(batch=(None, 0))
    with pytest.raises(InvalidArgument, match="extreme must be a bool"):
        mst.cases(extreme="yes")
    with pytest.raises(InvalidArgument, match="SearchStrategy"):
        mst.cases(architectures=arch)
    with pytest.raises(InvalidArgument, match="input layer has width 2"):
        mst.parameters(arch, np.zeros(3))
    with pytest.raises(InvalidArgument, match="kink_margin"):
        mst.parameters(arch, np.zeros(2), kink_margin=-1)
    with pytest.raises(InvalidArgument, match="manualbp.Architecture"):
        mst.targets((2, 3))


@given(st.data())
def test_parts_compose_into_a_case(data):
    arch = data.draw(mst.architectures(max_layers=3, costs=("softmax_ce",)))
    x = data.draw(mst.inputs(arch, batch=2))
    y = data.draw(mst.targets(arch, batch=2))
    Ws, bs = data.draw(mst.parameters(arch, x))
    case = Case.from_arch(arch, Ws, bs, x, y)
    assert case.x.shape == (arch.widths[0], 2) and case.y.shape == (arch.widths[-1], 2)
    assert arch.activations[-1] == "softmax"


def test_profiles_are_chosen_by_environment_and_validated(monkeypatch):
    from hypothesis import settings as hsettings

    from oracles import profiles

    before = hsettings.get_current_profile_name()
    try:
        monkeypatch.setenv(profiles.ENV_VAR, "thorough")
        assert profiles.load_profile() == "thorough"
        assert hsettings.default.max_examples >= 2000 and hsettings.default.deadline is None
        monkeypatch.delenv(profiles.ENV_VAR)
        assert profiles.load_profile() == "ci"
        assert hsettings.default.derandomize and hsettings.default.max_examples <= 40
        assert profiles.load_profile("dev") == "dev"
        monkeypatch.setenv(profiles.ENV_VAR, "fastest")
        with pytest.raises(ValueError, match=f"unknown Hypothesis profile 'fastest' .*{profiles.ENV_VAR}"):
            profiles.load_profile()
    finally:
        hsettings.load_profile(before)


# -- edge cases ------------------------------------------------------------------------------------------------

_EDGE_ARCHS = mst.architectures(max_layers=4, max_width=3, dtypes=("float32", "float64"))
_EDGE_FIND = settings(_FIND, max_examples=150)


def _kinks(case) -> int:
    """Pre-activations of relu/leaky_relu units exactly 0, from an independent forward pass in the case's dtype."""
    a, n = case.x if case.x.ndim == 2 else case.x[:, None], 0
    for W, b, act in zip(case.weights, case.biases, case.arch.activations):
        z = W @ a + b[:, None]
        if act in KINKED:
            n += int(np.count_nonzero(z == 0))
        a = manualbp.get_activation(act).f(z)
    return n


def _saturated(case) -> bool:
    """A sigmoid or tanh unit whose output is exactly 1 (z far beyond the well-conditioned |z| <= 4)."""
    fwd = manualbp.forward(case)
    return any(act in ("sigmoid", "tanh") and np.any(fwd.a[L] == 1.0)
               for L, act in enumerate(case.arch.activations, start=2))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_edge_cases_put_relu_units_exactly_on_the_kink(dtype):
    archs = mst.architectures(activations=("relu",), output_activations=("identity",), costs=("half_sse",),
                              dtypes=(dtype,))
    found = find(mst.cases(architectures=archs, edge=True), lambda c: _kinks(c) > 0, settings=_FIND)
    assert found.label == mst.EDGE_LABEL and found.dtype == dtype
    assert found.arch.widths == (1, 1, 1)  # shrunk to one kinked unit
    with pytest.raises(NoSuchExample):  # never in the default, well-conditioned mode
        find(mst.cases(architectures=archs), lambda c: _kinks(c) > 0,
             settings=settings(_FIND, max_examples=200, phases=[Phase.generate]))


@given(mst.cases(architectures=mst.architectures(activations=("relu", "leaky_relu", "sigmoid"), max_width=4,
                                                dtypes=("float32", "float64")), batch=(None, 2), edge=True))
def test_edge_kinks_are_exact_in_any_summation_order(case):
    """Where numpy's forward pass puts z exactly on 0, exact rational arithmetic on the same values does too:
    a subject that sums in another order (or with fused multiply-adds) sees the same kink and the same a."""
    from fractions import Fraction

    a = case.x if case.x.ndim == 2 else case.x[:, None]
    for W, b, act in zip(case.weights, case.biases, case.arch.activations):
        z = W @ a + b[:, None]
        if act in KINKED:
            for i, j in np.argwhere(z == 0):
                exact = sum(Fraction(float(w)) * Fraction(float(v)) for w, v in zip(W[i], a[:, j]))
                assert exact + Fraction(float(b[i])) == 0, (i, j)
        a = manualbp.get_activation(act).f(z)


def test_edge_cases_saturate_units_and_reach_extreme_magnitudes():
    assert _saturated(find(mst.cases(architectures=_EDGE_ARCHS, edge=True), _saturated, settings=_FIND))
    huge = find(mst.cases(architectures=_EDGE_ARCHS, edge=True), lambda c: np.abs(c.x).max() >= 2.0**20,
                settings=_FIND)
    tiny = find(mst.cases(architectures=_EDGE_ARCHS, edge=True), lambda c: 0 < np.abs(c.x).max() <= 2.0**-20,
                settings=_FIND)
    assert np.abs(huge.x).max() == 2.0**mst.MAGNITUDE * np.abs(tiny.x).max() * 2.0**mst.MAGNITUDE


@given(mst.cases(architectures=_EDGE_ARCHS, batch=(None, 3), edge=True))
def test_edge_cases_stay_where_the_derivation_is_finite(case):
    """No |z| reaches exp's overflow (e^88.7 in float32), softplus is never pushed past the usual bound times
    the saturation shift, and every value is still exact on a dyadic grid (z = 0 exactly where it is put)."""
    fwd = manualbp.forward(case)
    for L, act in enumerate(case.arch.activations, start=2):
        z = np.abs(fwd.z[L])
        if act not in mst.HOMOGENEOUS:
            assert z.max() <= 16 + mst.SATURATION, (act, z.max())
        assert np.all(np.isfinite(fwd.a[L]))
    assert np.isfinite(fwd.cost) or case.arch.cost in ("bce", "softmax_ce")  # log(0) of a saturated output


def test_edge_cases_are_described():
    from oracles.edges import edge_features

    archs = mst.architectures(activations=("relu",), output_activations=("sigmoid",), costs=("bce",))
    found = find(mst.cases(architectures=archs, edge=True),
                 lambda c: _kinks(c) > 0 and _saturated(c) and np.abs(c.x).max() >= 2.0**20,
                 settings=settings(_FIND, phases=[Phase.generate]))
    text = "; ".join(edge_features(found))
    assert "= 0 exactly (relu's kink)" in text and "saturated" in text and "huge inputs" in text
    assert edge_features(find(mst.cases(), lambda c: True, settings=_FIND)) == []


def test_edge_mode_validates_its_arguments():
    with pytest.raises(InvalidArgument, match="edge must be a bool"):
        mst.cases(edge=1)
    with pytest.raises(InvalidArgument, match="edge and extreme"):
        mst.cases(edge=True, extreme=True)
    with pytest.raises(InvalidArgument, match="power of 2"):
        mst.parameters(Architecture((2, 3), ("relu",)), np.zeros(2), magnitude=3.0)
