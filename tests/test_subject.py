"""Subjects: loading by spec, declarations, and the layout adapters (round trips against manualbp)."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

import manualbp
from manualbp import Case
from oracles.subject import (
    Subject,
    SubjectLoadError,
    SubjectOutputError,
    SubjectSignatureError,
    as_subject,
    load_callable,
)


def _case(widths=(3, 4, 2), batch=None, seed=0, dtype="float64", **arch) -> Case:
    rng = np.random.default_rng(seed)
    tail = () if batch is None else (batch,)
    Ws = [rng.normal(size=(k, m)) for m, k in zip(widths[:-1], widths[1:])]
    bs = [rng.normal(size=k) for k in widths[1:]]
    return Case.create(Ws, bs, rng.normal(size=(widths[0], *tail)), rng.uniform(size=(widths[-1], *tail)),
                       dtype=dtype, **arch)


def _noop(weights, biases, x, y):
    return None


# -- loading ---------------------------------------------------------------------------------------------------

def test_load_from_file_path(tmp_path):
    (tmp_path / "helper_mod.py").write_text("def twice(v):\n    return 2 * v\n")
    f = tmp_path / "student.py"
    f.write_text("from helper_mod import twice\n\ndef backprop(w, b, x, y):\n    return twice(1)\n"
                 "class Net:\n    @staticmethod\n    def grads(w, b, x, y):\n        return 3\n")
    assert load_callable(f"{f}:backprop")(0, 0, 0, 0) == 2  # the file can import its neighbours
    assert load_callable(f"{f}:Net.grads")(0, 0, 0, 0) == 3
    sub = as_subject(f"{f}:backprop")
    assert sub.spec == f"{f}:backprop" and sub.name == f"{f}:backprop"


def test_load_from_module():
    assert load_callable("manualbp.network:gradients") is manualbp.gradients


@pytest.mark.parametrize("spec, exc, words", [
    ("no_colon_here", SubjectLoadError, "path/to/file.py:function"),
    ("missing_file.py:f", FileNotFoundError, "does not exist"),
    ("manualbp.network:nope", SubjectLoadError, "no attribute .nope.; callables there: .*backward"),
    ("manualbp.network:__doc__", SubjectLoadError, "not a function"),
    ("no_such_package_xyz.mod:f", SubjectLoadError, "cannot import module"),
])
def test_load_errors_say_what_is_wrong(spec, exc, words):
    with pytest.raises(exc, match=words):
        load_callable(spec)


CLASS_STUDENT = textwrap.dedent("""
    class MLP:
        def __init__(self, weights, biases):
            self.W, self.b = weights, biases

        def backward(self, x, y):
            return [0 * W for W in self.W], [0 * b for b in self.b]

    def backprop(weights, biases, x, y):
        return MLP(weights, biases).backward(x, y)

    def helper(z):
        return z
