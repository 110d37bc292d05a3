"""The audit says what it could and could not evaluate, and never stops early on a valid document.

Expected numbers are computed here with numpy, independently of manualbp and of the documents.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from oracles.audit import audit_file, audit_text
from oracles.cli import main
from tests.audit_net import B1, B2, W1, W2, X, col, mat

DATA = Path(__file__).resolve().parent / "data" / "audit"

Y = np.array([1.0, 0.0])


def _col(v, d: int = 4) -> str:
    return col(v, f".{d}f")


def tanh_sigmoid_bce_doc(a1=None) -> tuple[str, dict]:
    """A tanh hidden layer, a sigmoid output and binary cross-entropy, with its worked example."""
    z1 = W1 @ X + B1
    a1_true = np.tanh(z1)
    a1 = a1_true if a1 is None else a1
    z2 = W2 @ a1_true + B2
    a2 = 1 / (1 + np.exp(-z2))
    d2 = a2 - Y
    d1 = (W2.T @ d2) * (1 - a1_true ** 2)
    text = f"""# tanh hidden, sigmoid output, cross-entropy

Input is layer $0$ ($a^{{(0)}} = x$) and $\\delta^{{(l)}} = \\partial C / \\partial z^{{(l)}}$.

$$C = -\\sum_{{k=1}}^{{2}} \\left[ y_k \\log a_k^{{(2)}} + (1 - y_k) \\log\\left(1 - a_k^{{(2)}}\\right) \\right]$$

$$a^{{(1)}} = \\tanh\\left(z^{{(1)}}\\right)$$

$$\\delta^{{(2)}} = a^{{(2)}} - y$$

$$\\delta^{{(1)}} = \\left(W^{{(2)}}\\right)^T \\delta^{{(2)}} \\odot \\left(1 - \\left(a^{{(1)}}\\right)^2\\right)$$

## Numbers

$$W^{{(1)}} = {mat(W1)}, b^{{(1)}} = {_col(B1, 1)}$$

$$W^{{(2)}} = {mat(W2)}, b^{{(2)}} = {_col(B2, 1)}$$

$$x = {_col(X, 1)}, y = {_col(Y, 0)}$$

$$a^{{(1)}} = \\tanh\\left(z^{{(1)}}\\right) = {_col(a1)}$$

