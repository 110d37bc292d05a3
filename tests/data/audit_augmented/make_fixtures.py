# ruff: noqa: E501 - the templates are Markdown documents whose lines are as long as their equations
"""Write the folded-bias fixtures: a 2-3-3-2 sigmoid network whose biases are a column of its weight matrices.

One derivation in three notations: the bias as the last column (the input gets a trailing 1, â = [a; 1]), as
the first column (a leading 1, x_0 = 1, ā = [1; a]), and the ordinary notation with explicit biases (the twin
the planted copies are compared with). Every number is computed here with plain numpy (no manualbp, no
auditor), rounded to 4 decimals; the tests recompute what they expect the same way
(tests/test_audit_augmented.py).
Run from the repository root: python tests/data/audit_augmented/make_fixtures.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests/data: fixture_math, shared by the generators
from fixture_math import f, mat, sig  # noqa: E402

NET = dict(W=[np.array([[0.4, -0.3], [0.1, 0.8], [-0.6, 0.2]]),
              np.array([[0.5, -0.2, 0.3], [-0.4, 0.6, 0.1], [0.2, 0.7, -0.5]]),
              np.array([[0.9, -0.3, 0.4], [-0.2, 0.5, 0.6]])],
           b=[np.array([0.1, -0.2, 0.05]), np.array([0.0, 0.3, -0.1]), np.array([0.2, -0.15])],
           x=np.array([0.7, -1.2]), y=np.array([0.25, 0.8]))

# the planted errors, each (what the correct derivation says, what the planted copy says) in every notation
WRONG_LAYER = "wrong layer"
MISSING_FACTOR = "missing factor"
TRANSPOSED = "transposed product"
WRONG_NUMBER = "wrong number"


def values(p: dict = NET) -> dict:
    """Forward and backward pass with C = ½‖a^{(3)} − y‖², δ^{(l)} = ∂C/∂z^{(l)}: a (a[0] = x), z, d (d[l] for
    layer l), and dW[l] = δ^{(l)} a^{(l-1)ᵀ}, db[l] = δ^{(l)}."""
    a, z = [p["x"]], [None]
    for W, b in zip(p["W"], p["b"]):
        z.append(W @ a[-1] + b)
        a.append(sig(z[-1]))
    d = {3: (a[3] - p["y"]) * a[3] * (1 - a[3])}
    for layer in (2, 1):
        d[layer] = (p["W"][layer].T @ d[layer + 1]) * a[layer] * (1 - a[layer])
    dW = {layer: np.outer(d[layer], a[layer - 1]) for layer in (1, 2, 3)}
    return dict(a=a, z=z, d=d, dW=dW, db=d, C=0.5 * np.sum((a[3] - p["y"]) ** 2))


def folded(W, b, bias: str):
    """W with b as its last or first column."""
    return np.hstack([W, b[:, None]] if bias == "last" else [b[:, None], W])


def col(v, env: str = "bmatrix") -> str:
    return rf"\begin{{{env}}} " + r" \\ ".join(f(x) for x in np.ravel(v)) + rf" \end{{{env}}}"


def tup(v) -> str:
    return "(" + ", ".join(f(x) for x in np.ravel(v)) + r")^\top"


NOTATIONS = {
    # bias column: the input of layer l as the forward pass writes it, the plain weights, whether b is written
    "last": dict(vec=r"\hat{a}^{(l-1)}", plain=r"\tilde{W}", bare=False,
                 intro=r"""Every layer's input gets a trailing constant $1$, which turns each bias into one more column of weights:
$$\hat{a}^{(l)} = \begin{pmatrix} a^{(l)} \\ 1 \end{pmatrix},$$
and $W^{(l)}$, of size $n_l \times (n_{l-1} + 1)$, holds the biases of layer $l$ in its last column. The network
is 2-3-3-2, every unit is a sigmoid unit and the input is $a^{(0)} = x$:"""),
    "first": dict(vec=r"\bar{a}^{(l-1)}", plain=r"\hat{W}", bare=False,
                  intro=r"""We prepend a unit that is always on, $a^{(l)}_0 = 1$, to the input of every layer:
