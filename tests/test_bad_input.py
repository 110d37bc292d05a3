"""Every kind of bad input gets one clear error naming the layer, parameter, shape or valid names."""

from __future__ import annotations

import numpy as np
import pytest

from manualbp import Architecture, Case

W1, b1 = np.ones((4, 3)), np.ones(4)
W2, b2 = np.ones((2, 4)), np.ones(2)
x, y = np.ones(3), np.ones(2)


def make(**kw):
    args = dict(weights=[W1, W2], biases=[b1, b2], x=x, y=y)
    args.update(kw)
    return Case.create(args.pop("weights"), args.pop("biases"), args.pop("x"), args.pop("y"), **args)


@pytest.mark.parametrize(
    "kw, exc, pattern",
    [
        (dict(weights=[W1, np.ones((2, 5))]), ValueError, r"W\^\(2\) has shape \(2, 5\) but layer 2 has width 4"),
        (dict(biases=[b1, np.ones(3)]), ValueError, r"b\^\(2\) has shape \(3,\).*W\^\(2\) has shape \(2, 4\)"),
        (dict(biases=[np.ones((4, 1)), b2]), ValueError, r"b\^\(1\) has shape \(4, 1\).*must have shape \(4,\)"),
        (dict(x=np.ones(5)), ValueError, r"W\^\(1\) has shape \(4, 3\) but layer 1 has width 5"),
        (dict(y=np.ones(3)), ValueError, r"y has shape \(3,\); the output layer needs shape \(2,\)"),
        (dict(x=np.ones((3, 2)), y=np.ones(2)), ValueError, r"y has shape \(2,\); .* needs shape \(2, 2\)"),
        (dict(biases=[b1]), ValueError, r"2 weight matrices but 1 bias vectors"),
        (dict(weights=[], biases=[]), ValueError, r"empty network"),
        (dict(weights=[np.ones((0, 3)), np.ones((2, 0))], biases=[np.ones(0), b2]), ValueError, r"width 0"),
        (dict(x=np.ones(0), weights=[np.ones((4, 0)), W2]), ValueError, r"width 0"),
        (dict(weights=[W1, np.array([[1, 2, np.nan, 4], [1, 2, 3, 4.0]])]), ValueError,
         r"W\^\(2\) has a non-finite value nan at index \(0, 2\)"),
        (dict(biases=[np.array([1, np.inf, 1, 1.0]), b2]), ValueError,
         r"b\^\(1\) has a non-finite value inf at index \(1,\)"),
        (dict(x=np.array([1.0, -np.inf, 0])), ValueError, r"x has a non-finite value -inf"),
        (dict(y=np.array([np.nan, 0.0])), ValueError, r"y has a non-finite value nan"),
        (dict(hidden="relu6"), ValueError, r"unknown activation 'relu6'; valid names: identity, leaky_relu, relu"),
        (dict(cost="cross_entropy"), ValueError, r"unknown cost 'cross_entropy'; valid names: bce, half_mse"),
        (dict(weights=[W1.astype(int), W2]), TypeError, r"W\^\(1\) has integer dtype int64"),
        (dict(x=np.array(["a", "b", "c"])), TypeError, r"x has dtype <U1; expected float32 or float64"),
        (dict(x=np.array([1.0, None, 2.0], dtype=object)), TypeError, r"x has dtype object"),
        (dict(weights=[W1.astype(np.float16), W2]), TypeError, r"W\^\(1\) has dtype float16"),
        (dict(weights=[W1.astype(np.float32), W2]), TypeError, r"W\^\(2\) has dtype float64, but W\^\(1\) has float32"),
        (dict(dtype="float16"), TypeError, r"dtype 'float16' is not supported"),
        (dict(activations=["sigmoid"]), ValueError, r"3 layers need 2 activations \(layers 2..3\), got 1"),
        (dict(activations=["softmax", "sigmoid"]), ValueError,
         r"'softmax' is only allowed at the output layer, not layer 2"),
        (dict(cost="bce", output="identity"), ValueError, r"cost 'bce' needs a 'sigmoid' output layer, got 'identity'"),
        (dict(cost="softmax_ce"), ValueError, r"cost 'softmax_ce' needs a 'softmax' output layer"),
        (dict(weights=[np.ones((4, 3, 1)), W2]), ValueError, r"W\^\(1\) must be a matrix"),
        (dict(x=np.ones((3, 1, 1))), ValueError, r"x must be a vector \(n_1,\) or a batch \(n_1, B\)"),
    ],
)
def test_bad_input_has_a_clear_error(kw, exc, pattern):
    with pytest.raises(exc, match=pattern):
        make(**kw)


def test_integers_are_accepted_when_a_dtype_is_asked_for():
    case = make(weights=[W1.astype(int), W2.astype(int)], dtype="float32")
    assert case.dtype == "float32" and case.weights[0].dtype == np.float32


def test_case_arrays_are_frozen_copies():
    W = W1.copy()
    case = make(weights=[W, W2])
    W[0, 0] = 99.0
    assert case.weights[0][0, 0] == 1.0
    with pytest.raises(ValueError):
        case.weights[0][0, 0] = 5.0


@pytest.mark.parametrize(
    "widths, acts, pattern",
    [((3,), (), r"at least 2 layers"), ((3, 0), ("sigmoid",), r"layer 2 has width 0"),
     ((3, 2.5), ("sigmoid",), r"layer 2 has width 2.5"), ((3, True), ("sigmoid",), r"layer 2 has width True")],
)
def test_bad_architecture(widths, acts, pattern):
    with pytest.raises(ValueError, match=pattern):
        Architecture(widths, acts)


def test_from_arch_checks_the_arrays_against_the_architecture():
    arch = Architecture((3, 4, 2), ("tanh", "softmax"), "softmax_ce", "float32")
    case = Case.from_arch(arch, [W1, W2], [b1, b2], x, np.full(2, 0.5))
    assert case.arch == arch and case.weights[0].dtype == np.float32 and not case.x.flags.writeable
    with pytest.raises(ValueError, match=r"arrays give widths \(3, 4, 2\), architecture says \(3, 5, 2\)"):
        Case.from_arch(Architecture((3, 5, 2), ("tanh", "sigmoid")), [W1, W2], [b1, b2], x, y)
    with pytest.raises(ValueError, match=r"2 layers need 1 activations"):  # too few layers for the activations
        Case.from_arch(arch, [W1], [b1], x, np.ones(4))
    with pytest.raises(TypeError, match=r"W\^\(2\) has dtype complex128"):
        Case.from_arch(arch, [W1, W2.astype(complex)], [b1, b2], x, y)
