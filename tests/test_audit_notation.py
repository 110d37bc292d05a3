"""The audit reads the common notations: Nielsen's bare superscripts (a^l, z^2, L = the output layer), bold
symbols with transposes inside the layer superscript, norms, spacing, sums without limits, tanh + cross-entropy.

The fixtures under tests/data/audit_notation/ are derivations written for these tests; their numbers come from
plain numpy (make_fixtures.py), and the values checked here are recomputed with numpy.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from manualbp import forward
from manualbp.example import seed_case
from oracles.audit import audit_file, audit_text
from oracles.audit.latex import parse_expr, structure
from oracles.audit.semantics import Convention, Env, EvalError, Instance, evaluate
from oracles.audit.tree import Num, Pow
from tests.test_audit_fuzz import _check, mutated

DATA = Path(__file__).resolve().parent / "data" / "audit_notation"
FIXTURES = {
    "nielsen_correct.md": "input is layer 1; W^(l) maps layer l-1 to l; δ = ∂C/∂z",
    "nielsen_paren_correct.md": "input is layer 1; W^(l) maps layer l-1 to l; δ = ∂C/∂z",
    "bold_aligned_correct.md": "input is layer 0; W^(l) maps layer l-1 to l; δ = ∂C/∂z",
    "tanh_bce_correct.md": "input is layer 0; W^(l) maps layer l-1 to l; δ = ∂C/∂z",
    "batch_correct.md": "input is layer 0; W^(l) maps layer l-1 to l; δ = ∂C/∂a",
    "rowvec_correct.md": "quantities named by the document (its own forward definitions, its own shapes)",
}


def _findings(report) -> list[tuple[int, str, str]]:
    return [(f.where.line, f.kind, f.message) for f in report.findings]


def _audit_with(fixture: str, addition: str):
    """(the audit of a correct fixture with ``addition`` appended, the line the addition ends on)."""
    text = (DATA / fixture).read_text(encoding="utf-8") + addition
    return audit_text(text, fixture), text.count("\n")


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_a_correct_derivation_in_another_notation_gives_no_findings(name):
    report = audit_file(DATA / name)
    assert report.findings == [], _findings(report)
    audit = report.sections["audit"]
    assert audit["checked"] >= 12
    assert audit["network"]["worked_example"]
    assert audit["network"]["convention"] == FIXTURES[name]


def test_tanh_hidden_with_cross_entropy_output_is_read_as_sigmoid_output():
    audit = audit_file(DATA / "tanh_bce_correct.md").sections["audit"]
    assert audit["network"]["activation"] == "tanh" and audit["network"]["cost"] == "bce"
    assert audit["network"]["widths"] == [2, 3, 1]


def _line_of(text: str, fragment: str) -> int:
    assert text.count(fragment) == 1, fragment
    return text[:text.index(fragment)].count("\n") + 1


def _plant(name: str, old: str, new: str) -> tuple[str, int]:
    text = (DATA / name).read_text(encoding="utf-8")
    line = _line_of(text, old)
    return text.replace(old, new), line


def _numpy_nielsen():
    """a^2, a^3 of the Nielsen fixture's worked example, with numpy."""
    W2 = np.array([[0.2, -0.4], [0.7, 0.1], [-0.3, 0.5]])
    W3 = np.array([[0.6, -0.1, 0.4], [-0.5, 0.3, 0.2]])
    a2 = 1 / (1 + np.exp(-(W2 @ np.array([0.5, -0.2]) + np.array([0.1, -0.2, 0.3]))))
    a3 = 1 / (1 + np.exp(-(W3 @ a2 + np.array([0.05, -0.1]))))
    return a2, a3