$$\bar{a}^{(l)} = \begin{bmatrix} 1 \\ a^{(l)} \end{bmatrix},$$
so the first column of $W^{(l)}$ is the bias of layer $l$. The network is 2-3-3-2 with sigmoid units throughout
and $a^{(0)} = x$:"""),
    "plain": dict(vec=r"a^{(l-1)}", plain=r"W", bare=True,
                  intro=r"""Each layer has a weight matrix $W^{(l)}$ and a bias $b^{(l)}$. The network is 2-3-3-2 with sigmoid
units throughout and $a^{(0)} = x$:"""),
}


def document(bias: str, planted: tuple[str, ...] = ()) -> str:
    """The derivation with the biases in the last or first column of W (``bias``), or written apart ("plain");
    ``planted`` names the planted errors it carries."""
    n = NOTATIONS[bias]
    v = values()
    vec, plain = n["vec"], n["plain"]
    forward = rf"W^{{(l)}} {vec}" + (r" + b^{(l)}" if n["bare"] else "")
    up3 = rf"\left({plain}^{{(3)}}\right)^\top" if WRONG_LAYER not in planted else rf"\left({plain}^{{(2)}}\right)^\top"
    delta1 = (rf"\delta^{{(1)}} = \left({plain}^{{(2)}}\right)^\top \delta^{{(2)}} \odot \sigma'\left(z^{{(1)}}\right)"
              if MISSING_FACTOR not in planted else rf"\delta^{{(1)}} = \left({plain}^{{(2)}}\right)^\top \delta^{{(2)}}")
    grad = (rf"\delta^{{(l)}} \left({vec}\right)^\top" if TRANSPOSED not in planted
            else rf"\left(\delta^{{(l)}}\right)^\top {vec}")
    if bias == "plain":
        weights = "".join(rf"$$W^{{({k})}} = {mat(W, 'bmatrix')}, \quad b^{{({k})}} = {col(b)}$$" + "\n"
                          for k, (W, b) in enumerate(zip(NET["W"], NET["b"]), start=1))
        plain_def = ""
        gradients = (rf"$$\frac{{\partial C}}{{\partial W^{{(l)}}}} = {grad}, \qquad "
                     r"\frac{\partial C}{\partial b^{(l)}} = \delta^{(l)}$$")
        stated3 = rf"$$\frac{{\partial C}}{{\partial W^{{(3)}}}} = {mat(v['dW'][3], 'bmatrix')}, \qquad \frac{{\partial C}}{{\partial b^{{(3)}}}} = {col(v['db'][3])}$$"
        stated1 = rf"$$\frac{{\partial C}}{{\partial W^{{(1)}}}} = {mat(v['dW'][1], 'bmatrix')}, \qquad \frac{{\partial C}}{{\partial b^{{(1)}}}} = {col(v['db'][1])}$$"
    else:
        weights = "".join(rf"$$W^{{({k})}} = {mat(folded(W, b, bias), 'bmatrix')}$$" + "\n"
                          for k, (W, b) in enumerate(zip(NET["W"], NET["b"]), start=1))
        where = "last" if bias == "last" else "first"
        plain_def = (rf"Write ${plain}^{{(l)}}$ for $W^{{(l)}}$ with its {where} (bias) column deleted: only those weights "
                     "carry an error back to the layer below.\n")
        gradients = (rf"$$\frac{{\partial C}}{{\partial W^{{(l)}}}} = {grad}$$" + "\n"
                     + f"and its {where} column, $\\delta^{{(l)}}$ itself, is the gradient of the biases.")
        stated3 = rf"$$\frac{{\partial C}}{{\partial W^{{(3)}}}} = {mat(folded(v['dW'][3], v['db'][3], bias), 'bmatrix')}$$"
        stated1 = rf"$$\frac{{\partial C}}{{\partial W^{{(1)}}}} = {mat(folded(v['dW'][1], v['db'][1], bias), 'bmatrix')}$$"
    d3 = v["d"][3] * (np.array([-1.0, 1.0]) if WRONG_NUMBER in planted else 1.0)  # its first entry's sign flipped
    return rf"""# Backpropagation with the biases inside the weights

