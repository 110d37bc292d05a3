"""Reading LaTeX for the audit: malformed input is a finding with its line; the notation families mean
what they say (values checked against manualbp, derivatives against manualbp's backward pass)."""

from __future__ import annotations

import numpy as np
import pytest

from manualbp import backward, forward
from manualbp.example import seed_case
from oracles.audit import audit_text
from oracles.audit.extract import extract
from oracles.audit.latex import parse_expr, structure
from oracles.audit.markdown import split_markdown
from oracles.audit.semantics import Convention, Env, Instance, evaluate


def _kinds(text: str) -> list[tuple[int, str]]:
    return sorted((f.where.line, f.kind) for f in audit_text(text, "t").findings)


@pytest.mark.parametrize("latex, what", [
    (r"x = \begin{cases} 1 \\ 2 \end{pmatrix}", r"\begin{cases} is closed by \end{pmatrix}"),
    (r"x = \begin{bmatrix} 1 & 2 \\ 3", "never closed"),
    (r"x = \frac{1}{2 + y", "'{' is never closed"),
    (r"x = \left( 1 + y", r"without a matching \right"),
    (r"x = 1 + \frac", r"\frac is missing"),
    (r"x = y }", "'}' without a matching '{'"),
    (r"x = 1 \end{cases}", r"\end{cases} without a matching"),
])
def test_malformed_input_is_a_finding_with_its_line(latex, what):
    text = "intro\n\nmore text\n\n$$" + latex + "$$\n"
    report = audit_text(text, "t")
    mal = [f for f in report.findings if f.kind == "malformed"]
    assert mal and all(f.where.line == 5 for f in mal), [(f.where.line, f.message) for f in report.findings]
    assert any(what in f.message for f in mal), [f.message for f in mal]


def test_unclosed_dollars_are_reported():
    assert (3, "malformed") in _kinds("text\n\n$$ z = 1 \n\nmore")


def test_mismatched_environment_repair_is_the_missing_end():
    items, problems = structure(r"\sigma \begin{pmatrix} \begin{cases} z \\ y \end{pmatrix}")
    (p,) = problems
    assert p.edit[2].strip() == r"\end{cases}"


def _seed_env() -> tuple[Env, object, object]:
    case = seed_case()
    return Env(Instance(case, "seed"), Convention()), forward(case), backward(case)


def _val(latex: str, env: Env):
    items, problems = structure(latex)
    node = parse_expr(items, problems, latex)
    assert not problems, problems
    return np.real(evaluate(node, env))


def test_notation_families_mean_the_same_quantities():
    env, fwd, bwd = _seed_env()
    a3 = fwd.a[3]
    W3 = seed_case().weights[2]
    for latex in (r"a^{(3)}", r"\mathbf{a}^{(3)}",
                  r"\begin{cases} a_1^{(3)} \\ a_2^{(3)} \\ a_3^{(3)} \\ a_4^{(3)} \end{cases}",
                  r"\left\{ a_1^{(3)} \\ a_2^{(3)} \\ a_3^{(3)} \\ a_4^{(3)} \right\}",
                  r"\begin{pmatrix} a_{1}^{(3)} \\ a_{2}^{(3)} \\ a_{3}^{(3)} \\ a_{4}^{(3)} \end{pmatrix}",
                  r"\left\{ \begin{aligned} a_1^{(3)} \\ a_2^{(3)} \\ a_3^{(3)} \\ a_4^{(3)} \end{aligned} \right\}"):
        assert np.allclose(_val(latex, env), a3), latex
    for latex in (r"w^{(3)}{}^{T}", r"\left[w^{(3)} \right]^T", r"W^{(3)^T}", r"\left(\mathbf{W}^{(3)}\right)^{\top}"):
        assert np.allclose(_val(latex, env), W3.T), latex
    assert np.allclose(_val(r"\frac{1}{10} \begin{bmatrix} 1 & 2 & 3 & 4 \\ 5 & 6 & 7 & 8 \end{bmatrix}", env), W3)
    assert np.allclose(_val(r"[0.5 \quad 1 \quad 1.5]", env), [[0.5, 1.0, 1.5]])
    assert np.isclose(_val(r"-2.13 \times 0.19", env), -2.13 * 0.19)
    assert np.allclose(_val(r"\delta^{(4)} \odot \sigma'(z^{(4)})", env), bwd.dC_db[3])
    assert np.allclose(_val(r"\frac{\partial C}{\partial b^{(3)}} a^{(3)^T}", env), bwd.dC_dW[3])