@pytest.mark.parametrize("name, old, new, fix", [
    ("nielsen_correct.md", r"w^{l+1}_{kj} \delta^{l+1}_k", r"w^{l}_{kj} \delta^{l+1}_k", "w^{l+1}_{kj}"),
    ("nielsen_correct.md", r"\left(\left(w^{l+1}\right)^T \delta^{l+1}\right) \odot \sigma'\left(z^l\right)",
     r"\left(\left(w^{l}\right)^T \delta^{l+1}\right) \odot \sigma'\left(z^l\right)", "w^{l+1}"),
    ("nielsen_correct.md", r"a^{l-1}_k \delta^l_j", r"a^{l-1}_j \delta^l_k", None),
    ("nielsen_correct.md", r"\delta^L = \left(a^L - y\right)", r"\delta^L = \left(y - a^L\right)", "a^L - y"),
    ("nielsen_correct.md", r"\delta^{l+1}_k \sigma'\left(z^l_j\right)", r"\delta^{l+1}_k",
     r"\delta^{l+1}_k \sigma'\left(z_{j}^{l}\right)"),
    ("bold_aligned_correct.md", r"\mathbf{y}\right) \odot \sigma'\!\left(\mathbf{z}^{(2)}\right) \\",
     r"\mathbf{y}\right) \\", r"\odot \sigma'\left(\mathbf{z}^{(2)}\right)"),
    ("bold_aligned_correct.md", r"\left(\mathbf{W}^{(2)\top} \boldsymbol{\delta}^{(2)}\right)",
     r"\left(\mathbf{W}^{(1)\top} \boldsymbol{\delta}^{(2)}\right)", r"\mathbf{W}^{(2)\top}"),
    ("batch_correct.md", r"dZ^{[2]} = \frac{1}{m} \left(A^{[2]} - Y\right)", r"dZ^{[2]} = \left(A^{[2]} - Y\right)",
     r"\frac{1}{m} \left(A^{[2]} - Y\right)"),
    ("batch_correct.md", r"\left(W^{[l+1]}\right)^T dZ^{[l+1]}", r"\left(W^{[l]}\right)^T dZ^{[l+1]}", "W^{[l+1]}"),
    ("batch_correct.md", r"dZ^{[l]} \left(A^{[l-1]}\right)^T", r"\left(A^{[l-1]}\right)^T dZ^{[l]}",
     r"dZ^{[l]} \left(A^{[l-1]}\right)^T"),
    ("rowvec_correct.md", r"\frac{\partial J}{\partial q} = p - y$$", r"\frac{\partial J}{\partial q} = y - p$$", None),
    ("rowvec_correct.md", r"\frac{\partial J}{\partial g} = \left(p - y\right) W_2^\top$$",
     r"\frac{\partial J}{\partial g} = \left(p - y\right) W_1^\top$$", "W_2"),
    ("rowvec_correct.md", r"g^\top \left(p - y\right)", r"\left(p - y\right)^\top g", r"g^\top \left(p - y\right)"),
    ("rowvec_correct.md", r"\frac{\partial J}{\partial g} \odot g \odot \left(1 - g\right)",
     r"\frac{\partial J}{\partial g}", r"\frac{\partial J}{\partial g} \odot g \odot \left(1 - g\right)"),
    ("rowvec_correct.md", r"g_j \left(p_k - y_k\right)", r"g_k \left(p_j - y_j\right)", None),
    ("tanh_bce_correct.md", r"\frac{\partial C}{\partial z^{(2)}} = a^{(2)} - y",
     r"\frac{\partial C}{\partial z^{(2)}} = a^{(2)} + y", None),
])
def test_a_planted_error_is_found_on_its_line_and_nowhere_else(name, old, new, fix):
    text, line = _plant(name, old, new)
    report = audit_text(text, name)
    assert report.findings, "the planted error was not found"
    assert {f.where.line for f in report.findings} == {line}, _findings(report)
    assert any(f.severity == "error" for f in report.findings)
    if fix is not None:
        assert any(fix in (f.fix or "") for f in report.findings), [f.fix for f in report.findings]


def test_a_wrong_number_in_nielsen_notation_gets_numpys_value():
    a2, _ = _numpy_nielsen()
    good = f"{a2[1]:.4f}"
    text, line = _plant("nielsen_correct.md", good, f"{a2[1] + 0.01:.4f}")
    report = audit_text(text, "n")
    hits = [f for f in report.findings if f.where.line == line and f.kind == "arithmetic"]
    assert hits and hits[0].fix == good, _findings(report)


def _rowvec_scores() -> np.ndarray:
    """The softmax scores q = σ(x W_1 + b_1) W_2 + b_2 of the row-vector fixture, by numpy from its parameters."""
    x = np.array([0.5, -1.0, 1.5])
    W1 = np.array([[0.1, -0.3], [0.4, 0.2], [-0.2, 0.5]])
    W2 = np.array([[0.6, -0.2, 0.3], [-0.5, 0.4, 0.1]])
    g = 1 / (1 + np.exp(-(x @ W1 + np.array([0.05, -0.15]))))
    return g @ W2 + np.array([0.1, 0.0, -0.1])


def test_row_vector_numbers_are_numpys():
    """A wrong entry of p = softmax(q) in the row-vector fixture gets numpy's value as its fix."""
    q = _rowvec_scores()
    p = np.exp(q) / np.exp(q).sum()
    good = f"{p[1]:.4f}"
    text = (DATA / "rowvec_correct.md").read_text(encoding="utf-8")
    row = f"{p[0]:.4f} & {good} & {p[2]:.4f}"
    line = _line_of(text, row)
    report = audit_text(text.replace(row, f"{p[0]:.4f} & {p[1] + 0.02:.4f} & {p[2]:.4f}"), "r")
    assert [(f.where.line, f.fix) for f in report.findings] == [(line, good)], _findings(report)


def test_a_fix_never_replaces_symbols_by_numbers():
    from oracles.audit.equations import _symbols_to_numbers
    from oracles.audit.fixes import Edit
    from oracles.audit.tree import Num, Sym

    a = Sym("a", span=(0, 1))
    assert _symbols_to_numbers(Edit("shape", "", 0, a, Num(0.5, "0.5", 1), (0, 1, "0.5"), 1.0))
    assert not _symbols_to_numbers(Edit("index", "", 0, a, Sym("z"), (0, 1, "z"), 1.0))