{n['intro']}
$$z^{{(l)}} = {forward}, \qquad a^{{(l)}} = \sigma\left(z^{{(l)}}\right), \qquad l = 1, 2, 3.$$
The cost is $C = \frac{{1}}{{2}} \left\| a^{{(3)}} - y \right\|^2$ and $\delta^{{(l)}} = \frac{{\partial C}}{{\partial z^{{(l)}}}}$.

## Backward pass

{plain_def}$$\delta^{{(3)}} = \left(a^{{(3)}} - y\right) \odot \sigma'\left(z^{{(3)}}\right)$$
$$\delta^{{(2)}} = {up3} \delta^{{(3)}} \odot \sigma'\left(z^{{(2)}}\right)$$
$${delta1}$$
The gradient of the whole weight matrix is an outer product:
{gradients}

## Numbers

$x = {tup(NET['x'])}$, $y = {tup(NET['y'])}$ and
{weights}
Forward: $z^{{(1)}} = {tup(v['z'][1])}$, $a^{{(1)}} = {tup(v['a'][1])}$, $z^{{(2)}} = {tup(v['z'][2])}$,
$a^{{(2)}} = {tup(v['a'][2])}$, $z^{{(3)}} = {tup(v['z'][3])}$, $a^{{(3)}} = {tup(v['a'][3])}$ and $C = {f(v['C'])}$.

Backward:
$$\delta^{{(3)}} = {col(d3)}$$
$$\delta^{{(2)}} = {col(v['d'][2])}, \qquad \delta^{{(1)}} = {col(v['d'][1])}$$
{stated3}
{stated1}
"""


def unit_zero(planted: tuple[str, ...] = ()) -> str:
    """The derivation entry by entry with the constant unit numbered 0 (a^{(l)}_0 = 1, w^{(l)}_{j0} the bias):
    sums run from 0, the worked example's matrices hold the biases in column 0."""
    v = values()
    up = "w^{(l+1)}_{kj}" if WRONG_LAYER not in planted else "w^{(l)}_{kj}"
    grad = r"\delta^{(l)}_j a^{(l-1)}_i" if TRANSPOSED not in planted else r"\delta^{(l)}_i a^{(l-1)}_j"
    factor = r" \sigma'\left(z^{(3)}_j\right)" if MISSING_FACTOR not in planted else ""
    d3 = v["d"][3] * (np.array([-1.0, 1.0]) if WRONG_NUMBER in planted else 1.0)
    entries = ", ".join(rf"$\delta^{{(1)}}_{j + 1} = {f(x)}$" for j, x in enumerate(v["d"][1]))
    return rf"""# Backpropagation, one unit at a time, with a unit 0 that is always on

Each layer $l$ gets a unit numbered $0$ whose output is the constant $a^{{(l)}}_0 = 1$ (and $a^{{(0)}} = x$, so
$x_0 = 1$ too); the weight $w^{{(l)}}_{{j0}}$ from it is the bias of unit $j$. With $n_l$ ordinary units in layer $l$,
$$z^{{(l)}}_j = \sum_{{i=0}}^{{n_{{l-1}}}} w^{{(l)}}_{{ji}} a^{{(l-1)}}_i, \qquad a^{{(l)}}_j = \sigma\left(z^{{(l)}}_j\right).$$
The network is 2-3-3-2 and $C = \frac{{1}}{{2}} \sum_{{j=1}}^{{2}} \left(a^{{(3)}}_j - y_j\right)^2$. The error signals
$\delta^{{(l)}}_j = \frac{{\partial C}}{{\partial z^{{(l)}}_j}}$ are
$$\delta^{{(3)}}_j = \left(a^{{(3)}}_j - y_j\right){factor},$$
$$\delta^{{(l)}}_j = \sum_{{k=1}}^{{n_{{l+1}}}} {up} \delta^{{(l+1)}}_k \sigma'\left(z^{{(l)}}_j\right),$$
and every weight, the biases $w^{{(l)}}_{{j0}}$ included, gets
$$\frac{{\partial C}}{{\partial w^{{(l)}}_{{ji}}}} = {grad}.$$

## Numbers

$x = {tup(NET['x'])}$, $y = {tup(NET['y'])}$; column 0 of each matrix holds the biases:
{"".join(rf"$$W^{{({k})}} = {mat(folded(W, b, 'first'), 'bmatrix')}$$" + chr(10) for k, (W, b) in enumerate(zip(NET["W"], NET["b"]), start=1))}
Forward: $a^{{(1)}} = {tup(v['a'][1])}$, $a^{{(2)}} = {tup(v['a'][2])}$, $a^{{(3)}} = {tup(v['a'][3])}$, $C = {f(v['C'])}$.

Backward: $\delta^{{(3)}}_1 = {f(d3[0])}$, $\delta^{{(3)}}_2 = {f(d3[1])}$, {entries}, and
$$\frac{{\partial C}}{{\partial w^{{(1)}}_{{20}}}} = {f(v['db'][1][1])}, \qquad \frac{{\partial C}}{{\partial w^{{(3)}}_{{12}}}} = {f(v['dW'][3][0, 1])}$$
"""


