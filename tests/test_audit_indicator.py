"""ReLU written the usual ways: \\max(0, z) for the activation, the indicator \\mathbb{1}[z > 0] for its derivative.

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