def test_partial_derivatives_follow_the_network():
    env, fwd, bwd = _seed_env()
    # ∂C/∂w_{ij}^{(L)} by complex step through the graph equals manualbp's gradient
    for L in (1, 2, 3):
        for i, j in ((1, 1), (2, 3)):
            e = env.with_assign(L=L, i=i, j=j)
            g = _val(r"\frac{\partial \mathcal{C}}{\partial w_{ij}^{(L)}}", e)
            assert np.isclose(g, bwd.dC_dW[L][i - 1, j - 1], rtol=1e-10)
    assert np.allclose(_val(r"\frac{\partial C}{\partial a^{(2)}}", env), bwd.delta[2])
    # ∂σ(z)/∂a is zero in the graph (σ(z) reads z, upstream of a); ∂σ(z)/∂z is σ'(z)
    e = env.with_assign(k=1)
    assert _val(r"\frac{\partial \sigma(z_k^{(3)})}{\partial a_k^{(3)}}", e) == 0
    assert np.isclose(_val(r"\frac{\partial \sigma(z_k^{(3)})}{\partial z_k^{(3)}}", e), bwd.sigma_prime[3][0])


def test_equations_are_split_the_way_they_are_written():
    text = ("$$\\begin{split} a &= b \\\\ &= c \\\\ d &= e \\end{split}$$\n\n"
            "$$w^{(1)} = 1, b^{(1)} = 2$$\n\n$$f = g$$\n\n$$= h$$\n")
    eqs = extract(split_markdown(text)).equations
    assert [len(e.members) for e in eqs] == [3, 2, 2, 2, 3]


@pytest.mark.parametrize("row, equations", [
    (r"z^{(l)} = W^{(l)} a^{(l-1)} + b^{(l)}, \qquad a^{(l)} = \sigma(z^{(l)}), \qquad l = 1, 2, 3.", 2),
    (r"a^{(l)} = \sigma(z^{(l)}), \quad l = 1, 2, \dots, L", 1),
    (r"a = 1, \quad b = 2", 2),
])
def test_an_index_range_ending_a_list_of_equations_is_not_an_equation(row, equations):
    """Fails before: 'l = 1, 2, 3' glued the row into one broken chain (an 'empty expression' on the line)."""
    eqs = extract(split_markdown(f"$${row}$$\n")).equations
    assert len(eqs) == equations and all(len(e.members) == 2 for e in eqs)


def test_a_tuple_of_numbers_stated_for_a_vector_is_that_vector():
    """(0.1, 0.55) written for a 2-vector is its entries, not a 1×2 matrix: checked entry by entry."""
    case = seed_case()
    z2 = np.real(forward(case).z[2])
    text = (r"$$z^{(2)} = W^{(1)} a^{(1)} + b^{(1)}$$" + "\n\n" + _seed_bindings(case)
            + "$z^{(2)} = (" + ", ".join(f"{v:.4f}" for v in z2) + ")$\n\n"
            + "$z^{(2)} = (" + ", ".join(f"{v + 0.01:.4f}" for v in z2) + ")$\n")
    found = [(f.where.line, f.kind) for f in audit_text(text, "t").findings if f.severity == "error"]
    assert found == [(len(text.splitlines()), "arithmetic")] * len(z2)


def _seed_bindings(case) -> str:
    """The seed network's parameters, input and target as the worked example of a document."""
    def vec(v):
        return r"\begin{pmatrix} " + r" \\ ".join(f"{x:g}" for x in np.ravel(v)) + r" \end{pmatrix}"

    def mat(m):
        return r"\begin{pmatrix} " + r" \\ ".join(" & ".join(f"{x:g}" for x in row) for row in m) + r" \end{pmatrix}"
    lines = [f"$$x = {vec(case.x)}, \\quad y = {vec(case.y)}$$"]
    lines += [f"$$W^{{({k})}} = {mat(W)}, \\quad b^{{({k})}} = {vec(b)}$$"
              for k, (W, b) in enumerate(zip(case.weights, case.biases), start=1)]
    return "\n\n".join(lines) + "\n\n"


def test_a_letter_the_document_gives_a_number_is_that_number():
    """'over the $N = 2$ outputs': N is 2 wherever the equations use it (fails before: 'N is not defined')."""
    case = seed_case()
    n = case.arch.widths[-1]
    text = (f"The cost averages over the $N = {n}$ outputs:\n\n"
            r"$$C = \frac{1}{2N} \sum_{k=1}^{N} \left(a^{(4)}_k - y_k\right)^2$$" + "\n\n"
            r"$$\frac{\partial C}{\partial a^{(4)}} = \frac{1}{N} \left(a^{(4)} - y\right)$$" + "\n\n"
            r"$$\frac{\partial C}{\partial z^{(4)}} = \frac{1}{N} \left(a^{(4)} - y\right) \odot \sigma'(z^{(4)})$$"
            "\n\n" + _seed_bindings(case))
    report = audit_text(text, "t")
    cov = report.sections["audit"]["coverage"]
    assert [f.message for f in report.findings if f.severity in ("error", "warning")] == []
    assert cov["evaluated"] == cov["checkable"] == 2
    wrong = text.replace(r"\frac{1}{N} \left(a^{(4)} - y\right)$$", r"\frac{2}{N} \left(a^{(4)} - y\right)$$")
    assert [f.where.line for f in audit_text(wrong, "t").findings if f.severity == "error"] == [5]