NAMED = dict(W1=np.array([[0.1, 0.4, -0.3], [-0.2, 0.8, 0.5]]), W2=np.array([[0.05, 0.6, -0.7]]),
             x=np.array([0.5, -1.0]), y=1.0)  # biases in column 0


def named_values(p: dict = NAMED) -> dict:
    """u = W_1 [1; x], h = tanh(u), o = W_2 [1; h], L = ½ (o − y)², and the gradients."""
    u = p["W1"] @ np.r_[1.0, p["x"]]
    h = np.tanh(u)
    o = (p["W2"] @ np.r_[1.0, h])[0]
    g_o = o - p["y"]
    g_u = p["W2"][0, 1:] * g_o * (1 - h ** 2)
    return dict(u=u, h=h, o=o, L=0.5 * g_o ** 2, g_o=g_o, g_u=g_u, dW2=g_o * np.r_[1.0, h][None, :],
                dW1=np.outer(g_u, np.r_[1.0, p["x"]]))


def named(planted: tuple[str, ...] = ()) -> str:
    """A document that names its quantities (u, h, o, L), puts a leading 1 on each layer's input and builds each
    weight matrix from its bias column and its weights, W_k = [b_k  V_k]."""
    p, v = NAMED, named_values()
    o = -v["o"] if WRONG_NUMBER in planted else v["o"]
    factor = r" \odot \left(1 - h \odot h\right)" if MISSING_FACTOR not in planted else ""
    b1, V1, b2, V2 = p["W1"][:, 0], p["W1"][:, 1:], p["W2"][0, 0], p["W2"][:, 1:]
    return rf"""# A small tanh network whose inputs start with a one

The inputs are extended by a leading one, $\hat{{x}} = (1, x)^\top$ and $\hat{{h}} = (1, h)^\top$, so each weight
matrix starts with its bias column: $W_1 = \begin{{bmatrix}} b_1 & V_1 \end{{bmatrix}}$ and
$W_2 = \begin{{bmatrix}} b_2 & V_2 \end{{bmatrix}}$.
$$u = W_1 \hat{{x}}, \qquad h = \tanh(u), \qquad o = W_2 \hat{{h}}, \qquad L = \frac{{1}}{{2}} (o - y)^2.$$
Only $V_2$ carries the error back to the hidden layer:
$$\frac{{\partial L}}{{\partial o}} = o - y, \qquad \frac{{\partial L}}{{\partial W_2}} = (o - y) \hat{{h}}^\top,$$
$$\frac{{\partial L}}{{\partial u}} = V_2^\top (o - y){factor}, \qquad \frac{{\partial L}}{{\partial W_1}} = \frac{{\partial L}}{{\partial u}} \hat{{x}}^\top.$$

With $x = {tup(p['x'])}$, $y = {p['y']:g}$, $b_1 = {tup(b1)}$, $b_2 = {f(b2)}$,
$$V_1 = {mat(V1, 'bmatrix')}, \qquad V_2 = {mat(V2, 'bmatrix')},$$
the forward pass gives $u = {tup(v['u'])}$, $h = {tup(v['h'])}$, $o = {f(o)}$ and $L = {f(v['L'])}$, and
$$\frac{{\partial L}}{{\partial W_1}} = {mat(v['dW1'], 'bmatrix')}.$$
"""


