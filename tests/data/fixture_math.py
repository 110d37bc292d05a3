"""What the fixture generators under tests/data/ share: the numbers of a small sigmoid network, by plain numpy
(no manualbp, no auditor), and how a number or a matrix is written into a derivation (4 decimals)."""

from __future__ import annotations

import numpy as np


def sig(z):
    return 1.0 / (1.0 + np.exp(-z))


def f(v: float) -> str:
    """A number as the fixtures state it: 4 decimals."""
    return f"{float(v):.4f}"


def mat(m, env: str = "pmatrix") -> str:
    """A matrix (or a row) as a LaTeX matrix environment of 4-decimal numbers."""
    return rf"\begin{{{env}}} " + r" \\ ".join(" & ".join(f(x) for x in row) for row in np.atleast_2d(m)) \
        + rf" \end{{{env}}}"


def two_sigmoid_layers(W1, b1, W2, b2, x, y) -> dict:
    """Forward and backward pass of x → σ(W1 x + b1) → σ(W2 a1 + b2) with C = ½‖a2 − y‖² and δ = ∂C/∂z:
    z1, a1, z2, a2, C, d2, back = W2ᵀ d2, d1."""
    z1 = W1 @ x + b1
    a1 = sig(z1)
    z2 = W2 @ a1 + b2
    a2 = sig(z2)
    d2 = (a2 - y) * a2 * (1 - a2)
    back = W2.T @ d2
    return dict(z1=z1, a1=a1, z2=z2, a2=a2, C=0.5 * np.sum((a2 - y) ** 2), d2=d2, back=back,
                d1=back * a1 * (1 - a1))