def test_a_batch_cost_is_the_mean_over_the_columns():
    """C = 1/(2m) ΣΣ (a − y)² on the batch fixture: numpy's value is the fix of a wrong C, m is the batch size."""
    W1 = np.array([[0.3, -0.2, 0.5], [-0.4, 0.6, 0.1]])
    W2 = np.array([[0.7, -0.3], [0.2, 0.5]])
    X = np.array([[1.0, 0.0, -1.0, 0.5], [0.5, -1.0, 2.0, 0.0], [-0.5, 1.0, 0.0, 1.5]])
    Y = np.array([[1.0, 0.0, 0.0, 1.0], [0.0, 1.0, 1.0, 0.0]])
    A1 = 1 / (1 + np.exp(-(W1 @ X + np.array([[0.1], [-0.2]]))))
    A2 = 1 / (1 + np.exp(-(W2 @ A1 + np.array([[0.0], [0.1]]))))
    C = np.sum((A2 - Y) ** 2) / (2 * X.shape[1])
    text, line = _plant("batch_correct.md", f"C = {C:.4f}", f"C = {C * 4:.4f}")  # the 1/m forgotten
    report = audit_text(text, "b")
    assert [(f.where.line, f.fix) for f in report.findings] == [(line, f"{C:.4f}")], _findings(report)
    text, line = _plant("batch_correct.md", "$m = 4$", "$m = 3$")
    assert {f.where.line for f in audit_text(text, "b").findings} == {line}


def test_a_missing_transpose_fix_is_valid_latex_and_makes_the_line_hold():
    old = r"\boldsymbol{\delta}^{(1)} \mathbf{x}^\top"
    text, line = _plant("bold_aligned_correct.md", r"\boldsymbol{\delta}^{(1)} \left(\mathbf{a}^{(0)}\right)^\top",
                        r"\boldsymbol{\delta}^{(1)} \mathbf{a}^{(0)}")
    assert old in text
    report = audit_text(text, "b")
    (f,) = [f for f in report.findings if f.where.line == line and f.kind == "transpose"]
    assert not re.search(r"\^\{[^{}]*\}\s*\^", f.fix), f.fix  # no double superscript a^{(0)}^T
    _, problems = structure(f.fix)
    assert not problems
    lo, hi = f.values["offsets"]
    assert text[lo:hi] == f.where.fragment
    fixed = text[:lo] + f.fix + text[hi:]
    assert audit_text(fixed, "b").findings == []


def test_convention_stated_in_words_is_not_swayed_by_planted_errors():
    """Nielsen notation with layers in parentheses and x given alone: four planted symbolic errors must not
    flip the reading to 'input is layer 0' (which would flag correct lines with harmful fixes)."""
    text = (DATA / "nielsen_paren_correct.md").read_text(encoding="utf-8")
    plants = [(r"\left(w^{(l+1)}\right)^T", r"\left(w^{(l)}\right)^T"),
              (r"\delta^{(l+1)}_k \sigma'\left(z^{(l)}_j\right)", r"\delta^{(l+1)}_k"),
              (r"a^{(l-1)}_k \delta^{(l)}_j", r"a^{(l-1)}_j \delta^{(l)}_k"),
              (r"\left(a^{(L)} - y\right) \odot", r"\left(y - a^{(L)}\right) \odot")]
    lines = set()
    for old, new in plants:
        lines.add(_line_of(text, old))
        text = text.replace(old, new)
    for doc in (text, text.replace("The input is layer $1$ and the", "The")):
        report = audit_text(doc, "p")
        assert report.sections["audit"]["network"]["convention"].startswith("input is layer 1;")
        assert {f.where.line for f in report.findings} == lines, _findings(report)


# ----------------------------------------------------------------------------- single expressions, with numpy

@pytest.fixture(scope="module")
def seed():
    case = seed_case()
    return Env(Instance(case, "seed"), Convention()), forward(case), case


def _val(latex: str, env: Env):
    items, problems = structure(latex)
    node = parse_expr(items, problems, latex)
    assert not problems, problems
    return np.real(evaluate(node, env))


@pytest.mark.parametrize("latex", [r"\left\| a^{(4)} - y \right\|^2", r"\|a^{(4)} - y\|^2",
                                   r"\lVert \mathbf{a}^{(4)} - \mathbf{y} \rVert^2",
                                   r"\Vert a^{(4)} - y \Vert^{2}"])
def test_a_squared_norm_is_the_sum_of_squares(seed, latex):
    env, fwd, case = seed
    want = np.sum((np.asarray(fwd.a[4]) - np.asarray(case.y)) ** 2)
    assert np.isclose(_val(latex, env), want)


