# ruff: noqa: E501 - the templates are Markdown documents whose lines are as long as their equations
"""Write the notation fixtures: derivations in Nielsen's, bold/aligned and tanh + cross-entropy notation.

Every number is computed here with plain numpy (no manualbp), then rounded to 4 decimals.
Run from the repository root: python tests/data/audit_notation/make_fixtures.py
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests/data: fixture_math, shared by the generators
from fixture_math import f, mat, sig, two_sigmoid_layers  # noqa: E402


def col(v, env="pmatrix") -> str:
    return rf"\begin{{{env}}} " + r" \\ ".join(f(x) for x in np.ravel(v)) + rf" \end{{{env}}}"


def nielsen() -> str:
    """2-3-2 sigmoid network, quadratic cost, Nielsen's bare superscripts (input = layer 1, L = 3)."""
    W2 = np.array([[0.2, -0.4], [0.7, 0.1], [-0.3, 0.5]])
    b2 = np.array([0.1, -0.2, 0.3])
    W3 = np.array([[0.6, -0.1, 0.4], [-0.5, 0.3, 0.2]])
    b3 = np.array([0.05, -0.1])
    x = np.array([0.5, -0.2])
    y = np.array([0.9, 0.1])
    n = two_sigmoid_layers(W2, b2, W3, b3, x, y)  # Nielsen's layers 2 and 3
    z2, a2, z3, a3, C, d3, d2 = (n[k] for k in ("z1", "a1", "z2", "a2", "C", "d2", "d1"))
    return rf"""# Backpropagation in Nielsen's notation: a 2-3-2 network

The input is layer $1$ and the output layer is $L$ (here $L = 3$); $w^l_{{jk}}$ is the weight from
neuron $k$ in layer $l-1$ to neuron $j$ in layer $l$. Every neuron is a sigmoid neuron; the cost is

$$C = \frac{{1}}{{2}} \sum_j \left(y_j - a^L_j\right)^2$$

$$z^l_j = \sum_k w^l_{{jk}} a^{{l-1}}_k + b^l_j, \quad a^l_j = \sigma\left(z^l_j\right)$$

$$z^l = w^l a^{{l-1}} + b^l$$

with $\sigma(z) = 1/(1+e^{{-z}})$, so that $\sigma'(z) = \sigma(z)\left(1 - \sigma(z)\right)$.
The error of neuron $j$ in layer $l$ is $\delta^l_j = \frac{{\partial C}}{{\partial z^l_j}}$.

$$\delta^L = \left(a^L - y\right) \odot \sigma'\left(z^L\right)$$

$$\delta^l_j = \sum_k w^{{l+1}}_{{kj}} \delta^{{l+1}}_k \sigma'\left(z^l_j\right)$$

$$\delta^l = \left(\left(w^{{l+1}}\right)^T \delta^{{l+1}}\right) \odot \sigma'\left(z^l\right)$$

$$\frac{{\partial C}}{{\partial b^l_j}} = \delta^l_j, \qquad \frac{{\partial C}}{{\partial w^l_{{jk}}}} = a^{{l-1}}_k \delta^l_j$$

## Worked example

$$x = a^1 = {col(x)}, \quad y = {col(y)}$$

$$w^2 = {mat(W2)}, \quad b^2 = {col(b2)}$$

$$w^3 = {mat(W3)}, \quad b^3 = {col(b3)}$$

$$z^2 = w^2 a^1 + b^2 = {col(z2)}$$

$$a^2 = \sigma\left(z^2\right) = {col(a2)}$$

$$z^3 = w^3 a^2 + b^3 = {col(z3)}$$

$$a^3 = \sigma\left(z^3\right) = {col(a3)}$$

$$C = \frac{{1}}{{2}} \left\| a^3 - y \right\|^2 = {f(C)}$$

$$\delta^3 = \left(a^3 - y\right) \odot a^3 \odot \left(1 - a^3\right) = {col(d3)}$$

$$\delta^2 = \left(\left(w^3\right)^T \delta^3\right) \odot \sigma'\left(z^2\right) = {col(d2)}$$

$$\frac{{\partial C}}{{\partial w^3}} = \delta^3 \left(a^2\right)^T = {mat(np.outer(d3, a2))}$$

$$\frac{{\partial C}}{{\partial b^2}} = \delta^2 = {col(d2)}$$
"""