$$\\delta^{{(1)}} = {_col(d1)}$$
"""
    return text, {"a1": a1_true, "d1": d1}


def test_tanh_hidden_sigmoid_output_bce_is_audited():
    """Fails before: every candidate model raised 'cost bce needs a sigmoid output' and the auditor stopped."""
    text, _ = tanh_sigmoid_bce_doc()
    report = audit_text(text, "tanh-bce")
    assert [(f.kind, f.message) for f in report.findings] == []
    cov = report.sections["audit"]["coverage"]
    assert cov["worked_example_read"] and cov["numbers_checked"] == 2 and cov["evaluated"] >= 4


def test_tanh_bce_wrong_number_is_found_with_the_true_value():
    text, true = tanh_sigmoid_bce_doc()
    wrong = true["a1"].copy()
    wrong[1] += 0.0045  # a transposed digit's worth
    report = audit_text(tanh_sigmoid_bce_doc(a1=wrong)[0], "tanh-bce-wrong")
    errors = [f for f in report.errors]
    assert [f.kind for f in errors] == ["arithmetic"]
    assert float(errors[0].fix) == round(true["a1"][1], 4)
    assert not [f for f in report.findings if f.kind == "internal"]


def test_nothing_evaluable_exits_1_and_says_so(capsys):
    """Fails before: exit 0 and '… equations checked' for a document of which nothing was evaluated."""
    path = DATA / "unreadable_notation.md"
    assert main(["audit", str(path), "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    cov = data["sections"]["audit"]["coverage"]
    assert cov["evaluated"] == 0 and cov["read"] == cov["definitions"] + cov["not_evaluable"]
    kinds = [(f["kind"], f["severity"]) for f in data["findings"]]
    assert ("coverage", "error") in kinds
    lines = path.read_text().splitlines()
    not_eval = [f for f in data["findings"] if f["kind"] == "not-evaluable"]
    # each names its line, and the line holds math
    assert not_eval and all("$" in lines[f["where"]["line"] - 1] or "\\" in lines[f["where"]["line"] - 1]
                            for f in not_eval)
    assert {e["line"] for e in cov["not_evaluable_equations"]} <= {f["where"]["line"] for f in not_eval}
    unread = [f for f in not_eval if "worked example" in f["message"] and "could not read one" in f["message"]]
    assert len(unread) == 1 and "bmatrix" in lines[unread[0]["where"]["line"] - 1]  # the first stated numbers
    assert "0 evaluated" in data["checks"][0]["summary"]


def test_partly_evaluable_document_counts_honestly():
    text, _ = tanh_sigmoid_bce_doc()
    text += "\n$$\\frac{\\partial L}{\\partial q} = q \\star r$$\n"
    report = audit_text(text, "partly")
    cov = report.sections["audit"]["coverage"]
    assert cov["not_evaluable"] == 1 and cov["evaluated"] >= 4
    (f,) = [f for f in report.findings if f.kind == "not-evaluable"]
    assert f.severity == "warning" and f.where.line == text.count("\n")
    assert not report.errors


def test_markdown_and_html_reports_carry_the_coverage(tmp_path):
    path = DATA / "unreadable_notation.md"
    for fmt in ("md", "html"):
        out = tmp_path / f"r.{fmt}"
        assert main(["audit", str(path), "--format", fmt, "-o", str(out)]) == 1
        body = out.read_text()
        assert "0 evaluated" in body and "not evaluable" in body
        if fmt == "html":
            assert "0 of 6 equations evaluated" in body  # the audit section's lead says so too



def test_an_equation_blocked_by_another_line_names_that_line():
    """An equation that differentiates the document's own C, which cannot be evaluated, says where the
    problem is (the definition of C), not just the error as if it were in the equation itself."""
    text, _ = tanh_sigmoid_bce_doc()
    lines = text.splitlines()
    c_line = next(i + 1 for i, ln in enumerate(lines) if ln.startswith("$$C ="))
    lines[c_line - 1] = "$$C = \\sum_{k=1}^{2} \\operatorname{huber}\\left(a_k^{(2)} - y_k\\right)$$"
    lines.append("$$\\frac{\\partial C}{\\partial a^{(2)}} = a^{(2)} - y$$")
    report = audit_text("\n".join(lines) + "\n", "blocked")
    last = [f for f in report.findings if f.where.line == len(lines)]
    assert [f.kind for f in last] == ["not-evaluable"]
    assert f"on line {c_line}" in last[0].message


def test_a_lone_number_is_not_taken_for_a_worked_example():
    text = ("$$\\sigma(x) = \\frac{1}{1 + e^{-x}}$$\n\n$$\\sigma'(x) = \\sigma(x)\\left(1 - \\sigma(x)\\right)$$\n\n"
            "With learning rate $\\eta = 0.1$.\n")
    report = audit_text(text, "symbolic")
    assert not [f for f in report.findings if "worked example" in f.message and f.severity != "info"]
    assert report.sections["audit"]["coverage"]["evaluated"] >= 1


def test_a_document_mostly_not_evaluated_is_not_vouched_for(capsys):
    """Fails before: 4 of 9 checkable equations evaluated, nothing wrong found, exit 0 and passed.  The bar:
    at least half of the equations that are not definitions or given values must be evaluated."""
    path = DATA / "mostly_unreadable.md"
    assert main(["audit", str(path), "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    cov = data["sections"]["audit"]["coverage"]
    assert (cov["evaluated"], cov["checkable"], cov["enough"]) == (4, 9, False)
    (bar,) = [f for f in data["findings"] if f["kind"] == "coverage"]
    assert bar["severity"] == "error" and "only 4 of 9 equations could be evaluated" in bar["message"]
    assert not data["checks"][0]["passed"] and "4 evaluated (of 9 checkable)" in data["checks"][0]["summary"]
    # one unreadable display fewer: 4 of 8, exactly half, is enough
    text = path.read_text(encoding="utf-8")
    half = audit_text(text[:text.rindex("$$\\Delta")], "half")
    assert half.sections["audit"]["coverage"]["enough"] and not half.errors


def test_the_shipped_correct_derivations_clear_the_coverage_bar():
    """Every correct example this project ships is evaluated well above the bar and passes."""
    root = Path(__file__).resolve().parents[1]
    paths = sorted((root / "examples" / "derivations").glob("correct-*.md"))
    paths += sorted((root / "tests" / "data" / "audit_notation").glob("*_correct.md"))
    assert len(paths) >= 10
    for p in paths:
        cov = audit_file(p).sections["audit"]["coverage"]
        assert cov["enough"] and cov["evaluated"] >= 0.8 * cov["checkable"], p.name