@pytest.mark.parametrize("latex", [r"W^{(3)\top}", r"W^{(3)T}", r"\mathbf{W}^{(3)\top}", r"(W^{(3)})^T",
                                   r"\left(\mathbf W^{(3)}\right)^\top", r"\boldsymbol{W}^{(3)\intercal}"])
def test_a_transpose_inside_or_after_the_layer_superscript(seed, latex):
    env, _, case = seed
    assert np.allclose(_val(latex, env), np.asarray(case.weights[2]).T)


@pytest.mark.parametrize("latex", [r"\quad a^{(3)}", r"a^{(3)} \;", r"\!a^{(3)}~", r"\qquad a^{(3)} ,",
                                   r"\, a^{(3)} \,"])
def test_spacing_around_a_member_is_layout(seed, latex):
    env, fwd, _ = seed
    assert np.allclose(_val(latex, env), fwd.a[3])


@pytest.mark.parametrize("latex", [r"\sum_k w^{(3)}_{jk} a^{(3)}_k", r"\sum_{k} w_{jk}^{(3)} a_k^{(3)}"])
def test_a_sum_without_limits_runs_over_the_index_range(seed, latex):
    env, fwd, case = seed
    for j in (1, 2):
        want = np.asarray(case.weights[2])[j - 1] @ np.asarray(fwd.a[3])
        assert np.isclose(_val(latex, env.with_assign(j=j)), want)


def test_a_logarithm_of_a_negative_number_is_an_error_not_a_huge_number(seed):
    env, _, _ = seed
    with pytest.raises(EvalError, match="logarithm"):
        _val(r"\log\left(-a^{(3)}\right)", env)
    text = r"""# t

$$C = -\sum_{k=1}^{2} y_k \log a_k^{(2)}$$

$$a^{(1)} = \tanh\left(z^{(1)}\right)$$

$$\delta^{(2)} = \frac{\partial C}{\partial a^{(1)}}$$

$$W^{(1)} = \begin{pmatrix} 0.1 & 0.2 \\ -0.3 & 0.1 \end{pmatrix}, b^{(1)} = \begin{pmatrix} 0 \\ 0.1 \end{pmatrix}$$

$$W^{(2)} = \begin{pmatrix} 0.5 & -0.4 \\ 0.3 & 0.8 \end{pmatrix}, b^{(2)} = \begin{pmatrix} -0.1 \\ 0.2 \end{pmatrix}$$

$$x = \begin{pmatrix} 0.5 \\ -1 \end{pmatrix}, y = \begin{pmatrix} 1 \\ 0 \end{pmatrix}$$
"""
    for f in audit_text(text, "t").findings:
        assert not re.search(r"e\+\d\d", f.message), f.message


def test_nielsen_bare_superscripts_are_layers_only_where_the_document_uses_them():
    nielsen = "$$z^l = w^l a^{l-1} + b^l$$\n\n$$y = a^2 + b^2$$\n"
    squares = "$$z^{(l)} = W^{(l)} a^{(l-1)} + b^{(l)}$$\n\n$$y = a^2 + b^2$$\n"
    from oracles.audit.extract import extract
    from oracles.audit.markdown import split_markdown
    from oracles.audit.notation import read_notation
    from oracles.audit.tree import Pow, Sym

    for text, want in ((nielsen, Sym), (squares, Pow)):
        eqs = extract(split_markdown(text)).equations
        read_notation(eqs, text)
        terms = eqs[1].members[1]
        assert isinstance(terms.left, want) and isinstance(terms.right, want), terms


@pytest.mark.parametrize("identity, holds", [
    (r"\sigma' = \sigma(1-\sigma)", True),
    (r"\sigma' = \sigma\left(1 - \sigma\right)", True),
    (r"\sigma' = \sigma(1+\sigma)", False),
    (r"\sigma'(z) = \sigma(z)\left(1 - \sigma(z)\right)", True),
    (r"\sigma'(z) = 1 - \sigma(z)^2", False),
])
def test_a_function_identity_without_arguments_is_checked_for_every_argument(identity, holds):
    """σ' = σ(1 − σ) is the logistic identity, also in a tanh network with a sigmoid output."""
    report, line = _audit_with("tanh_bce_correct.md", f"\nwhere $${identity}$$\n")
    assert {f.where.line for f in report.findings} == (set() if holds else {line}), _findings(report)


def test_words_between_equations_of_one_display_are_prose():
    text = (DATA / "nielsen_correct.md").read_text(encoding="utf-8")
    old = r"\delta^l_j, \qquad \frac{\partial C}{\partial w^l_{jk}}"
    new = r"\delta^l_j, \quad \text{and} \quad \frac{\partial C}{\partial w^l_{jk}}"
    assert old in text
    report = audit_text(text.replace(old, new), "n")
    assert report.findings == [], _findings(report)