def bold() -> str:
    """3-2-2 sigmoid network, ½‖a − y‖², bold symbols, layer 0 = input, transposes in every notation."""
    W1 = np.array([[0.4, -0.3, 0.2], [0.1, 0.6, -0.5]])
    b1 = np.array([0.2, -0.1])
    W2 = np.array([[0.3, -0.7], [0.8, 0.2]])
    b2 = np.array([-0.1, 0.05])
    x = np.array([1.0, -1.0, 2.0])
    y = np.array([0.2, 0.7])
    n = two_sigmoid_layers(W1, b1, W2, b2, x, y)
    z1, a1, z2, a2, C, d2, back, d1 = (n[k] for k in ("z1", "a1", "z2", "a2", "C", "d2", "back", "d1"))
    return rf"""# A two-layer network in matrix form

Layer $0$ is the input, $\mathbf{{a}}^{{(0)}} = \mathbf{{x}}$; $\mathbf{{W}}^{{(l)}}$ maps layer $l-1$ to layer $l$;
$\boldsymbol{{\delta}}^{{(l)}} = \partial C / \partial \mathbf{{z}}^{{(l)}}$. Sigmoid units, squared-error loss.

$$
\begin{{aligned}}
\mathbf{{z}}^{{(l)}} &= \mathbf{{W}}^{{(l)}} \mathbf{{a}}^{{(l-1)}} + \mathbf{{b}}^{{(l)}}, &\quad \mathbf{{a}}^{{(l)}} &= \sigma\left(\mathbf{{z}}^{{(l)}}\right) \\
C &= \tfrac{{1}}{{2}} \lVert \mathbf{{a}}^{{(2)}} - \mathbf{{y}} \rVert^2
\end{{aligned}}
$$

$$
\begin{{aligned}}
\boldsymbol{{\delta}}^{{(2)}} &= \left(\mathbf{{a}}^{{(2)}} - \mathbf{{y}}\right) \odot \sigma'\!\left(\mathbf{{z}}^{{(2)}}\right) \\
\boldsymbol{{\delta}}^{{(1)}} &= \left(\mathbf{{W}}^{{(2)\top}} \boldsymbol{{\delta}}^{{(2)}}\right) \odot \sigma'\left(\mathbf{{z}}^{{(1)}}\right) \\
\frac{{\partial C}}{{\partial \mathbf{{W}}^{{(2)}}}} &= \boldsymbol{{\delta}}^{{(2)}} \mathbf{{a}}^{{(1)T}}, \qquad \frac{{\partial C}}{{\partial \mathbf{{b}}^{{(2)}}}} = \boldsymbol{{\delta}}^{{(2)}} \\
\frac{{\partial C}}{{\partial \mathbf{{W}}^{{(1)}}}} &= \boldsymbol{{\delta}}^{{(1)}} \left(\mathbf{{a}}^{{(0)}}\right)^\top
\end{{aligned}}
$$

$$\boldsymbol{{\delta}}^{{(1)}} = \left(\left(\mathbf{{W}}^{{(2)}}\right)^{{T}} \boldsymbol{{\delta}}^{{(2)}}\right) \odot \mathbf{{a}}^{{(1)}} \odot \left(1 - \mathbf{{a}}^{{(1)}}\right)$$

## Worked example

$$
\mathbf{{W}}^{{(1)}} = {mat(W1, "bmatrix")}, \;
\mathbf{{b}}^{{(1)}} = {col(b1, "bmatrix")}, \;
\mathbf{{W}}^{{(2)}} = {mat(W2, "bmatrix")}, \;
\mathbf{{b}}^{{(2)}} = {col(b2, "bmatrix")}
$$

$$\mathbf{{x}} = {col(x, "bmatrix")}, \quad \mathbf{{y}} = {col(y, "bmatrix")}$$

$$\mathbf{{z}}^{{(1)}} = \mathbf{{W}}^{{(1)}} \mathbf{{x}} + \mathbf{{b}}^{{(1)}} = ~{col(z1, "bmatrix")}$$

$$\mathbf{{a}}^{{(1)}} = \sigma\left(\mathbf{{z}}^{{(1)}}\right) = \,{col(a1, "bmatrix")}$$

$$\mathbf{{z}}^{{(2)}} = \mathbf{{W}}^{{(2)}} \mathbf{{a}}^{{(1)}} + \mathbf{{b}}^{{(2)}} = {col(z2, "bmatrix")}, \qquad \mathbf{{a}}^{{(2)}} = {col(a2, "bmatrix")}$$

$$C = \frac{{1}}{{2}} \left\| \mathbf{{a}}^{{(2)}} - \mathbf{{y}} \right\|^2 = {f(C)}$$

$$\boldsymbol{{\delta}}^{{(2)}} = {col(d2, "bmatrix")}, \quad \left\|\boldsymbol{{\delta}}^{{(2)}}\right\|^2 = \sum_k \left(\delta^{{(2)}}_k\right)^2 = {f(np.sum(d2 ** 2))}$$

$$\left(\mathbf W^{{(2)}}\right)^\top \boldsymbol\delta^{{(2)}} = (W^{{(2)}})^T \delta^{{(2)}} = {col(back, "bmatrix")}$$

$$\boldsymbol{{\delta}}^{{(1)}} = {col(d1, "bmatrix")}$$

$$\frac{{\partial C}}{{\partial \mathbf{{W}}^{{(1)}}}} = \boldsymbol{{\delta}}^{{(1)}} \mathbf{{x}}^\top = {mat(np.outer(d1, x), "bmatrix")}$$
"""


