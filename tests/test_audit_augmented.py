"""Biases folded into the weights (W^{(l)} = [W b] on â = [a; 1], or [b W] on [1; a]) are read as the document
defines them: its equations are checked, its worked example's matrices split into weights and biases, and its
planted errors found as in the ordinary notation.

The fixtures under tests/data/audit_augmented/ are written by make_fixtures.py; the expected values here are
recomputed with plain numpy from the fixtures' parameters.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from manualbp import Case, forward
from manualbp.example import seed_case
from oracles.audit import _Auditor, audit_file, audit_text
from oracles.audit.augmented import FIRST, LAST, Augmentation, read_augmentation
from oracles.audit.extract import extract
from oracles.audit.latex import parse_expr, structure
from oracles.audit.markdown import split_markdown
from oracles.audit.model import Model, find_bindings
from oracles.audit.semantics import Convention, Env, EvalError, Instance, evaluate
from tests.fixture_module import load_generator
from tests.test_audit_fuzz import _check, mutated

DATA = Path(__file__).resolve().parent / "data" / "audit_augmented"
fx = load_generator(DATA)

# the line each planted error is on, as a fragment of it (the same fragment in every notation)
PLANTED_LINES = {fx.WRONG_LAYER: r"$$\delta^{(2)} = ", fx.MISSING_FACTOR: r"$$\delta^{(1)} = ",
                 fx.TRANSPOSED: r"\partial W^{(l)}} = ", fx.WRONG_NUMBER: r"$$\delta^{(3)} = \begin{bmatrix}"}


def _errors(report) -> list:
    return [f for f in report.findings if f.severity == "error"]


def _line_of(text: str, needle: str) -> int:
    return next(i for i, ln in enumerate(text.splitlines(), start=1) if needle in ln)


def _planted(bias: str) -> dict:
    """Planted error -> the error findings on its line."""
    path = DATA / f"{bias}_planted.md"
    text = path.read_text(encoding="utf-8")
    found = _errors(audit_file(path))
    return {p: [f for f in found if f.where.line == _line_of(text, frag)] for p, frag in PLANTED_LINES.items()}


def test_fixtures_are_current():
    for name, make in fx.FIXTURES.items():
        assert (DATA / name).read_text(encoding="utf-8") == make(), f"regenerate {name} (make_fixtures.py)"


@pytest.mark.parametrize("bias", ["last", "first"])
def test_a_correct_folded_bias_derivation_is_evaluated_without_errors(bias):
    """Fails before: 'b^(1) is not given in the worked example' and a coverage error."""
    path = DATA / f"{bias}_correct.md"
    report = audit_file(path)
    assert [(f.where.line, f.kind, f.message) for f in _errors(report)] == []
    section = report.sections["audit"]
    cov = section["coverage"]
    assert cov["worked_example_read"]
    assert cov["evaluated"] >= cov["checkable"] / 2 and cov["evaluated"] == cov["checkable"]
    text = path.read_text(encoding="utf-8")
    stated = len(re.findall(r"= (?:\(|\\begin\{bmatrix\} )?-?\d+\.\d{4}", text[text.index("Forward:"):]))
    assert cov["numbers_checked"] == stated
    assert section["network"]["widths"] == [2, 3, 3, 2]


@pytest.mark.parametrize("bias", ["last", "first"])
def test_the_worked_examples_matrices_split_into_weights_and_biases(bias):
    auditor = _Auditor((DATA / f"{bias}_correct.md").read_text(encoding="utf-8"), bias)
    auditor.run()
    case = auditor.model.worked.case
    for k in range(3):
        np.testing.assert_allclose(case.weights[k], fx.NET["W"][k])
        np.testing.assert_allclose(case.biases[k], fx.NET["b"][k])
    assert auditor.model.conv.augmented.position == {"last": LAST, "first": FIRST}[bias]


@pytest.mark.parametrize("bias", ["last", "first"])
def test_planted_errors_are_found_on_their_lines_with_the_fixes_of_the_ordinary_notation(bias):
    got, plain = _planted(bias), _planted("plain")
    assert all(got.values()), {p: [(f.kind, f.message) for f in fs] for p, fs in got.items()}
    assert sum(len(fs) for fs in got.values()) == len(_errors(audit_file(DATA / f"{bias}_planted.md")))
    for p in PLANTED_LINES:  # a fix wherever the ordinary notation gets one for the same error
        assert any(f.fix for f in got[p]) == any(f.fix for f in plain[p]), p
    weights = {"last": r"\tilde{W}", "first": r"\hat{W}"}[bias]
    assert [f.fix for f in got[fx.WRONG_LAYER]] == [weights + "^{(3)}"]
    assert got[fx.MISSING_FACTOR][0].kind == "missing-term"
    assert r"\sigma'\left(z^{(1)}\right)" in got[fx.MISSING_FACTOR][0].fix
    d3 = fx.values()["d"][3][0]
    assert [(f.kind, float(f.fix)) for f in got[fx.WRONG_NUMBER]] == [("arithmetic", pytest.approx(d3, abs=5e-5))]


def _value(latex: str, env: Env) -> np.ndarray:
    items, problems = structure(latex)
    return np.real(evaluate(parse_expr(items, problems, latex), env))


def test_the_gradient_of_an_augmented_matrix_is_the_weights_and_the_bias_gradient_side_by_side():
    v = fx.values()
    case = Case.create(fx.NET["W"], fx.NET["b"], fx.NET["x"], fx.NET["y"], hidden="sigmoid", cost="half_sse")
    sides = ((LAST, lambda W, b: np.hstack([W, b[:, None]])), (FIRST, lambda W, b: np.hstack([b[:, None], W])))
    for pos, stack in sides:
        env = Env(Instance(case), Convention(0, 1, "z", augmented=Augmentation(pos)), cost="half_sse")
        for k in (1, 2, 3):
            grad = _value(rf"\frac{{\partial C}}{{\partial W^{{({k})}}}}", env)
            np.testing.assert_allclose(grad, stack(v["dW"][k], v["db"][k]), atol=1e-10)
            entry = _value(rf"\frac{{\partial C}}{{\partial W^{{({k})}}_{{12}}}}", env)
            np.testing.assert_allclose(entry, stack(v["dW"][k], v["db"][k])[0, 1], atol=1e-10)
            np.testing.assert_allclose(_value(rf"W^{{({k})}}", env), stack(fx.NET["W"][k - 1], fx.NET["b"][k - 1]))
            np.testing.assert_allclose(_value(rf"\bar{{W}}^{{({k})}}", env), fx.NET["W"][k - 1])
        np.testing.assert_allclose(_value(r"\tilde{a}^{(1)}", env), stack(v["a"][1][None, :], np.ones(1))[0])
        np.testing.assert_allclose(_value(r"\hat{x}", env), stack(fx.NET["x"][None, :], np.ones(1))[0])


def _reading(text: str):
    eqs = extract(split_markdown(text)).equations
    model = Model()
    find_bindings(model, eqs)
    return read_augmentation(eqs, text, model.bindings)


FORWARD = "\n\n$$z^{(l)} = W^{(l)} \\tilde{a}^{(l-1)}$$\n"


@pytest.mark.parametrize("text, position", [
    (r"Let $\hat{x} = (1, x)$ and $$z = W \hat{x}$$", FIRST),
    (r"$$\tilde{a}^{(l)} = \begin{bmatrix} a^{(l)} \\ 1 \end{bmatrix}$$" + FORWARD, LAST),
    ("We append a 1 to each layer's input." + FORWARD, LAST),
    ("A constant one is prepended to every input." + FORWARD, FIRST),
    ("The bias sits in the first column of each weight matrix; the input is augmented." + FORWARD, FIRST),
    (r"The inputs carry $x_0 = 1$. $$z_j = \sum_{k=0}^{2} w_{jk} x_k$$", FIRST),
    (r"$$\tilde{W}^{(l)} = \begin{bmatrix} W^{(l)} & b^{(l)} \end{bmatrix}$$" + FORWARD, LAST),
])
def test_where_the_bias_column_is_comes_from_the_document(text, position):
    got = _reading(text)
    assert got.augmentation is not None and got.augmentation.position == position and got.problem is None


@pytest.mark.parametrize("text", [
    "We append a 1 to the list of results. $$z^{(l)} = W^{(l)} a^{(l-1)} + b^{(l)}$$",
    r"The worked example has $x_0 = 1$, $x_1 = 2$. $$z_j = \sum_k w_{jk} x_k + b_j$$",
    r"$$z^{(l)} = W^{(l)} \tilde{a}^{(l-1)} + b^{(l)}$$",
])
def test_an_ordinary_derivation_is_not_read_as_folded(text):
    assert _reading(text).augmentation is None


def test_a_bias_column_the_document_does_not_place_is_a_clear_not_evaluable_finding():
    """W has one column more than its input and no b is given, but nothing says which column is the bias."""
    text = (DATA / "last_correct.md").read_text(encoding="utf-8")
    start, end = text.index("Every layer's input"), text.index("The network\nis 2-3-3-2")
    text = text[:start] + text[end:]
    text = text.replace("with its last (bias) column deleted", "restricted to the weights")
    text = text.replace("and its last column, $\\delta^{(l)}$ itself, is the gradient of the biases.", "")
    assert "last" not in text and "append" not in text
    report = audit_text(text, "undecided")
    told = [f for f in report.findings if "first or the last column" in f.message]
    assert len(told) == 1 and told[0].kind == "not-evaluable"
    assert told[0].where.line == _line_of(text, "$$W^{(1)} = ")
    assert not [f for f in _errors(report) if f.kind not in ("coverage",)]
    assert not [f for f in report.findings if "b^{(1)} is not given" in f.message]


@pytest.mark.parametrize("bias", ["last", "first", "plain"])
def test_a_gradient_computed_from_the_documents_own_rounded_delta_is_a_rounding(bias):
    """δ^{(3)} stated to 2 decimals and ∂C/∂W^{(3)} computed from it: rounding drift (info), as in the ordinary
    notation, not an arithmetic error (fails before for the folded notations)."""
    v = fx.values()
    rounded = np.round(v["d"][3], 2)
    text = (DATA / f"{bias}_correct.md").read_text(encoding="utf-8")
    text = text.replace(fx.col(v["d"][3]), r"\begin{bmatrix} " + r" \\ ".join(f"{x:.2f}" for x in rounded)
                        + r" \end{bmatrix}")
    if bias == "plain":
        exact, drifted = v["dW"][3], np.outer(rounded, v["a"][2])
    else:
        exact = fx.folded(v["dW"][3], v["db"][3], bias)
        drifted = fx.folded(np.outer(rounded, v["a"][2]), rounded, bias)
    assert fx.mat(exact, "bmatrix") in text
    text = text.replace(fx.mat(exact, "bmatrix"), fx.mat(drifted, "bmatrix"))
    report = audit_text(text, bias)
    line = _line_of(text, r"\partial W^{(3)}} = \begin")
    assert _errors(report) == []
    off = np.sum(np.abs(np.round(drifted, 4) - np.round(exact, 4)) > 0.5e-4 + 1e-12)
    assert [f.kind for f in report.findings if f.where.line == line] == ["rounding"] * off


def test_a_unit_zero_that_is_always_on_is_the_first_column_counted_from_zero():
    """x_0 = 1, w^{(l)}_{j0} the bias, sums from 0: entry by entry (fails before: 'index i out of range')."""
    path = DATA / "unit_zero_correct.md"
    report = audit_file(path)
    assert [(f.where.line, f.kind, f.message) for f in _errors(report)] == []
    cov = report.sections["audit"]["coverage"]
    assert cov["worked_example_read"] and cov["evaluated"] == cov["checkable"] > 10
    auditor = _Auditor(path.read_text(encoding="utf-8"), "unit zero")
    auditor.run()
    aug = auditor.model.conv.augmented
    assert aug.position == FIRST and aug.zero_based
    for k in range(3):
        np.testing.assert_allclose(auditor.model.worked.case.biases[k], fx.NET["b"][k])


def test_planted_errors_in_unit_zero_notation_are_found_with_fixes():
    path = DATA / "unit_zero_planted.md"
    text = path.read_text(encoding="utf-8")
    found = _errors(audit_file(path))
    lines = {fx.MISSING_FACTOR: r"$$\delta^{(3)}_j = ", fx.WRONG_LAYER: r"$$\delta^{(l)}_j = ",
             fx.TRANSPOSED: r"\partial w^{(l)}_{ji}} = ", fx.WRONG_NUMBER: r"Backward: $\delta^{(3)}_1"}
    on = {p: [f for f in found if f.where.line == _line_of(text, frag)] for p, frag in lines.items()}
    assert all(on.values()) and sum(map(len, on.values())) == len(found), [(f.where.line, f.kind) for f in found]
    assert all(f.fix for fs in on.values() for f in fs)
    assert [f.fix for f in on[fx.WRONG_LAYER]] == ["w^{(l+1)}_{kj}"]
    assert float(on[fx.WRONG_NUMBER][0].fix) == pytest.approx(fx.values()["d"][3][0], abs=5e-5)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(docs=[p.read_text(encoding="utf-8") for p in sorted(DATA.glob("*.md"))]))
def test_mutated_folded_bias_derivations_never_crash(text):
    """Broken braces, swapped environments, cut documents: findings, never an internal error."""
    _check(text)


def test_a_named_document_with_leading_ones_and_block_weight_matrices():
    """x̂ = (1, x)^T and W_1 = [b_1  V_1] are block vectors and matrices of the document's own quantities
    (fails before: 'a matrix entry is itself a vector or matrix' on every line that uses them)."""
    report = audit_file(DATA / "named_correct.md")
    assert [(f.where.line, f.message) for f in _errors(report)] == []
    cov = report.sections["audit"]["coverage"]
    assert cov["evaluated"] == cov["checkable"] > 10 and cov["numbers_checked"] == 5
    text = (DATA / "named_planted.md").read_text(encoding="utf-8")
    found = sorted((f.where.line, f.kind) for f in _errors(audit_file(DATA / "named_planted.md")))
    assert found == [(_line_of(text, r"\partial u} = V_2^\top (o - y),"), "mismatch"),
                     (_line_of(text, "the forward pass gives"), "arithmetic")]


@pytest.mark.parametrize("latex, want", [
    (r"\begin{bmatrix} a^{(2)} \\ 1 \end{bmatrix}", lambda c, a: np.r_[a[2], 1.0]),
    (r"(1, x)^\top", lambda c, a: np.r_[1.0, c.x]),
    (r"\left(1, a^{(3)}\right)", lambda c, a: np.r_[1.0, a[3]]),
    (r"\begin{bmatrix} W^{(1)} & b^{(1)} \end{bmatrix}", lambda c, a: np.hstack([c.weights[0], c.biases[0][:, None]])),
])
def test_block_vectors_and_matrices_stack_their_blocks(latex, want):
    case = seed_case()
    a = forward(case).a
    env = Env(Instance(case), Convention())
    np.testing.assert_allclose(_value(latex, env), want(case, a))


def test_blocks_that_do_not_fit_together_are_a_shape_error():
    env = Env(Instance(seed_case()), Convention())
    with pytest.raises(EvalError) as err:
        _value(r"\begin{bmatrix} W^{(1)} & b^{(3)} \end{bmatrix}", env)
    assert err.value.kind == "shape"


def test_data_augmentation_is_not_a_folded_bias():
    text = (r"We use data augmentation and write $\hat{x}$ for an augmented sample."
            "\n\n$$z^{(1)} = W^{(1)} \\hat{x} + b^{(1)}$$\n")
    assert _reading(text).augmentation is None


def test_a_batch_with_a_row_of_ones_appended():
    """Z = W Ã over m columns, dW = (1/m) dZ Ãᵀ: the row of ones, the bias column and its gradient per batch."""
    report = audit_file(DATA / "batch_correct.md")
    assert [(f.where.line, f.message) for f in _errors(report)] == []
    cov = report.sections["audit"]["coverage"]
    assert cov["worked_example_read"] and cov["evaluated"] == cov["checkable"] and cov["numbers_checked"] == 4
    assert report.sections["audit"]["network"]["widths"] == [2, 3, 1]