def test_a_one_hot_target_under_another_name_stays_one_hot_in_random_instances():
    """∂J/∂q = p − v holds only for a distribution v: random instances keep it, whatever its name."""
    text = (DATA / "rowvec_correct.md").read_text(encoding="utf-8")
    renamed = re.sub(r"(?<![A-Za-z\\])y(?![A-Za-z])", "v", text)
    assert renamed.count("v_k") >= 2 and "p - v" in renamed
    report = audit_text(renamed, "r")
    assert report.findings == [], _findings(report)


def test_a_value_that_is_not_real_is_never_printed_as_a_number(seed):
    from oracles.audit.equations import _fmt

    assert "e+20" not in _fmt(np.array([-3.1416e20, 1.0])) and "not a finite real number" in _fmt(np.array(np.nan))
    env, _, _ = seed
    with pytest.raises(EvalError, match="fractional power of a negative"):
        _val(r"\left(-a^{(3)}\right)^{0.5}", env)


@pytest.mark.parametrize("gradient, holds", [
    (r"\nabla_{\hat{y}} C = \hat{y} - y", True),
    (r"\nabla_{a^{(2)}} C = \hat{y} - y", True),
    (r"\frac{\partial C}{\partial \hat{y}_k} = \hat{y}_k - y_k", True),
    (r"\nabla_{\hat{y}} C = y - \hat{y}", False),
    (r"\sigma^{\prime}(z) = \sigma(z)\left(1 - \sigma(z)\right)", True),
    (r"\sigma^\prime(z) = \sigma(z)^2", False),
])
def test_gradient_prediction_and_prime_notations(gradient, holds):
    """∇_a C is ∂C/∂a, ŷ is the output a^{(N)} (not the target y), σ^{\\prime} is σ'."""
    text = ("# t\n\nLayer 1 is the input; $W^{(l)}$ maps layer $l-1$ to layer $l$.\n\n"
            "$$\\hat{y} = a^{(2)} = \\sigma\\left(z^{(2)}\\right)$$\n\n"
            "$$C = \\frac{1}{2} \\left\\| \\hat{y} - y \\right\\|^2$$\n\n"
            f"$${gradient}$$\n")
    report = audit_text(text, "g")
    assert report.sections["audit"]["checked"] >= 3
    assert {f.where.line for f in report.findings} == (set() if holds else {9}), _findings(report)


def test_ell_is_the_layer_letter():
    text = (DATA / "nielsen_paren_correct.md").read_text(encoding="utf-8")
    ell = re.sub(r"\^\{\(l([+-]1)?\)\}", lambda m: "^{(\\ell" + (m.group(1) or "") + ")}", text)
    assert ell.count(r"\ell") >= 10
    assert audit_text(ell, "e").findings == []
    old = r"\left(w^{(\ell+1)}\right)^T"
    line = _line_of(ell, old)
    report = audit_text(ell.replace(old, r"\left(w^{(\ell)}\right)^T"), "e")
    assert [(f.where.line, f.fix) for f in report.findings] == [(line, r"w^{(\ell+1)}")], _findings(report)


@pytest.mark.parametrize("prose, base, offset", [
    ("We follow Nielsen: the input is layer $1$, and $w^l_{jk}$ is the weight from neuron $k$ in layer $l-1$ "
     "to neuron $j$ in layer $l$.", 1, 1),
    (r"Layer $0$ is the input; $\mathbf{W}^{(l)}$ maps layer $l-1$ to layer $l$.", 0, 1),
    ("Notation: layer 1 is the input, $w_{kj}^{(L)}$ connects unit $j$ of layer $L$ to unit $k$ of layer $L+1$.",
     1, 0),
    ("The input is 3-dimensional and the input layer has 784 units.", None, None),
])
def test_the_convention_stated_in_words(prose, base, offset):
    from oracles.audit.notation import stated_input_layer, stated_weight_offset

    assert stated_input_layer(prose) == base
    assert stated_weight_offset(prose) == offset


def test_named_column_vectors_with_a_prediction_hat():
    """ŷ is a quantity of its own (not the target y); ∂L/∂ŷ_k is one entry; one output indexed by k = 1."""
    text = (DATA / "column_named_correct.md").read_text(encoding="utf-8")
    assert audit_text(text, "c").findings == []
    old = r"W_2^\top \left(\hat{y} - y\right)"
    line = _line_of(text, old)
    report = audit_text(text.replace(old, r"W_1^\top \left(\hat{y} - y\right)"), "c")
    assert [(f.where.line, f.fix) for f in report.findings] == [(line, "W_2")], _findings(report)


@pytest.mark.parametrize("latex, want", [
    (r"\delta^{(4)} \otimes a^{(3)}", lambda fwd, bwd, case: np.outer(bwd.dC_db[3], fwd.a[3])),
    (r"\operatorname{diag}\left(a^{(3)}\right) W^{(2)}", lambda fwd, bwd, case: np.diag(fwd.a[3]) @ case.weights[1]),
    (r"\text{sigmoid}\left(z^{(3)}\right)", lambda fwd, bwd, case: fwd.a[3]),
])
def test_outer_products_diagonal_matrices_and_named_sigmoid(seed, latex, want):
    from manualbp import backward

    env, fwd, case = seed
    env = Env(env.inst, Convention(delta="z"))  # δ^{(4)} = ∂C/∂z^{(4)}
    assert np.allclose(_val(latex, env), want(fwd, backward(case), case))


