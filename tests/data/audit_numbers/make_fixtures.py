# ruff: noqa: E501 - the template is a Markdown document whose lines are as long as its equations
"""Write index_propagation.md: an index-notation worked example whose one wrong number is reused later.

Every number is computed here with plain numpy (no manualbp, no auditor). δ_2^{(3)} is stated wrong (its digits
slip); the next steps copy the wrong value into their arithmetic or multiply it by a right one; one later step
has an unrelated typo of its own. Run from the repository root: python tests/data/audit_numbers/make_fixtures.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests/data: fixture_math, shared by the generators
from fixture_math import sig  # noqa: E402

W2 = np.array([[0.4, -0.7], [0.9, 0.2]])
B2 = np.array([-0.1, 0.3])
W3 = np.array([[-0.5, 0.6], [0.8, 0.3]])
B3 = np.array([0.2, -0.4])
X = np.array([0.3, 0.9])
Y = np.array([0, 1])
WRONG_D3 = 1  # the entry of δ^{(3)} stated wrong (0-based)


def r4(v: float) -> float:
    return float(np.round(v, 4))


def r5(v: float) -> float:
    return float(np.round(v, 5))


def values() -> dict:
    """The exact worked example and the document's stated (rounded, one wrong) numbers."""
    z2 = W2 @ X + B2
    a2 = sig(z2)
    z3 = W3 @ a2 + B3
    a3 = sig(z3)
    sp3, sp2 = a3 * (1 - a3), a2 * (1 - a2)
    d3 = (a3 - Y) * sp3
    d2 = (W3.T @ d3) * sp2
    exact = {"z2": z2, "a2": a2, "z3": z3, "a3": a3, "sp3": sp3, "sp2": sp2, "d3": d3, "d2": d2,
             "dw3_12": d3[0] * a2[1], "dw3_21": d3[1] * a2[0], "dw2_12": d2[0] * X[1]}
    s = {k: np.round(v, 4) for k, v in exact.items() if k in ("a2", "a3", "sp3", "sp2")}
    d3_stated = np.round((s["a3"] - Y) * s["sp3"], 4)
    right = d3_stated[WRONG_D3]
    digits = f"{abs(right):.4f}"
    slipped = digits[:-2] + digits[-1] + digits[-2]  # the last two digits swapped
    assert slipped != digits
    d3_stated[WRONG_D3] = float(slipped) * np.sign(right)
    d2_stated = np.array([r5((W3[0, 0] * d3_stated[0] + W3[1, 0] * d3_stated[1]) * s["sp2"][0]),
                          r5((W3[0, 1] * d3_stated[0] + W3[1, 1] * d3_stated[1]) * s["sp2"][1])])
    stated = {**s, "d3": d3_stated, "d2": d2_stated,
              "dw3_21": r5(d3_stated[1] * exact["a2"][0]),  # the wrong δ times the right a
              "dw2_12": r5(d2_stated[0] * X[1] + 0.01)}  # a typo of its own
    return {"exact": exact, "stated": stated}


def document() -> str:
    v = values()["stated"]
    n = lambda x: f"{x:g}"  # noqa: E731
    par = lambda x: f"({x:g})" if x < 0 else f"{x:g}"  # noqa: E731
    return rf"""# Backpropagation with indices: one hand-worked step

Network: 2 inputs (layer 1), 2 sigmoid hidden units (layer 2), 2 sigmoid outputs (layer 3); $w_{{jk}}^{{(l)}}$
joins unit $k$ of layer $l-1$ to unit $j$ of layer $l$, and the cost is
$C = \frac{{1}}{{2}}\sum_{{j=1}}^{{2}} \left(a_j^{{(3)}} - y_j\right)^2$.

$$z_j^{{(l)}} = \sum_{{k=1}}^{{2}} w_{{jk}}^{{(l)}} a_k^{{(l-1)}} + b_j^{{(l)}}, \qquad a_j^{{(l)}} = \sigma\left(z_j^{{(l)}}\right)$$

with $a_k^{{(1)}} = x_k$. With $\delta_j^{{(l)}} = \partial C / \partial z_j^{{(l)}}$:

$$\delta_j^{{(3)}} = \left(a_j^{{(3)}} - y_j\right) \sigma'\left(z_j^{{(3)}}\right), \qquad \delta_k^{{(2)}} = \left(\sum_{{j=1}}^{{2}} w_{{jk}}^{{(3)}} \delta_j^{{(3)}}\right) \sigma'\left(z_k^{{(2)}}\right)$$

$$\frac{{\partial C}}{{\partial w_{{jk}}^{{(l)}}}} = \delta_j^{{(l)}} a_k^{{(l-1)}}$$

**Numbers.** $x = ({n(X[0])}, {n(X[1])})$, $y = ({Y[0]}, {Y[1]})$,
$w^{{(2)}} = \begin{{pmatrix}} {n(W2[0, 0])} & {n(W2[0, 1])} \\ {n(W2[1, 0])} & {n(W2[1, 1])} \end{{pmatrix}}$, $b^{{(2)}} = ({n(B2[0])}, {n(B2[1])})$,
$w^{{(3)}} = \begin{{pmatrix}} {n(W3[0, 0])} & {n(W3[0, 1])} \\ {n(W3[1, 0])} & {n(W3[1, 1])} \end{{pmatrix}}$, $b^{{(3)}} = ({n(B3[0])}, {n(B3[1])})$.

- $a_1^{{(2)}} = {n(v["a2"][0])}$, $a_2^{{(2)}} = {n(v["a2"][1])}$
- $a_1^{{(3)}} = {n(v["a3"][0])}$, $a_2^{{(3)}} = {n(v["a3"][1])}$
- $\delta_1^{{(3)}} = ({n(v["a3"][0])} - {Y[0]})({n(v["sp3"][0])}) = {n(v["d3"][0])}$
- $\delta_2^{{(3)}} = ({n(v["a3"][1])} - {Y[1]})({n(v["sp3"][1])}) = {n(v["d3"][1])}$
- $\delta_1^{{(2)}} = ({n(W3[0, 0])} \cdot {par(v["d3"][0])} + {n(W3[1, 0])} \cdot {par(v["d3"][1])})({n(v["sp2"][0])}) = {n(v["d2"][0])}$
- $\delta_2^{{(2)}} = ({n(W3[0, 1])} \cdot {par(v["d3"][0])} + {n(W3[1, 1])} \cdot {par(v["d3"][1])})({n(v["sp2"][1])}) = {n(v["d2"][1])}$
- $\partial C / \partial w_{{21}}^{{(3)}} = \delta_2^{{(3)}} a_1^{{(2)}} = {n(v["dw3_21"])}$
- $\partial C / \partial w_{{12}}^{{(2)}} = \delta_1^{{(2)}} a_2^{{(1)}} = {n(v["dw2_12"])}$
"""


if __name__ == "__main__":
    (HERE / "index_propagation.md").write_text(document(), encoding="utf-8")