""")


def test_a_class_is_refused_with_the_expected_signature(tmp_path):
    f = tmp_path / "class_student.py"
    f.write_text(CLASS_STUDENT)
    with pytest.raises(SubjectSignatureError) as info:
        as_subject(f"{f}:MLP")
    msg = str(info.value)
    assert "MLP is a class" in msg and "(weights, biases)" in msg  # what was found
    assert "f(weights, biases, x, y) -> (dW, db)" in msg  # what is expected
    assert f"{f}:backprop" in msg and "helper" not in msg  # the file's functions that fit
    assert as_subject(f"{f}:backprop").func.__name__ == "backprop"


@pytest.mark.parametrize("func, layout, words", [
    (lambda w, b, x: None, "standard", r"<lambda>\(w, b, x\) cannot be called with 4 positional arguments"),
    (lambda theta, sizes, x, y, extra: None, "flat", r"f\(theta, sizes, x, y\) -> grad"),
])
def test_signature_mismatch_names_the_found_and_expected_signatures(func, layout, words):
    with pytest.raises(SubjectSignatureError, match=words):
        Subject(func, layout=layout)


@pytest.mark.parametrize("func", [lambda *args: None, lambda w, b, x, y, lr=0.1: None, print])
def test_compatible_or_unknowable_signatures_are_accepted(func):
    Subject(func)


def test_load_error_from_a_broken_file(tmp_path):
    f = tmp_path / "broken.py"
    f.write_text("def backprop(:\n")
    with pytest.raises(SubjectLoadError, match="SyntaxError"):
        load_callable(f"{f}:backprop")
    assert issubclass(SubjectLoadError, ValueError)  # the CLI turns it into exit code 2


# -- declarations ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kw, exc, words", [
    ({"hidden": "swish"}, ValueError, "unknown activation 'swish'"),
    ({"hidden": "softmax"}, ValueError, "only allowed at the output"),
    ({"cost": "bce", "output": "tanh"}, ValueError, "needs a 'sigmoid' output"),
    ({"cost": "l1"}, ValueError, "unknown cost"),
    ({"scale": 0}, ValueError, "non-zero"),
    ({"scale": float("nan")}, ValueError, "finite"),
    ({"scale": "2"}, TypeError, "number"),
    ({"layout": "rows"}, ValueError, "unknown layout"),
    ({"batch": "depth"}, ValueError, "batch layout"),
    ({"reduction": "max"}, ValueError, "reduction"),
    ({"returns": "W,b"}, ValueError, "returns"),
    ({"dtype": "float16"}, TypeError, "float16"),
])
def test_bad_declarations(kw, exc, words):
    with pytest.raises(exc, match=words):
        Subject(_noop, **kw)


def test_not_callable():
    with pytest.raises(TypeError, match="callable"):
        Subject(42)


def test_check_case_rejects_a_case_of_another_architecture():
    sub = Subject(_noop, hidden="tanh", output="identity", cost="mse")
    sub.check_case(_case(hidden="tanh", output="identity", cost="mse"))
    with pytest.raises(ValueError, match="does not match"):
        sub.check_case(_case(hidden="sigmoid", cost="mse"))
    with pytest.raises(ValueError, match="batched"):
        sub.check_case(_case(batch=2, hidden="tanh", output="identity", cost="mse"))


# -- adapters --------------------------------------------------------------------------------------------------

LAYOUT_CASES = [
    ("standard", None), ("columns", None), ("xw", None), ("flat", None),
    ("standard", "columns"), ("columns", "columns"), ("xw", "rows"), ("flat", "rows"),
]


@pytest.mark.parametrize("layout, batch", LAYOUT_CASES)
@pytest.mark.parametrize("returns", ["dW,db", "db,dW"])
def test_round_trip_through_every_layout(layout, batch, returns):
    case = _case(batch=None if batch is None else 3, seed=1)
    sub = Subject(_noop, layout=layout, batch=batch, returns=returns, scale=0.5, reduction="sum")
    g = manualbp.gradients(case)
    back = sub.decode(sub.to_layout(g, case), case)
    for (_, _, a), (_, _, b) in zip(g.items(), back.items()):
        np.testing.assert_allclose(b, a, rtol=1e-15)


def test_inputs_have_the_promised_shapes_and_are_fresh_copies():
    case = _case(widths=(3, 4, 2))
    W, b, x, y = Subject(_noop, layout="columns").inputs(case)
    assert [w.shape for w in W] == [(4, 3), (2, 4)] and [v.shape for v in b] == [(4, 1), (2, 1)]
    assert x.shape == (3, 1) and y.shape == (2, 1)
    W, b, x, y = Subject(_noop, layout="xw").inputs(case)
    assert [w.shape for w in W] == [(3, 4), (4, 2)]
    np.testing.assert_array_equal(W[0], case.weights[0].T)
    assert all(w.flags.writeable for w in W) and not np.shares_memory(W[0], case.weights[0])
    theta, sizes, x, y = Subject(_noop, layout="flat").inputs(case)
    assert sizes == [3, 4, 2] and theta.shape == (case.arch.n_params,)
    np.testing.assert_array_equal(theta[:12], case.weights[0].ravel())
    np.testing.assert_array_equal(theta[12:16], case.biases[0])
    bcase = _case(batch=5)
    _, _, x, y = Subject(_noop, batch="rows").inputs(bcase)
    assert x.shape == (5, 3) and y.shape == (5, 2)


def test_nielsen_style_subject_written_independently():
    """A column-vector subject (written here, not through manualbp) decodes to manualbp's gradients."""
    def nielsen(weights, biases, x, y):
        acts, zs = [x], []
        for W, b in zip(weights, biases):
            zs.append(W @ acts[-1] + b)
            acts.append(1 / (1 + np.exp(-zs[-1])))
        delta = (acts[-1] - y) * acts[-1] * (1 - acts[-1])
        nb, nw = [delta], [delta @ acts[-2].T]
        for l in range(2, len(weights) + 1):
            s = acts[-l] * (1 - acts[-l])
            delta = (weights[-l + 1].T @ delta) * s
            nb.insert(0, delta)
            nw.insert(0, delta @ acts[-l - 1].T)
        return nb, nw

    case = _case(cost="half_sse")
    sub = Subject(nielsen, layout="columns", returns="db,dW")
    got = sub.decode(nielsen(*sub.inputs(case)), case)
    np.testing.assert_allclose(got.flat(), manualbp.gradients(case).flat(), rtol=1e-12)