@pytest.mark.parametrize("bp1, holds", [
    (r"\delta^L = \nabla_a C \odot \sigma'\left(z^L\right)", True),
    (r"\delta^L = \nabla_a C + \sigma'\left(z^L\right)", False),
])
def test_nielsens_gradient_at_the_output(bp1, holds):
    """In Nielsen's BP1 δ^L = ∇_a C ⊙ σ'(z^L), the bare a of ∇_a C is the output layer's a^L."""
    report, line = _audit_with("nielsen_correct.md", f"\nand in gradient form\n\n$${bp1}$$\n")
    assert {f.where.line for f in report.findings} == (set() if holds else {line}), _findings(report)


def test_division_by_zero_is_an_evaluation_error(seed):
    env, _, _ = seed
    with pytest.raises(EvalError, match="division by zero"):
        _val(r"\frac{a^{(3)}}{1 - 1}", env)
    with pytest.raises(EvalError, match="division by zero"):
        _val(r"a^{(3)} / 0", env)


NOTATION_DOCS = [p.read_text(encoding="utf-8") for p in sorted(DATA.glob("*.md"))]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(docs=NOTATION_DOCS))
def test_mutated_derivations_in_other_notations_never_crash(text):
    """The new readings (bare layers, named quantities, batches, norms) never break the auditor."""
    _check(text)


def test_a_number_that_follows_from_the_documents_own_rounded_values_is_a_rounding():
    """Named quantities: p stated from q rounded to 1 decimal is a rounding (info), not an arithmetic error."""
    q = _rowvec_scores()
    q1 = np.round(q, 1)
    p, p1 = np.exp(q) / np.exp(q).sum(), np.exp(q1) / np.exp(q1).sum()
    assert np.any(np.abs(np.round(p1, 4) - p) > 0.5e-4)  # the rounded q moves p at 4 decimals
    text = (DATA / "rowvec_correct.md").read_text(encoding="utf-8")
    start = text.index(r"$$q = \begin{bmatrix}")
    end = text.index("$$", start + 2) + 2
    cells = [f"{v:.1f}" for v in q1], [f"{v:.4f}" for v in p1]
    line = (r"$$q = \begin{bmatrix} " + " & ".join(cells[0]) + r" \end{bmatrix}, \quad p = \operatorname{softmax}(q) = "
            r"\begin{bmatrix} " + " & ".join(cells[1]) + r" \end{bmatrix}$$")
    report = audit_text(text[:start] + line + text[end:], "r")
    n = text[:start].count("\n") + 1
    on_line = [f for f in report.findings if f.where.line == n]
    assert on_line and all(f.kind == "rounding" and f.severity == "info" for f in on_line), _findings(report)
    assert all(f.severity == "info" for f in report.findings), _findings(report)


def test_a_named_batch_with_one_sample_per_row():
    """H = σ(X W_1 + b_1): the 1×n bias is added to every row; m is the document's own m = 4."""
    text = (DATA / "named_batch_correct.md").read_text(encoding="utf-8")
    report = audit_text(text, "nb")
    assert report.findings == [], _findings(report)
    assert report.sections["audit"]["checked"] >= 6
    old = r"\frac{\partial L}{\partial P} = \frac{1}{m} \left(P - Y\right)"
    line = _line_of(text, old)
    report = audit_text(text.replace(old, r"\frac{\partial L}{\partial P} = \left(P - Y\right)"), "nb")
    assert [(f.where.line, f.fix) for f in report.findings] == [(line, r"\frac{1}{m} \left(P - Y\right)")], \
        _findings(report)


def test_a_derivation_by_differentials_is_checked_around_its_differentials():
    """x ∈ ℝ² declares a shape, z_1 and g_2 are names (numeric subscripts), L = −yᵀ log p is a number, b_2 = 0 is
    the zero vector, and \\mathrm{d}L = … lines are differentials: not evaluated, never read as Ng's dZ."""
    text = (DATA / "differentials_correct.md").read_text(encoding="utf-8")
    report = audit_text(text, "d")
    assert not [f for f in report.findings if f.severity == "error"], _findings(report)
    unread = {f.message for f in report.findings}
    assert unread == {"not checked: relations other than = and ≈ (≠, ≤, →, …) are not checked",
                      "not checked: differentials (dL, dW written for a change of L, W) are not checked"}, unread
    assert report.sections["audit"]["checked"] >= 20
    planted = [
        ("g_2 = p - y", "g_2 = y - p", "sign", "p - y"),
        (r"\frac{\partial L}{\partial W_2} = g_2 h^\top", r"\frac{\partial L}{\partial W_2} = h g_2^\top",
         "transpose", r"g_2 h^\top"),
        ("$L = 2.2134$", "$L = 2.2314$", "arithmetic", "2.2134"),
    ]
    for old, new, kind, fix in planted:
        line = _line_of(text, old)
        errors = [(f.where.line, f.kind, f.fix) for f in audit_text(text.replace(old, new), "d").findings
                  if f.severity == "error"]
        assert errors == [(line, kind, fix)], (old, errors)
    # CS231n's ds_i (a row of ∂L/∂s, left as written) in a document without dL is not a differential
    cs231n = audit_file(DATA.parent / "audit_layers" / "cs231n_correct.md")
    assert not [f for f in cs231n.findings if "differential" in f.message], _findings(cs231n)


