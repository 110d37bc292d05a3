# ruff: noqa: E501 - the template is a Markdown document whose lines are as long as its equations
"""Write relu_indicator.md: a ReLU network whose activation is written \\max(0, z) and its derivative as the
indicator \\mathbb{1}[z > 0].

Every number is computed here with plain numpy (no manualbp, no auditor), rounded to 4 decimals.
Run from the repository root: python tests/data/audit/make_relu_indicator.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
W1 = np.array([[0.5, -0.6], [-0.3, 0.8], [0.7, 0.2]])
B1 = np.array([0.1, -0.2, -0.9])
W2 = np.array([[0.4, -0.5, 0.3], [-0.2, 0.6, 0.1]])
B2 = np.array([0.05, 0.4])
X = np.array([0.8, -0.4])
Y = np.array([1.0, 0.0])


def values() -> dict:
    """Forward and backward pass: ReLU layers, C = ½ Σ (a − y)², δ = ∂C/∂z."""
    z1 = W1 @ X + B1
    a1 = np.maximum(0.0, z1)
    z2 = W2 @ a1 + B2
    a2 = np.maximum(0.0, z2)
    d2 = (a2 - Y) * (z2 > 0)
    d1 = (W2.T @ d2) * (z1 > 0)
    return {"z1": z1, "a1": a1, "z2": z2, "a2": a2, "d2": d2, "d1": d1}


def col(v) -> str:
    return r"\begin{pmatrix} " + r" \\ ".join(f"{float(x) + 0.0:.4f}" for x in v) + r" \end{pmatrix}"


def mat(m) -> str:
    return r"\begin{pmatrix} " + r" \\ ".join(" & ".join(f"{x:g}" for x in r) for r in m) + r" \end{pmatrix}"


def document() -> str:
    v = values()
    assert (v["z1"] > 0).any() and (v["z1"] < 0).any() and (v["z2"] > 0).all()  # the hidden mask matters
    return rf"""# A ReLU hidden layer, by hand

The input is layer $0$; every layer is ReLU, and
$C = \frac{{1}}{{2}}\sum_k \left(a_k^{{(2)}} - y_k\right)^2$, with $\delta^{{(l)}} = \partial C / \partial z^{{(l)}}$.

$$z^{{(1)}} = W^{{(1)}} x + b^{{(1)}}, \qquad a^{{(1)}} = \max\left(0, z^{{(1)}}\right)$$

$$z^{{(2)}} = W^{{(2)}} a^{{(1)}} + b^{{(2)}}, \qquad a^{{(2)}} = \max\left(0, z^{{(2)}}\right)$$

The derivative of the ReLU is the indicator of a positive input, $\mathrm{{ReLU}}'(z) = \mathbb{{1}}[z > 0]$, so

$$\delta^{{(2)}} = \left(a^{{(2)}} - y\right) \odot \mathbb{{1}}\left[z^{{(2)}} > 0\right]$$

$$\delta^{{(1)}} = \left(W^{{(2)}}\right)^T \delta^{{(2)}} \odot \mathbb{{1}}\left[z^{{(1)}} > 0\right]$$

## Numbers

$$W^{{(1)}} = {mat(W1)}, \quad b^{{(1)}} = \begin{{pmatrix}} {B1[0]:g} \\ {B1[1]:g} \\ {B1[2]:g} \end{{pmatrix}}$$

$$W^{{(2)}} = {mat(W2)}, \quad b^{{(2)}} = \begin{{pmatrix}} {B2[0]:g} \\ {B2[1]:g} \end{{pmatrix}}$$

$$x = \begin{{pmatrix}} {X[0]:g} \\ {X[1]:g} \end{{pmatrix}}, \quad y = \begin{{pmatrix}} {Y[0]:g} \\ {Y[1]:g} \end{{pmatrix}}$$

$$a^{{(1)}} = {col(v["a1"])}$$

$$a^{{(2)}} = {col(v["a2"])}$$

$$\delta^{{(2)}} = {col(v["d2"])}$$

$$\delta^{{(1)}} = {col(v["d1"])}$$
"""


if __name__ == "__main__":
    (HERE / "relu_indicator.md").write_text(document(), encoding="utf-8")
