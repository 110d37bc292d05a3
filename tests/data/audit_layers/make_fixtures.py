# ruff: noqa: E501 - the templates are Markdown documents whose lines are as long as their equations
"""Write the per-layer fixtures: layers with different activations, softmax over a batch, literal sum limits.

Every number is computed here with plain numpy (no manualbp, no auditor), rounded to 4 decimals.  The
expected values the tests compare with are recomputed the same way (see tests/test_audit_layers.py).
Run from the repository root: python tests/data/audit_layers/make_fixtures.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests/data: fixture_math, shared by the generators
from fixture_math import f, mat, sig  # noqa: E402


def col(v) -> str:
    return "(" + ", ".join(f(x) for x in np.ravel(v)) + ")^T"


# ------------------------------------------------------------------ ReLU hidden layer, linear output, MSE

RELU = dict(x=np.array([1.0, -0.5]), y=np.array([0.3, -0.4]),
            W1=np.array([[0.4, 0.2], [-0.6, 0.5], [0.3, -0.7]]), b1=np.array([0.1, 0.0, -0.1]),
            W2=np.array([[0.5, -0.3, 0.8], [-0.4, 0.6, -0.9]]), b2=np.array([0.05, -0.1]))


def relu_values(p=RELU) -> dict:
    """Forward and backward pass of the ReLU / linear-output network with C = (1/n_2) Σ (a_k - y_k)²."""
    z1 = p["W1"] @ p["x"] + p["b1"]
    a1 = np.maximum(z1, 0)
    z2 = p["W2"] @ a1 + p["b2"]
    a2 = z2
    C = np.mean((a2 - p["y"]) ** 2)
    d2 = 2 / a2.size * (a2 - p["y"])
    d1 = (p["W2"].T @ d2) * (z1 > 0)
    return dict(z1=z1, a1=a1, z2=z2, a2=a2, C=C, d2=d2, d1=d1, dW2=np.outer(d2, a1), dW1=np.outer(d1, p["x"]))


RELU_ACTIVE = {**RELU, "x": np.array([1.0, 0.5]), "W1": np.array([[0.4, 0.2], [0.6, 0.5], [0.3, 0.7]])}
ACTIVE_NOTE = r"""
Every hidden unit is active at this input, so $\delta^{(1)} = \left(W^{(2)}\right)^T \delta^{(2)}$ exactly here.
"""


def relu_doc(output_definition: bool, a2_text: str | None = None, p: dict = RELU, note: str = "") -> str:
    v = relu_values(p)
    head = ("two inputs, a ReLU hidden layer of 3 units and a **linear** output layer of 2 units"
            if not output_definition else "two inputs, a ReLU hidden layer of 3 units and 2 output units")
    out = (r"$$z^{(2)} = W^{(2)} a^{(1)} + b^{(2)}, \quad \hat{y} = a^{(2)} = z^{(2)}$$" if output_definition
           else r"$$z^{(2)} = W^{(2)} a^{(1)} + b^{(2)}$$")
    return f"""# A small regression network by hand

The network: {head}, trained with the mean squared error. Layer $0$ is the input, $a^{{(0)}} = x$.

$$z^{{(1)}} = W^{{(1)}} x + b^{{(1)}}, \\quad a^{{(1)}} = \\mathrm{{ReLU}}(z^{{(1)}})$$

{out}

$$C = \\frac{{1}}{{n_2}}\\sum_{{k=1}}^{{n_2}} \\left(a_k^{{(2)}} - y_k\\right)^2$$

with $n_2 = 2$. Write $\\delta^{{(l)}} = \\partial C / \\partial z^{{(l)}}$:

$$\\delta^{{(2)}} = \\frac{{2}}{{n_2}}\\left(a^{{(2)}} - y\\right)$$

$$\\delta^{{(1)}} = \\left(W^{{(2)}}\\right)^T \\delta^{{(2)}} \\odot \\mathrm{{ReLU}}'(z^{{(1)}})$$

$$\\frac{{\\partial C}}{{\\partial W^{{(l)}}}} = \\delta^{{(l)}} \\left(a^{{(l-1)}}\\right)^T$$

## Numbers

$x = {col(p["x"])}$, $y = {col(p["y"])}$,
$W^{{(1)}} = {mat(p["W1"])}$, $b^{{(1)}} = {col(p["b1"])}$,
$W^{{(2)}} = {mat(p["W2"])}$, $b^{{(2)}} = {col(p["b2"])}$.

$$z^{{(1)}} = {col(v["z1"])}$$

$$a^{{(1)}} = {col(v["a1"])}$$

