"""Wrong near saturation, in float64: the output is clipped to [1e-7, 1 − 1e-7] before the cross-entropy's
∂C/∂a = (a − y)/(a(1 − a)), so a saturated sigmoid output gives gradients off by about 1e-7."""
import numpy as np


def backprop(weights, biases, x, y):
    a = [np.asarray(x, dtype=np.float64)]
    for W, b in zip(weights, biases):
        a.append(np.tanh(W @ a[-1] + b) if len(a) < len(weights) else 1 / (1 + np.exp(-(W @ a[-1] + b))))
    out = np.clip(a[-1], 1e-7, 1 - 1e-7)
    dz = (out - y) / (out * (1 - out)) * out * (1 - out)  # ∂C/∂a ⊙ σ'(z) at the output, σ' from the clipped a
    dW, db = [], []
    for L in reversed(range(len(weights))):
        dW.insert(0, np.outer(dz, a[L]))
        db.insert(0, dz)
        if L:
            dz = (weights[L].T @ dz) * (1 - a[L] ** 2)  # tanh' of the hidden layer
    return dW, db