def tanh_bce() -> str:
    """2-3-1 network: tanh hidden layer, sigmoid output, binary cross-entropy (δ^(2) = a^(2) − y)."""
    W1 = np.array([[0.5, -0.4], [0.3, 0.8], [-0.6, 0.2]])
    b1 = np.array([0.1, -0.3, 0.2])
    W2 = np.array([[0.7, -0.5, 0.4]])
    b2 = np.array([0.1])
    x = np.array([1.0, 0.5])
    y = 1.0
    z1 = W1 @ x + b1
    a1 = np.tanh(z1)
    z2 = W2 @ a1 + b2
    a2 = sig(z2)
    C = -(y * np.log(a2) + (1 - y) * np.log(1 - a2))
    d2 = a2 - y
    d1 = (W2.T @ d2) * (1 - a1 ** 2)
    return rf"""# tanh hidden layer, sigmoid output, cross-entropy

The hidden layer is $a^{{(1)}} = \tanh\left(z^{{(1)}}\right)$ with $z^{{(1)}} = W^{{(1)}} x + b^{{(1)}}$; the output is
$a^{{(2)}} = \sigma\left(z^{{(2)}}\right)$ with $z^{{(2)}} = W^{{(2)}} a^{{(1)}} + b^{{(2)}}$, and the cost is the cross-entropy

$$C = -\left[ y \log a^{{(2)}} + (1 - y) \log\left(1 - a^{{(2)}}\right) \right]$$

$$\delta^{{(2)}} = \frac{{\partial C}}{{\partial z^{{(2)}}}} = a^{{(2)}} - y$$

$$\delta^{{(1)}} = \left(W^{{(2)}}\right)^T \delta^{{(2)}} \odot \left(1 - \left(a^{{(1)}}\right)^2\right)$$

$$\frac{{\partial C}}{{\partial W^{{(1)}}}} = \delta^{{(1)}} x^T$$

Worked example:

$$W^{{(1)}} = {mat(W1)}, \quad b^{{(1)}} = {col(b1)}$$

$$W^{{(2)}} = {mat(W2)}, \quad b^{{(2)}} = {col(b2)}$$

$$x = {col(x)}, \quad y = {f(y)}$$

$$z^{{(1)}} = {col(z1)}, \quad a^{{(1)}} = {col(a1)}$$

$$z^{{(2)}} = {f(z2[0])}, \quad a^{{(2)}} = {f(a2[0])}, \quad C = {f(C[0])}$$

$$\delta^{{(2)}} = a^{{(2)}} - y = {f(d2[0])}$$

$$\delta^{{(1)}} = {col(d1)}$$
"""