$$a^{{(2)}} = {a2_text or col(v["a2"])}$$

$$C = {f(v["C"])}$$

$$\\delta^{{(2)}} = {col(v["d2"])}$$

$$\\delta^{{(1)}} = {col(v["d1"])}$$

$$\\frac{{\\partial C}}{{\\partial W^{{(2)}}}} = {mat(v["dW2"])}$$
{note}"""


# ------------------------------------------------------------------ tanh hidden layer, sigmoid output (Ng's [l])

TANH = dict(x=np.array([0.8, -1.2]), y=np.array([1.0]),
            W1=np.array([[0.5, -0.4], [0.3, 0.9]]), b1=np.array([0.1, -0.2]),
            W2=np.array([[1.2, -0.8]]), b2=np.array([0.3]))


def tanh_values(p=TANH) -> dict:
    z1 = p["W1"] @ p["x"] + p["b1"]
    a1 = np.tanh(z1)
    z2 = p["W2"] @ a1 + p["b2"]
    a2 = sig(z2)
    dz2 = (a2 - p["y"]) * a2 * (1 - a2)
    dz1 = (p["W2"].T @ dz2) * (1 - a1 ** 2)
    return dict(z1=z1, a1=a1, z2=z2, a2=a2, C=0.5 * np.sum((a2 - p["y"]) ** 2), dz2=dz2, dz1=dz1)


def tanh_doc() -> str:
    p, v = TANH, tanh_values()
    return f"""# One sample through a tanh / sigmoid network

Superscript $[l]$ is the layer and $A^{{[0]}} = x$.

$$Z^{{[1]}} = W^{{[1]}} A^{{[0]}} + b^{{[1]}}$$
$$A^{{[1]}} = \\tanh(Z^{{[1]}})$$
$$Z^{{[2]}} = W^{{[2]}} A^{{[1]}} + b^{{[2]}}$$
$$A^{{[2]}} = \\sigma(Z^{{[2]}})$$
$$C = \\frac{{1}}{{2}}\\left(A^{{[2]}} - y\\right)^2$$

$$dZ^{{[2]}} = \\left(A^{{[2]}} - y\\right) A^{{[2]}} \\left(1 - A^{{[2]}}\\right)$$
$$dZ^{{[1]}} = W^{{[2]T}} dZ^{{[2]}} \\odot \\left(1 - (A^{{[1]}})^2\\right)$$

## Numbers

$x = {col(p["x"])}$, $y = {f(p["y"][0])}$, $W^{{[1]}} = {mat(p["W1"])}$, $b^{{[1]}} = {col(p["b1"])}$,
$W^{{[2]}} = {mat(p["W2"])}$, $b^{{[2]}} = {f(p["b2"][0])}$.

$$Z^{{[1]}} = {col(v["z1"])}, \\quad A^{{[1]}} = {col(v["a1"])}$$

$$Z^{{[2]}} = {f(v["z2"][0])}, \\quad A^{{[2]}} = {f(v["a2"][0])}$$

$$C = {f(v["C"])}$$

$$dZ^{{[2]}} = {f(v["dz2"][0])}$$

$$dZ^{{[1]}} = {col(v["dz1"])}$$
"""


# ------------------------------------------------------------------ softmax over a batch, both layouts

SOFT = dict(X=np.array([[1.0, -0.5, 0.2], [0.3, 0.8, -1.0]]),  # 2 samples (rows) of 3 features
            W=np.array([[0.2, -0.4, 0.1], [0.5, 0.3, -0.2], [-0.6, 0.1, 0.4]]), b=np.array([0.1, 0.0, -0.1]))


def softmax_rows(S: np.ndarray) -> np.ndarray:
    """Each row (one sample) normalised."""
    e = np.exp(S - S.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def softmax_values() -> dict:
    S = SOFT["X"] @ SOFT["W"] + SOFT["b"]
    return dict(S=S, P=softmax_rows(S))


def softmax_doc(columns: bool) -> str:
    v = softmax_values()
    if columns:  # the same network with one sample per column: S^T = W^T X^T + b
        return f"""# Softmax scores, one sample per column

$$S = W X + b$$

$$P = \\operatorname{{softmax}}(S)$$

$X = {mat(SOFT["X"].T)}$, $W = {mat(SOFT["W"].T)}$, $b = {col(SOFT["b"])}$.

$$S = {mat(v["S"].T)}$$

$$P = {mat(v["P"].T)}$$
"""
    return f"""# Softmax scores, one sample per row

$$S = X W + b$$

$$P = \\operatorname{{softmax}}(S)$$