def test_a_jacobian_named_with_a_text_subscript_is_a_matrix_and_its_numbers_are_checked():
    """J_{\text{act}} = ∂h/∂z_1 is the Jacobian, (i, j) = ∂h_i/∂z_j (a label subscript, not an index): its stated
    entries are checked, a wrong one found with numpy's value (fails before: 'derivative of a vector with respect
    to a vector', the numbers never checked)."""
    text = (DATA / "differentials_correct.md").read_text(encoding="utf-8")
    x, W1, b1 = np.array([1.0, -0.5]), np.array([[0.5, 0.25], [-0.75, 0.5]]), np.array([0.25, 0.0])
    J = np.diag(1 - np.tanh(W1 @ x + b1) ** 2)

    def doc(M, label):
        rows = r" \\ ".join(" & ".join(f"{v:.4f}" for v in r) for r in M)
        return (text + f"\n$$J_{{{label}}} = \\frac{{\\partial h}}{{\\partial z_1}}$$\n\n"
                + rf"$$J_{{{label}}} = \begin{{bmatrix}} {rows} \end{{bmatrix}}$$" + "\n")

    for label in (r"\text{act}", r"\sigma"):  # a bare σ subscript is a name too, not σ applied to something
        right = audit_text(doc(J, label), "j")
        assert not [f for f in right.findings if f.severity == "error"], _findings(right)
        wrong = J.copy()
        wrong[1, 1] += 0.01
        errors = [(f.kind, float(f.fix)) for f in audit_text(doc(wrong, label), "j").findings if f.severity == "error"]
        assert errors == [("arithmetic", pytest.approx(J[1, 1], abs=5e-5))], (label, errors)


def test_a_failure_context_never_reads_semicolon_colon():
    """'at L=1, j=1: this side …' where an index context has no scalar beside it (it read 'at L=1, j=1; : …')."""
    seed = audit_file(Path(__file__).resolve().parents[1] / "examples" / "derivations" / "seed.md")
    assert any(" at L=1, j=1: this side" in f.message for f in seed.findings)
    assert not [f.message for f in seed.findings if "; :" in f.message]


def test_decimal_commas_in_braces_are_decimal_points():
    """0{,}5 as German and French texts write 0.5: the same audit as with points (fails before: the numbers
    broke apart and the worked example was not read)."""
    text = (DATA / "nielsen_correct.md").read_text(encoding="utf-8")
    commas = re.sub(r"(\d)\.(\d)", r"\1{,}\2", text)
    assert commas.count("{,}") > 20
    points, german = audit_text(text, "n"), audit_text(commas, "n")
    assert german.findings == [], _findings(german)
    assert german.sections["audit"]["checked"] == points.sections["audit"]["checked"]
    assert isinstance(parse_expr(structure("0{,}25")[0], [], "0{,}25"), Num)


def _own_e_doc(E: str | None = None) -> str:
    """One sigmoid neuron whose error is named e (e = d − o, E = ½ e²), its numbers by plain math (4 significant
    digits); ``E``: the number stated for E instead of the right one."""
    import math

    o = 1 / (1 + math.exp(-0.5))
    e = 1 - o
    num = lambda v: f"{v:.4g}"  # noqa: E731
    return (r"$$z = w x + b, \quad o = \sigma(z)$$" "\n\n" r"$$e = d - o$$" "\n\n" r"$$E = \frac{1}{2} e^2$$" "\n\n"
            r"$$\frac{\partial E}{\partial w} = -e \, o (1 - o) \, x$$" "\n\n"
            r"Numbers: $w = 0.5$, $x = 1$, $b = 0$, $d = 1$." "\n\n"
            rf"$$z = 0.5, \quad o = {num(o)}, \quad e = {num(e)}, \quad E = {E or num(e * e / 2)}$$" "\n\n"
            rf"$$\frac{{\partial E}}{{\partial w}} = {num(-e * o * (1 - o))}$$" "\n")


