"""Common ways of writing a step: ReLU as \\max(0, z), its derivative as the indicator \\mathbb{1}[z > 0],
CS231n's gradient names dW_2, ds, and tuples inside comma-separated lists of equations.

The fixture tests/data/audit/relu_indicator.md was written by make_relu_indicator.py; its numbers are checked
here against a separate numpy computation.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from oracles.audit import audit_text

PATH = Path(__file__).resolve().parent / "data" / "audit" / "relu_indicator.md"


def _stated(text: str, name: str) -> np.ndarray:
    body = re.search(re.escape(f"$${name} = \\begin{{pmatrix}}") + r"(.*?)\\end\{pmatrix\}\$\$", text).group(1)
    return np.array([float(x) for x in body.split("\\\\")])


def _line(text: str, start: str) -> int:
    return next(i + 1 for i, ln in enumerate(text.splitlines()) if ln.startswith(start))


def test_the_fixture_states_the_numpy_values():
    w1 = np.array([[0.5, -0.6], [-0.3, 0.8], [0.7, 0.2]])
    w2 = np.array([[0.4, -0.5, 0.3], [-0.2, 0.6, 0.1]])
    x, y = np.array([0.8, -0.4]), np.array([1.0, 0.0])
    z1 = w1 @ x + np.array([0.1, -0.2, -0.9])
    a1 = np.where(z1 > 0, z1, 0.0)
    z2 = w2 @ a1 + np.array([0.05, 0.4])
    d2 = (np.where(z2 > 0, z2, 0.0) - y) * (z2 > 0)
    d1 = (w2.T @ d2) * (z1 > 0)
    text = PATH.read_text(encoding="utf-8")
    assert np.allclose(_stated(text, "a^{(1)}"), a1, atol=5e-5) and np.allclose(_stated(text, "\\delta^{(1)}"), d1,
                                                                              atol=5e-5)
    assert (z1 < 0).any()  # the indicator masks something


def test_max_and_the_indicator_are_read_and_evaluated():
    """Fails before: '[' without a matching ']' (malformed) for \\mathbb{1}[z > 0], and "symbol 'max' is not
    defined" for \\max(0, z)."""
    text = PATH.read_text(encoding="utf-8")
    report = audit_text(text, "relu_indicator.md")
    assert [(f.where.line, f.kind, f.message) for f in report.findings] == []
    cov = report.sections["audit"]["coverage"]
    assert cov["not_evaluable"] == 0 and cov["evaluated"] == cov["checkable"] >= 10


def test_a_wrong_mask_or_a_min_is_found_on_its_line():
    text = PATH.read_text(encoding="utf-8")
    mask = _line(text, "$$\\delta^{(1)} = \\left(W")
    act = _line(text, "$$z^{(1)} =")
    lines = text.splitlines()
    lines[mask - 1] = lines[mask - 1].replace("> 0", "< 0")
    lines[act - 1] = lines[act - 1].replace("\\max", "\\min")
    report = audit_text("\n".join(lines) + "\n", "relu_wrong.md")
    assert not [f for f in report.findings if f.kind == "malformed"]
    wrong = {f.where.line for f in report.errors}
    assert {mask, act} <= wrong


def _cs231n(text: str) -> str:
    """The row-vector fixture with CS231n's gradient names: dW_2 for ∂J/∂W_2, dq for ∂J/∂q, …"""
    for name in ("W_1", "W_2", "b_2", "q", "g", "s"):
        text = text.replace(f"\\frac{{\\partial J}}{{\\partial {name}}}", f"d{name}")
    return text


def test_cs231n_d_names_are_derivatives_of_the_cost():
    """Fails before: dW_2, dq, dg read as d·W_2 ("symbol 'd' is not defined"); now each is ∂J/∂(that quantity)
    in a document that names its quantities, evaluated as the ∂J/∂… form is."""
    path = Path(__file__).resolve().parent / "data" / "audit_notation" / "rowvec_correct.md"
    base_text = path.read_text(encoding="utf-8")
    text = _cs231n(base_text)
    assert "dW_2 = g^\\top" in text and "\\partial J}{\\partial W_2}" not in text
    base, report = audit_text(base_text, "partial"), audit_text(text, "d-names")
    assert [(f.where.line, f.kind, f.message) for f in report.findings] == []
    assert report.sections["audit"]["coverage"]["evaluated"] == base.sections["audit"]["coverage"]["evaluated"]
    wrong = text.replace("dg = \\left(p - y\\right) W_2^\\top", "dg = \\left(p - y\\right) W_2")
    assert wrong != text
    line = next(i + 1 for i, ln in enumerate(wrong.splitlines()) if ln.startswith("$$dg ="))
    assert line in {f.where.line for f in audit_text(wrong, "d-names-wrong").errors}


def test_a_tuple_after_a_comma_separated_equation_stays_one_member():
    """Fails before: the commas inside (0.0688, -0.0688) split the row, so 'dW = …, db = (…, …)' was read as one
    run-together chain dW = … db = (…."""
    from oracles.audit.extract import extract
    from oracles.audit.markdown import split_markdown

    doc = split_markdown("$$W_2 = \\begin{pmatrix} 0.5 \\\\ 0.1 \\end{pmatrix}, \\quad b_2 = (0.0688, -0.0688)$$\n",
                         "t")
    eqs = extract(doc).equations
    assert [len(e.members) for e in eqs] == [2, 2]
    assert [e.members[0].name for e in eqs] == ["W", "b"]