$X = {mat(SOFT["X"])}$, $W = {mat(SOFT["W"])}$, $b = ({", ".join(f(x) for x in SOFT["b"])})$.

$$S = {mat(v["S"])}$$

$$P = {mat(v["P"])}$$
"""


# ------------------------------------------------------------------ literal sum limits (2-3-2, index notation)

IDX = dict(x=np.array([0.6, -0.4]), y=np.array([1.0, 0.0]),
           W2=np.array([[0.5, -0.4], [0.3, 0.8], [-0.2, 0.6]]), b2=np.array([0.1, -0.2, 0.05]),
           W3=np.array([[0.7, -0.6, 0.2], [0.2, 0.5, -0.3]]), b3=np.array([0.0, 0.3]))


def index_values(p=IDX) -> dict:
    z2 = p["W2"] @ p["x"] + p["b2"]
    a2 = sig(z2)
    z3 = p["W3"] @ a2 + p["b3"]
    a3 = sig(z3)
    return dict(z2=z2, a2=a2, z3=z3, a3=a3)


def index_doc(limit3: int) -> str:
    p, v = IDX, index_values()

    def vec(name, layer, vals):
        return ", ".join(f"${name}_{i + 1}^{{({layer})}} = {f(x)}$" for i, x in enumerate(vals))

    return f"""# Forward pass in index notation

Network: 2 inputs, 3 hidden sigmoid neurons, 2 sigmoid outputs. Layer 1 is the input, $a_k^{{(1)}} = x_k$, and
$w_{{jk}}^{{(l)}}$ is the weight from neuron $k$ in layer $l-1$ to neuron $j$ in layer $l$.

$$z_j^{{(2)}} = \\sum_{{k=1}}^{{2}} w_{{jk}}^{{(2)}} a_k^{{(1)}} + b_j^{{(2)}}$$

$$z_j^{{(3)}} = \\sum_{{k=1}}^{{{limit3}}} w_{{jk}}^{{(3)}} a_k^{{(2)}} + b_j^{{(3)}}$$

$$a_j^{{(l)}} = \\sigma\\left(z_j^{{(l)}}\\right)$$

**Numbers.** $x = {col(p["x"])}$, $y = {col(p["y"])}$,
$w^{{(2)}} = {mat(p["W2"])}$, $b^{{(2)}} = {col(p["b2"])}$,
$w^{{(3)}} = {mat(p["W3"])}$, $b^{{(3)}} = {col(p["b3"])}$.

- {vec("z", 2, v["z2"])}
- {vec("a", 2, v["a2"])}
- {vec("z", 3, v["z3"])}
- {vec("a", 3, v["a3"])}
"""


# ------------------------------------------------------------------ Ng's batch notation: dZ per sample, dW of the mean

NG = dict(X=np.array([[0.5, -1.0, 1.5], [1.0, 0.2, -0.4]]), Y=np.array([[0.0, 1.0, 1.0]]),
          W1=np.array([[0.3, -0.2], [0.6, 0.4]]), b1=np.array([[0.1], [-0.1]]),
          W2=np.array([[-0.7, 0.9]]), b2=np.array([[0.2]]))


def ng_values(p=NG) -> dict:
    m = p["X"].shape[1]
    Z1 = p["W1"] @ p["X"] + p["b1"]
    A1 = np.tanh(Z1)
    Z2 = p["W2"] @ A1 + p["b2"]
    A2 = sig(Z2)
    J = -np.mean(p["Y"] * np.log(A2) + (1 - p["Y"]) * np.log(1 - A2))
    dZ2 = A2 - p["Y"]  # one column per sample: the gradient of that sample's loss
    dZ1 = (p["W2"].T @ dZ2) * (1 - A1 ** 2)
    return dict(A1=A1, A2=A2, J=J, dZ2=dZ2, dW2=dZ2 @ A1.T / m, db2=dZ2.sum(axis=1) / m, dZ1=dZ1,
                dW1=dZ1 @ p["X"].T / m, db1=dZ1.sum(axis=1) / m)


def ng_doc() -> str:
    p, v = NG, ng_values()
    return rf"""# Vectorised backprop over a batch

The $m = 3$ examples are the columns of $X$, $A^{{[0]}} = X$; a tanh hidden layer and one sigmoid output unit.

$$Z^{{[1]}} = W^{{[1]}} A^{{[0]}} + b^{{[1]}}$$
$$A^{{[1]}} = \tanh(Z^{{[1]}})$$
$$Z^{{[2]}} = W^{{[2]}} A^{{[1]}} + b^{{[2]}}$$
$$A^{{[2]}} = \sigma(Z^{{[2]}})$$
$$J = -\frac{{1}}{{m}} \sum_{{i=1}}^{{m}} \left( y^{{(i)}} \log a^{{[2](i)}} + (1 - y^{{(i)}}) \log(1 - a^{{[2](i)}}) \right)$$