def test_a_document_that_defines_its_own_e_is_not_read_with_eulers_number():
    """e = d − o makes e the error and e^2 its square, not exp(2) (fails before: E read as ½·exp(2) = 3.69, its
    stated number an arithmetic error, ∂E/∂w 'needs 0'); e_k^2 is never an exponential."""
    report = audit_text(_own_e_doc(), "e")
    assert report.findings == [], _findings(report)
    assert report.sections["audit"]["checked"] >= 8
    wrong = audit_text(_own_e_doc(E="0.07621"), "e")
    assert [(f.kind, f.fix) for f in wrong.findings] == [("arithmetic", "0.07127")], _findings(wrong)
    assert isinstance(parse_expr(structure("e_k^2")[0], [], "e_k^2"), Pow)


TUPLE_DOC = r"""Layer $0$ is the input; $W^{(l)}$ maps layer $l-1$ to layer $l$.

$$W^{(1)} = \begin{bmatrix} 0.5 & -0.2 \\ 0.3 & 0.4 \end{bmatrix}$$

$$b^{(1)} = \begin{bmatrix} 0.1 \\ -0.2 \end{bmatrix}$$

$$x = \begin{bmatrix} 1 \\ 2 \end{bmatrix}, \quad y = \begin{bmatrix} 0.9 \\ 0.1 \end{bmatrix}$$

so $z^{(1)} = W^{(1)} x + b^{(1)} = (0.2,\ 0.9)^\top$ and $a^{(1)} = \sigma(z^{(1)}) = (A1,\ A2)^\top$.
"""


def test_a_vector_written_as_a_transposed_tuple_is_checked_entry_by_entry():
    a1 = 1 / (1 + np.exp(-(np.array([[0.5, -0.2], [0.3, 0.4]]) @ np.array([1.0, 2.0]) + np.array([0.1, -0.2]))))
    good = TUPLE_DOC.replace("A1", f"{a1[0]:.4f}").replace("A2", f"{a1[1]:.4f}")
    assert audit_text(good, "t").findings == []
    bad = TUPLE_DOC.replace("A1", f"{a1[0]:.4f}").replace("A2", f"{a1[1] + 0.01:.4f}")
    report = audit_text(bad, "t")
    assert [(f.where.line, f.fix) for f in report.findings] == [(9, f"{a1[1]:.4f}")], _findings(report)


def _bishop_doc() -> str:
    """Bishop's notation (a = the pre-activation, z = h(a), biases as weights w_{j0}), numbers from numpy."""
    x = np.array([1.0, 0.5, -1.0])  # x_0 = 1
    W1 = np.array([[0.1, 0.4, -0.3], [-0.2, 0.2, 0.6]])
    a = W1 @ x
    z = np.tanh(a)
    w = "".join(f"$$w^{{(1)}}_{{{j + 1}{i}}} = {W1[j, i]}$$\n\n" for j in range(2) for i in range(3))
    return (r"""Index notation as in Bishop's book: $i$ runs over the inputs, $j$ over the hidden units.

$$a_j = \sum_{i=0}^{D} w^{(1)}_{ji} x_i$$

$$z_j = h(a_j)$$

with $h = \tanh$ and $x_0 = 1$. Take $x_1 = 0.5$, $x_2 = -1$ and the weights

""" + w + "In the numbers the hidden units carry a layer mark.\n\n"
            + "".join(f"$$a^{{(1)}}_{j} = w^{{(1)}}_{{{j}0}} + w^{{(1)}}_{{{j}1}} x_1 + w^{{(1)}}_{{{j}2}} x_2 = "
                      f"{a[j - 1]:.4f}$$\n\n" for j in (1, 2))
            + f"$$z_1 = \\tanh({a[0]:.4f}) = {z[0]:.4f}$$\n")


def test_a_document_that_writes_a_for_the_pre_activation_gets_no_false_error():
    """z_j = h(a_j) makes a the pre-activation (Bishop): its a^{(1)}_j = Σ w x lines are not 'errors' to be fixed by
    renaming a to z (fails before: two index errors, 'layer (1) → (2); a → z'); they are not evaluated, and say why.
    The seed and the other notations' fixtures (a = σ(z)) are not read that way."""
    from oracles.audit.extract import extract
    from oracles.audit.markdown import split_markdown
    from oracles.audit.notation import preactivation_a

    text = _bishop_doc()
    report = audit_text(text, "bishop")
    assert not [f for f in report.findings if f.severity == "error" and f.kind != "coverage"], _findings(report)
    lines = [i + 1 for i, ln in enumerate(text.splitlines()) if ln.startswith("$$a^{(1)}")]
    why = {f.where.line: f.message for f in report.findings if f.kind == "not-evaluable"}
    for line in lines:
        assert "writes a for the pre-activation (z_j = h(a_j), line 5)" in why.get(line, ""), _findings(report)
    for path in [Path(__file__).resolve().parent.parent / "examples" / "derivations" / "seed.md",
                 *(DATA / name for name in sorted(FIXTURES))]:
        doc = path.read_text(encoding="utf-8")
        assert preactivation_a(extract(split_markdown(doc, path.name)).equations) is None, path.name