def batch() -> str:
    """3-2-2 sigmoid network on a batch of m = 4 columns, ½ squared error averaged over the batch, Ng's dZ."""
    W1 = np.array([[0.3, -0.2, 0.5], [-0.4, 0.6, 0.1]])
    b1 = np.array([0.1, -0.2])
    W2 = np.array([[0.7, -0.3], [0.2, 0.5]])
    b2 = np.array([0.0, 0.1])
    X = np.array([[1.0, 0.0, -1.0, 0.5], [0.5, -1.0, 2.0, 0.0], [-0.5, 1.0, 0.0, 1.5]])
    Y = np.array([[1.0, 0.0, 0.0, 1.0], [0.0, 1.0, 1.0, 0.0]])
    m = X.shape[1]
    A1 = sig(W1 @ X + b1[:, None])
    A2 = sig(W2 @ A1 + b2[:, None])
    C = np.sum((A2 - Y) ** 2) / (2 * m)
    dZ2 = (A2 - Y) * A2 * (1 - A2) / m
    dZ1 = (W2.T @ dZ2) * A1 * (1 - A1)
    return rf"""# Mini-batch backprop, one sample per column

A 3-2-2 sigmoid network trained on a batch of $m = 4$ samples stacked as the columns of $X$ and $Y$.
Layer $0$ is the input, $A^{{[0]}} = X$, and $W^{{[l]}}$ maps layer $l-1$ to layer $l$. The cost is half the
squared error, averaged over the batch:

$$C = \frac{{1}}{{2m}} \sum_{{i=1}}^{{m}} \sum_{{k}} \left(a_k^{{[2](i)}} - y_k^{{(i)}}\right)^2$$

$$Z^{{[l]}} = W^{{[l]}} A^{{[l-1]}} + b^{{[l]}} \mathbf{{1}}^T, \quad A^{{[l]}} = \sigma\left(Z^{{[l]}}\right)$$

With $dZ^{{[l]}} = \partial C / \partial Z^{{[l]}}$:

$$dZ^{{[2]}} = \frac{{1}}{{m}} \left(A^{{[2]}} - Y\right) \odot A^{{[2]}} \odot \left(1 - A^{{[2]}}\right)$$

$$dZ^{{[l]}} = \left(W^{{[l+1]}}\right)^T dZ^{{[l+1]}} \odot A^{{[l]}} \odot \left(1 - A^{{[l]}}\right)$$

$$\frac{{\partial C}}{{\partial W^{{[l]}}}} = dZ^{{[l]}} \left(A^{{[l-1]}}\right)^T, \quad \frac{{\partial C}}{{\partial b^{{[l]}}}} = dZ^{{[l]}} \mathbf{{1}}$$

$$\frac{{\partial C}}{{\partial W_{{jk}}^{{[l]}}}} = \sum_{{i=1}}^{{m}} dZ_{{ji}}^{{[l]}} A_{{ki}}^{{[l-1]}}$$

## Example

$$W^{{[1]}} = {mat(W1)}, \quad b^{{[1]}} = {col(b1)}$$

$$W^{{[2]}} = {mat(W2)}, \quad b^{{[2]}} = {col(b2)}$$

$$X = {mat(X)}, \quad Y = {mat(Y)}$$

$$A^{{[1]}} = \sigma\left(W^{{[1]}} X + b^{{[1]}} \mathbf{{1}}^T\right) = {mat(A1)}$$

$$A^{{[2]}} = {mat(A2)}, \quad C = {f(C)}$$

$$dZ^{{[2]}} = {mat(dZ2)}$$

$$\frac{{\partial C}}{{\partial b^{{[2]}}}} = dZ^{{[2]}} \mathbf{{1}} = {col(dZ2.sum(axis=1))}$$

$$\frac{{\partial C}}{{\partial W^{{[1]}}}} = dZ^{{[1]}} X^T = {mat(dZ1 @ X.T)}$$
"""