$$dZ^{{[2]}} = A^{{[2]}} - Y$$
$$dW^{{[2]}} = \frac{{1}}{{m}} dZ^{{[2]}} A^{{[1]T}}$$
$$db^{{[2]}} = \frac{{1}}{{m}} \sum_{{i=1}}^{{m}} dZ^{{[2](i)}}$$
$$dZ^{{[1]}} = W^{{[2]T}} dZ^{{[2]}} \odot (1 - (A^{{[1]}})^2)$$
$$dW^{{[1]}} = \frac{{1}}{{m}} dZ^{{[1]}} X^T$$
$$db^{{[1]}} = \frac{{1}}{{m}} \sum_{{i=1}}^{{m}} dZ^{{[1](i)}}$$

## Numbers

$X = {mat(p["X"])}$, $Y = {mat(p["Y"])}$, $W^{{[1]}} = {mat(p["W1"])}$, $b^{{[1]}} = {mat(p["b1"])}$,
$W^{{[2]}} = {mat(p["W2"])}$, $b^{{[2]}} = {f(p["b2"][0, 0])}$.

$$A^{{[2]}} = {mat(v["A2"])}$$

$$J = {f(v["J"])}$$

$$dZ^{{[2]}} = {mat(v["dZ2"])}$$

$$dW^{{[2]}} = {mat(v["dW2"])}, \quad db^{{[2]}} = {f(v["db2"][0])}$$

$$dW^{{[1]}} = {mat(v["dW1"])}$$

$$db^{{[1]}} = {col(v["db1"])}$$
"""


# ------------------------------------------------------------------ CS231n: rows, max(0, ·), ds, 0-based labels

CS = dict(X=np.array([[1.0, -0.5], [0.3, 0.8]]), y=np.array([0, 2]),
          W1=np.array([[0.4, -0.3, 0.2], [0.1, 0.5, -0.6]]), b1=np.array([0.1, 0.0, -0.1]),
          W2=np.array([[0.3, -0.2, 0.5], [-0.4, 0.6, 0.1], [0.2, 0.3, -0.5]]), b2=np.array([0.0, 0.1, -0.1]))


def cs_values(p=CS) -> dict:
    N = p["X"].shape[0]
    h = np.maximum(0, p["X"] @ p["W1"] + p["b1"])
    s = h @ p["W2"] + p["b2"]
    P = softmax_rows(s)
    L = -np.mean(np.log(P[np.arange(N), p["y"]]))
    ds = P.copy()
    ds[np.arange(N), p["y"]] -= 1
    ds /= N
    return dict(h=h, s=s, P=P, L=L, ds=ds, dW2=h.T @ ds, db2=ds.sum(axis=0), dh=ds @ p["W2"].T)


def cs_doc() -> str:
    p, v = CS, cs_values()
    row = lambda r: "(" + ", ".join(f(x) for x in r) + ")"  # noqa: E731 - a tuple is a row vector
    return rf"""# Two-layer softmax classifier, one example per row

$$h = \max(0, X W_1 + b_1)$$

$$s = h W_2 + b_2$$

$$p = \operatorname{{softmax}}(s)$$

$$L = -\frac{{1}}{{N}}\sum_{{i=1}}^{{N}} \log p_{{i, y_i}}$$

Gradients: $dW_2 = h^\top ds$, $db_2 = \sum_{{i=1}}^{{N}} ds_{{i}}$, $dh = ds\, W_2^\top$.

Labels count from 0: $y = ({p["y"][0]}, {p["y"][1]})$, $N = 2$,
$X = {mat(p["X"])}$, $W_1 = {mat(p["W1"])}$, $b_1 = {row(p["b1"])}$,
$W_2 = {mat(p["W2"])}$, $b_2 = {row(p["b2"])}$.

$$p = {mat(v["P"])}$$

$$L = {f(v["L"])}$$

$$ds = {mat(v["ds"])}$$

$$dW_2 = {mat(v["dW2"])}, \quad db_2 = {row(v["db2"])}$$