BATCH = dict(X=np.array([[0.5, -1.2, 0.3], [1.1, 0.4, -0.7]]), Y=np.array([[1.0, 0.0, 1.0]]),
             W1=np.array([[0.3, -0.5, 0.1], [0.8, 0.2, -0.3], [-0.4, 0.6, 0.2]]), W2=np.array([[0.7, -0.9, 0.5, 0.1]]))


def batch() -> str:
    """Ng's batch notation with a row of ones appended to each layer's activations: Z = W Ã, tanh hidden layer,
    sigmoid output, cross-entropy averaged over the m = 3 columns."""
    p = BATCH
    m = p["X"].shape[1]
    A0 = np.vstack([p["X"], np.ones((1, m))])
    A1 = np.tanh(p["W1"] @ A0)
    A1t = np.vstack([A1, np.ones((1, m))])
    A2 = sig(p["W2"] @ A1t)
    J = -np.mean(p["Y"] * np.log(A2) + (1 - p["Y"]) * np.log(1 - A2))
    dZ2 = A2 - p["Y"]
    dZ1 = (p["W2"][:, :-1].T @ dZ2) * (1 - A1 ** 2)
    return rf"""# A batch at once, the biases riding on a row of ones

Below every layer's activations we append a row of ones, $\tilde{{A}}^{{[l]}}$, so that each bias is the last column of
$W^{{[l]}}$. The $m$ samples are the columns of $X = A^{{[0]}}$; the hidden layer is tanh, the output a sigmoid, and
$$J = -\frac{{1}}{{m}} \sum_{{i=1}}^{{m}} \left( y^{{(i)}} \log a^{{[2](i)}} + (1 - y^{{(i)}}) \log(1 - a^{{[2](i)}}) \right).$$
$$Z^{{[1]}} = W^{{[1]}} \tilde{{A}}^{{[0]}}, \quad A^{{[1]}} = \tanh(Z^{{[1]}}), \quad Z^{{[2]}} = W^{{[2]}} \tilde{{A}}^{{[1]}}, \quad A^{{[2]}} = \sigma(Z^{{[2]}})$$
Going back, $\bar{{W}}^{{[2]}}$ is $W^{{[2]}}$ without its bias column:
$$dZ^{{[2]}} = A^{{[2]}} - Y, \qquad dW^{{[2]}} = \frac{{1}}{{m}} dZ^{{[2]}} \tilde{{A}}^{{[1]T}}$$
$$dZ^{{[1]}} = \bar{{W}}^{{[2]T}} dZ^{{[2]}} \odot \left(1 - A^{{[1]}} \odot A^{{[1]}}\right), \qquad dW^{{[1]}} = \frac{{1}}{{m}} dZ^{{[1]}} \tilde{{A}}^{{[0]T}}$$

## Numbers

$$X = {mat(p['X'], 'bmatrix')}, \quad Y = {mat(p['Y'], 'bmatrix')}$$
$$W^{{[1]}} = {mat(p['W1'], 'bmatrix')}, \quad W^{{[2]}} = {mat(p['W2'], 'bmatrix')}$$
$$A^{{[2]}} = {mat(A2, 'bmatrix')}, \quad J = {f(J)}$$
$$dW^{{[2]}} = {mat(dZ2 @ A1t.T / m, 'bmatrix')}$$
$$dW^{{[1]}} = {mat(dZ1 @ A0.T / m, 'bmatrix')}$$
"""


PLANTS = (WRONG_LAYER, MISSING_FACTOR, TRANSPOSED, WRONG_NUMBER)
FIXTURES = {
    "last_correct.md": lambda: document("last"),
    "last_planted.md": lambda: document("last", PLANTS),
    "first_correct.md": lambda: document("first"),
    "first_planted.md": lambda: document("first", PLANTS),
    "plain_correct.md": lambda: document("plain"),
    "plain_planted.md": lambda: document("plain", PLANTS),
    "unit_zero_correct.md": lambda: unit_zero(),
    "unit_zero_planted.md": lambda: unit_zero(PLANTS),
    "named_correct.md": lambda: named(),
    "named_planted.md": lambda: named((MISSING_FACTOR, WRONG_NUMBER)),
    "batch_correct.md": batch,
}

if __name__ == "__main__":
    for name, make in FIXTURES.items():
        (HERE / name).write_text(make(), encoding="utf-8")