def rowvec() -> str:
    """Row vectors, the document's own names: s = x W_1 + b_1, g = σ(s), q = g W_2 + b_2, p = softmax(q), J."""
    x = np.array([[0.5, -1.0, 1.5]])
    y = np.array([[0.0, 0.0, 1.0]])
    W1 = np.array([[0.1, -0.3], [0.4, 0.2], [-0.2, 0.5]])
    b1 = np.array([[0.05, -0.15]])
    W2 = np.array([[0.6, -0.2, 0.3], [-0.5, 0.4, 0.1]])
    b2 = np.array([[0.1, 0.0, -0.1]])
    s = x @ W1 + b1
    g = sig(s)
    q = g @ W2 + b2
    p = np.exp(q) / np.exp(q).sum()
    J = -np.sum(y * np.log(p))
    dq = p - y
    dg = dq @ W2.T
    ds = dg * g * (1 - g)

    def row(v):
        return r"\begin{bmatrix} " + " & ".join(f(t) for t in np.ravel(v)) + r" \end{bmatrix}"

    return rf"""# A softmax classifier, one example per row

Every layer is computed as `x @ W + b` on a row vector $x$ ($1 \times 3$), with a sigmoid hidden layer and a
softmax output over 3 classes; $y$ is one-hot.

$$s = x W_1 + b_1, \quad g = \sigma(s)$$

$$q = g W_2 + b_2$$

$$p_k = \frac{{e^{{q_k}}}}{{\sum_{{c}} e^{{q_c}}}}$$

$$J = -\sum_{{k=1}}^{{3}} y_k \log p_k$$

The gradients, row vectors throughout:

$$\frac{{\partial J}}{{\partial q}} = p - y$$

$$\frac{{\partial J}}{{\partial W_2}} = g^\top \left(p - y\right), \qquad \frac{{\partial J}}{{\partial b_2}} = p - y$$

$$\frac{{\partial J}}{{\partial g}} = \left(p - y\right) W_2^\top$$

$$\frac{{\partial J}}{{\partial s}} = \frac{{\partial J}}{{\partial g}} \odot g \odot \left(1 - g\right)$$

$$\frac{{\partial J}}{{\partial W_1}} = x^\top \frac{{\partial J}}{{\partial s}}$$

Entry by entry, $\frac{{\partial J}}{{\partial (W_2)_{{jk}}}} = g_j \left(p_k - y_k\right)$.

## Numbers

$$x = {row(x)}, \quad y = {row(y)}$$

$$W_1 = {mat(W1, "bmatrix")}, \quad b_1 = {row(b1)}$$

$$W_2 = {mat(W2, "bmatrix")}, \quad b_2 = {row(b2)}$$

$$s = x W_1 + b_1 = {row(s)}$$

$$g = \sigma(s) = {row(g)}$$

$$q = {row(q)}, \quad p = \operatorname{{softmax}}(q) = {row(p)}$$

$$J = -\log p_3 = {f(J)}$$

$$\frac{{\partial J}}{{\partial q}} = p - y = {row(dq)}$$

$$\frac{{\partial J}}{{\partial g}} = \left(p - y\right) W_2^\top = {row(dg)}$$

$$\frac{{\partial J}}{{\partial W_1}} = x^\top \frac{{\partial J}}{{\partial s}} = {mat(x.T @ ds, "bmatrix")}$$
"""