$$dh = {mat(v["dh"])}$$
"""


# ------------------------------------------------------------------ Goodfellow: h^{(1)}, one output unit's weight vector

GF = dict(x=np.array([0.4, -0.9]), y=1.0, W1=np.array([[0.3, -0.5], [0.8, 0.2]]), b1=np.array([0.1, -0.1]),
          w2=np.array([0.6, -0.7]), b2=0.15)


def colt(v) -> str:
    """A column as (a, b)^\\top."""
    return col(v)[:-2] + "^\\top"


def gf_values(p=GF) -> dict:
    z1 = p["W1"] @ p["x"] + p["b1"]
    h1 = np.tanh(z1)
    z2 = p["w2"] @ h1 + p["b2"]
    yh = sig(z2)
    J = -p["y"] * np.log(yh) - (1 - p["y"]) * np.log(1 - yh)
    gz2 = yh - p["y"]
    gh1 = gz2 * p["w2"]
    gz1 = gh1 * (1 - h1 * h1)
    return dict(z1=z1, h1=h1, z2=z2, yh=yh, J=J, gw2=gz2 * h1, gW1=np.outer(gz1, p["x"]))


def gf_doc() -> str:
    p, v = GF, gf_values()
    B = r"\boldsymbol"
    return rf"""# Backprop as a chain of Jacobians

One example ${B}{{x}} \in \mathbb{{R}}^2$, a tanh hidden layer and one sigmoid output unit with the cross-entropy.

$${B}{{z}}^{{(1)}} = {B}{{W}}^{{(1)}} {B}{{x}} + {B}{{b}}^{{(1)}}$$

$${B}{{h}}^{{(1)}} = \tanh\left({B}{{z}}^{{(1)}}\right)$$

$$z^{{(2)}} = {B}{{w}}^{{(2)\top}} {B}{{h}}^{{(1)}} + b^{{(2)}}, \qquad \hat{{y}} = \sigma\left(z^{{(2)}}\right)$$

$$J = -y \log \hat{{y}} - (1 - y)\log(1 - \hat{{y}})$$

$$\nabla_{{z^{{(2)}}}} J = \hat{{y}} - y$$

$$\nabla_{{{B}{{w}}^{{(2)}}}} J = \left(\hat{{y}} - y\right) {B}{{h}}^{{(1)}}$$

$$\nabla_{{{B}{{h}}^{{(1)}}}} J = \left(\hat{{y}} - y\right) {B}{{w}}^{{(2)}}$$

$$\nabla_{{{B}{{z}}^{{(1)}}}} J = \nabla_{{{B}{{h}}^{{(1)}}}} J \odot \left(1 - {B}{{h}}^{{(1)}} \odot {B}{{h}}^{{(1)}}\right)$$

$$\nabla_{{{B}{{W}}^{{(1)}}}} J = \nabla_{{{B}{{z}}^{{(1)}}}} J \; {B}{{x}}^\top$$

**Numbers.** ${B}{{x}} = {colt(p["x"])}$, $y = {f(p["y"])}$,
${B}{{W}}^{{(1)}} = {mat(p["W1"])}$, ${B}{{b}}^{{(1)}} = {colt(p["b1"])}$,
${B}{{w}}^{{(2)}} = {colt(p["w2"])}$, $b^{{(2)}} = {f(p["b2"])}$.

Forward: ${B}{{h}}^{{(1)}} = {colt(v["h1"])}$, $z^{{(2)}} = {f(v["z2"])}$, $\hat{{y}} = {f(v["yh"])}$, and $J = {f(v["J"])}$.

$$\nabla_{{{B}{{w}}^{{(2)}}}} J = {colt(v["gw2"])}$$

$$\nabla_{{{B}{{W}}^{{(1)}}}} J = {mat(v["gW1"])}$$
"""


def planted_a2_text() -> str:
    """a^{(2)} with its second entry's sign dropped (a linear output read as ReLU would zero it instead)."""
    a2 = relu_values()["a2"].copy()
    a2[1] = -a2[1]
    return col(a2)


FIXTURES = {
    "relu_linear_correct.md": lambda: relu_doc(True),
    "relu_linear_words_correct.md": lambda: relu_doc(False),
    "relu_linear_planted.md": lambda: relu_doc(True, planted_a2_text()),
    "relu_all_active_correct.md": lambda: relu_doc(True, p=RELU_ACTIVE, note=ACTIVE_NOTE),
    "tanh_sigmoid_correct.md": tanh_doc,
    "softmax_rows_correct.md": lambda: softmax_doc(False),
    "softmax_columns_correct.md": lambda: softmax_doc(True),
    "index_limits_correct.md": lambda: index_doc(3),
    "index_limits_planted.md": lambda: index_doc(2),
    "ng_batch_correct.md": ng_doc,
    "cs231n_correct.md": cs_doc,
    "goodfellow_correct.md": gf_doc,
}


if __name__ == "__main__":
    for name, make in FIXTURES.items():
        (HERE / name).write_text(make(), encoding="utf-8")
