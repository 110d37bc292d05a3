"""Vectorised, sigmoid everywhere, binary cross-entropy.  BUGGY (NaN when the output saturates).

The chain rule taken literally: ∂C/∂a = (a − y) / (a(1 − a)), then δ = ∂C/∂a · σ'(z) with
σ'(z) = a(1 − a).  On paper the a(1 − a) cancels and δ = a − y; in floating point, once the output
saturates to exactly 1 (z ≳ 37 in float64, 17 in float32) the division is by 0 and δ is NaN.
Write δ^(N) = a − y directly.

    manualbp check examples/students/bug_bce_through_dcda.py:backprop --cost bce
"""
import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def backprop(weights, biases, x, y):
    acts = [x]
    for W, b in zip(weights, biases):
        acts.append(sigmoid(W @ acts[-1] + b))
    a = acts[-1]
    dC_da = (a - y) / (a * (1.0 - a))  # BUG: 0/0 or x/0 when a is exactly 0 or 1
    delta = dC_da * a * (1.0 - a)
    dW, db = [], []
    for L in reversed(range(len(weights))):
        dW.insert(0, np.outer(delta, acts[L]))
        db.insert(0, delta)
        delta = (weights[L].T @ delta) * acts[L] * (1.0 - acts[L])
    return dW, db