def differentials() -> str:
    """Column vectors named z_1, h, z_2, p with numeric subscripts, shapes declared as x ∈ ℝ², the backward pass
    derived with differentials (dL = (p − y)ᵀ dz_2) in the prose, softmax + cross-entropy, and b_2 = 0 given as
    a number for a vector."""
    x = np.array([1.0, -0.5])
    y = np.array([0.0, 0.0, 1.0])
    W1 = np.array([[0.5, 0.25], [-0.75, 0.5]])
    b1 = np.array([0.25, 0.0])
    W2 = np.array([[1.0, -0.5], [0.25, 0.75], [-1.0, 0.5]])
    z1 = W1 @ x + b1
    h = np.tanh(z1)
    z2 = W2 @ h
    p = np.exp(z2) / np.exp(z2).sum()
    L = -y @ np.log(p)
    g2 = p - y
    g1 = (1 - h * h) * (W2.T @ g2)

    def tup(v):
        return "(" + ", ".join(f(t) for t in v) + r")^\top"

    return rf"""# Backpropagation with differentials

The network takes $x \in \mathbb{{R}}^2$ to class probabilities $p \in \mathbb{{R}}^3$,
$$z_1 = W_1 x + b_1, \quad h = \tanh(z_1), \quad z_2 = W_2 h + b_2, \quad p = \operatorname{{softmax}}(z_2),$$
and $L = -y^\top \log p$ is the cross-entropy against the one-hot $y$.

Differentiating, $\mathrm{{d}}L = -y^\top \mathrm{{d}}\log p = (p - y)^\top \mathrm{{d}}z_2$, so with
$g_2 = \partial L / \partial z_2$ and $g_1 = \partial L / \partial z_1$
$$g_2 = p - y .$$
From $\mathrm{{d}}z_2 = \mathrm{{d}}W_2\, h$ we read off $\mathrm{{d}}L = g_2^\top \mathrm{{d}}W_2\, h$, hence
$$\frac{{\partial L}}{{\partial W_2}} = g_2 h^\top, \qquad \frac{{\partial L}}{{\partial b_2}} = g_2 .$$
Through the hidden layer $\mathrm{{d}}h = (1 - h \odot h) \odot \mathrm{{d}}z_1$, so
$$g_1 = (1 - h \odot h) \odot (W_2^\top g_2),$$
$$\frac{{\partial L}}{{\partial W_1}} = g_1 x^\top, \qquad \frac{{\partial L}}{{\partial b_1}} = g_1 .$$

## A worked example

Take $x = {tup(x)}$, $y = {tup(y)}$, $b_2 = 0$ and
$$W_1 = {mat(W1, "bmatrix")}, \quad b_1 = {mat(b1[:, None], "bmatrix")}, \quad W_2 = {mat(W2, "bmatrix")}.$$
Forward: $z_1 = {tup(z1)}$, $h = {tup(h)}$, $z_2 = {tup(z2)}$, $p = {tup(p)}$ and $L = {f(L)}$.

Backward: $g_2 = {tup(g2)}$ and $g_1 = {tup(g1)}$, so
$$\frac{{\partial L}}{{\partial W_1}} = {mat(np.outer(g1, x), "bmatrix")}.$$
"""


def nielsen_paren() -> str:
    """The Nielsen derivation with layers in parentheses (a^{(l)}) and x given on its own (no x = a^{(1)})."""
    text = re.sub(r"(a|z|w|b|\\delta)\^(\{[^{}]+\}|[0-9lL])",
                  lambda m: m.group(1) + "^{(" + m.group(2).strip("{}") + ")}", nielsen())
    return text.replace("x = a^{(1)} = ", "x = ").replace("Nielsen's notation", "Nielsen's notation, layers in parentheses")


if __name__ == "__main__":
    for name, text in (("nielsen_correct.md", nielsen()), ("bold_aligned_correct.md", bold()),
                       ("tanh_bce_correct.md", tanh_bce()), ("nielsen_paren_correct.md", nielsen_paren()),
                       ("batch_correct.md", batch()), ("rowvec_correct.md", rowvec()),
                       ("differentials_correct.md", differentials())):
        (HERE / name).write_text(text, encoding="utf-8")
