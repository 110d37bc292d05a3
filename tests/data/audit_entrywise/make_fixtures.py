# ruff: noqa: E501 - the templates are Markdown documents whose lines are as long as their equations
"""Write the entry-wise fixtures: sigmoid networks whose worked example gives every weight, bias, input and
target entry by entry (w^{(1)}_{12} = 0.8), in Nielsen's component notation (w_{jk}: from unit k to unit j).

Every number is computed here with plain numpy (no manualbp, no auditor), rounded to 4 decimals; the tests
recompute the expected values the same way (tests/test_audit_entrywise.py).
Run from the repository root: python tests/data/audit_entrywise/make_fixtures.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests/data: fixture_math, shared by the generators
from fixture_math import f, two_sigmoid_layers  # noqa: E402

NET221 = dict(W1=np.array([[0.3, -0.2], [0.8, 0.5]]), b1=np.array([0.1, -0.1]),
              W2=np.array([[0.6, -0.4]]), b2=np.array([0.05]), x=np.array([0.5, -1.0]), y=np.array([1.0]))
NET231 = dict(W1=np.array([[0.2, -0.5], [0.7, 0.1], [-0.3, 0.4]]), b1=np.array([0.0, 0.2, -0.1]),
              W2=np.array([[0.5, -0.6, 0.9]]), b2=np.array([-0.2]), x=np.array([1.5, 0.5]), y=np.array([0.0]))
GRADIENT = r"$$\frac{\partial C}{\partial w^{(l)}_{jk}} = \delta^{(l)}_j \cdot a^{(l-1)}_k$$"
PLANTED_GRADIENT = GRADIENT.replace("a^{(l-1)}_k", "a^{(l)}_k")  # the wrong layer index


def values(p: dict) -> dict:
    """Forward and backward pass with C = ½ (a^{(2)}_1 − y_1)², δ = ∂C/∂z."""
    n = two_sigmoid_layers(p["W1"], p["b1"], p["W2"], p["b2"], p["x"], p["y"])
    return dict(n, dW2=np.outer(n["d2"], n["a1"]), dW1=np.outer(n["d1"], p["x"]))


def given(p: dict, scalar_y: bool) -> str:
    """The parameters, one entry per equation."""
    w = [f"$w^{{({layer})}}_{{{j + 1}{k + 1}}} = {p[f'W{layer}'][j, k]:g}$"
         for layer in (1, 2) for j in range(p[f"W{layer}"].shape[0]) for k in range(p[f"W{layer}"].shape[1])]
    b = [f"$b^{{({layer})}}_{{{j + 1}}} = {v:g}$" for layer in (1, 2) for j, v in enumerate(p[f"b{layer}"])]
    x = [f"$x_{{{k + 1}}} = {v:g}$" for k, v in enumerate(p["x"])]
    y = f"$y = {p['y'][0]:g}$" if scalar_y else f"$y_1 = {p['y'][0]:g}$"
    return f"Weights {', '.join(w)};\nbiases {', '.join(b)};\ninput {', '.join(x)}, target {y}."


def document(p: dict, scalar_y: bool, wrong_delta2: str | None = None, gradient: str = GRADIENT) -> str:
    v = values(p)
    n0, n1 = p["W1"].shape[1], p["W1"].shape[0]
    hidden = "\n\n".join(f"$$z^{{(1)}}_{j + 1} = {f(v['z1'][j])}, \\quad a^{{(1)}}_{j + 1} = {f(v['a1'][j])}$$"
                         for j in range(n1))
    deltas = "\n\n".join(f"$$\\delta^{{(1)}}_{j + 1} = {f(v['d1'][j])}$$" for j in range(n1))
    grads = "\n\n".join(f"$$\\frac{{\\partial C}}{{\\partial w^{{(2)}}_{{1{j + 1}}}}} = {f(v['dW2'][0, j])}$$"
                        for j in range(n1))
    y = "y" if scalar_y else "y_1"
    return f"""# A {n0}-{n1}-1 network by hand

A {n0}-{n1}-1 network, sigmoid in both layers, $a^{{(0)}} = x$, cost $C = \\frac{{1}}{{2}}\\left(a^{{(2)}}_1 - {y}\\right)^2$.
{given(p, scalar_y)}

$$z^{{(1)}}_j = \\sum_{{k=1}}^{{{n0}}} w^{{(1)}}_{{jk}} \\cdot a^{{(0)}}_k + b^{{(1)}}_j, \\quad a^{{(1)}}_j = \\sigma(z^{{(1)}}_j)$$

$$z^{{(2)}}_1 = \\sum_{{j=1}}^{{{n1}}} w^{{(2)}}_{{1j}} \\cdot a^{{(1)}}_j + b^{{(2)}}_1, \\quad a^{{(2)}}_1 = \\sigma(z^{{(2)}}_1)$$

$$\\delta^{{(2)}}_1 = \\left(a^{{(2)}}_1 - {y}\\right) \\cdot a^{{(2)}}_1 \\cdot \\left(1 - a^{{(2)}}_1\\right)$$

$$\\delta^{{(1)}}_j = w^{{(2)}}_{{1j}} \\cdot \\delta^{{(2)}}_1 \\cdot a^{{(1)}}_j \\cdot \\left(1 - a^{{(1)}}_j\\right)$$

{gradient}

## Numbers

{hidden}

$$z^{{(2)}}_1 = {f(v['z2'][0])}, \\quad a^{{(2)}}_1 = {f(v['a2'][0])}$$

$$C = {f(v['C'])}$$

$$\\delta^{{(2)}}_1 = {wrong_delta2 or f(v['d2'][0])}$$

{deltas}

{grads}

$$\\frac{{\\partial C}}{{\\partial w^{{(1)}}_{{11}}}} = {f(v['dW1'][0, 0])}$$
"""


def wrong(v: float) -> str:
    """The value with two of its digits swapped (a copying slip)."""
    s = f(v)
    return s[:-2] + s[-1] + s[-2] if s[-1] != s[-2] else s[:-1] + str((int(s[-1]) + 3) % 10)


FIXTURES = {
    "net221_correct.md": lambda: document(NET221, scalar_y=True),
    "net221_planted.md": lambda: document(NET221, True, wrong(values(NET221)["d2"][0]), PLANTED_GRADIENT),
    "net231_correct.md": lambda: document(NET231, scalar_y=False),
    "net231_planted.md": lambda: document(NET231, False, wrong(values(NET231)["d2"][0]), PLANTED_GRADIENT),
}

if __name__ == "__main__":
    for name, make in FIXTURES.items():
        (HERE / name).write_text(make(), encoding="utf-8")