def test_scale_and_sum_reduction_convert_to_manualbp_convention():
    """¼·Σ_b Σ_k (a − y)² summed over a batch is half_sse × 0.5 with reduction 'sum'."""
    case = _case(batch=4, cost="half_sse", hidden="identity")

    def quarter_sum(weights, biases, x, y):
        W, b = weights[0], biases[0]
        # two linear layers, C = 0.25 Σ_b Σ_k (a − y)²: dC/da = 0.5 (a − y), summed over the batch
        hid = W @ x + b[:, None]
        g = 0.5 * (weights[1] @ hid + biases[1][:, None] - y)
        back = weights[1].T @ g
        return [back @ x.T, g @ hid.T], [back.sum(axis=1), g.sum(axis=1)]

    sub = Subject(quarter_sum, hidden="identity", cost="half_sse", scale=0.5, batch="columns", reduction="sum")
    got = sub.decode(quarter_sum(*sub.inputs(case)), case)
    np.testing.assert_allclose(got.flat(), manualbp.gradients(case).flat(), rtol=1e-12)


@pytest.mark.parametrize("ret, kind, words", [
    (None, "none", "returned None"),
    ("gradients", "type", "str"),
    (np.zeros(3), "type", "ndarray"),
    (([np.zeros((4, 3))], [np.zeros(4), np.zeros(2)]), "shape", "1 entries"),
    (([np.zeros((3, 4)), np.zeros((2, 4))], [np.zeros(4), np.zeros(2)]), "shape", r"\(transposed\?\)"),
    (([np.zeros((4, 3)), np.zeros((2, 4))], [np.zeros(4), np.zeros((2, 1))]), "shape", r"db\[1\]"),
    (([np.zeros((4, 3)), [[1, 2], [3]]], [np.zeros(4), np.zeros(2)]), "type", "not an array"),
    (([np.zeros((4, 3)), np.zeros((2, 4))], None), "none", "db is None"),
    (([np.zeros((4, 3)), np.array([["a"] * 4] * 2)], [np.zeros(4), np.zeros(2)]), "type", "dtype"),
])
def test_decode_errors_name_the_problem(ret, kind, words):
    case = _case(widths=(3, 4, 2))
    with pytest.raises(SubjectOutputError, match=words) as info:
        Subject(_noop).decode(ret, case)
    assert info.value.kind == kind


def test_flat_decode_error_names_the_expected_length():
    case = _case(widths=(3, 4, 2))
    with pytest.raises(SubjectOutputError, match=r"expected \(26,\)"):
        Subject(_noop, layout="flat").decode(np.zeros(25), case)


def test_import_lines_rebuild_the_subject(tmp_path):
    f = tmp_path / "stud.py"
    f.write_text(textwrap.dedent("""
        class Net:
            @staticmethod
            def backprop(w, b, x, y):
                return 'found'
    """))
    for spec in (f"{f}:Net.backprop", "tests.test_subject:_noop"):
        sub = as_subject(spec)
        ns: dict = {}
        exec("\n".join(sub.import_lines()), ns)
        assert ns[sub.func_name()] is not None
    ns = {}
    sub = as_subject(_noop)  # a subject has the four arguments of its layout (manualbp.backward has not)
    exec("\n".join(sub.import_lines()), ns)
    assert ns["_noop"] is _noop
