"""Wrong in ∂C/∂b only: the batch of columns is averaged for dW, but db takes a .mean() of dz that was already
divided by B (∂C/∂W right, ∂C/∂b divided by B twice)."""
import numpy as np


def backprop(weights, biases, x, y):
    B = x.shape[1]
    a = [np.asarray(x, dtype=np.float64)]
    for W, b in zip(weights, biases):
        a.append(1 / (1 + np.exp(-(W @ a[-1] + b[:, None]))))
    dz = (a[-1] - y) * a[-1] * (1 - a[-1]) / B  # half_sse, sigmoid output, the batch mean's 1/B folded in
    dW, db = [], []
    for L in reversed(range(len(weights))):
        dW.insert(0, dz @ a[L].T)
        db.insert(0, dz.mean(axis=1))  # the bug: a second 1/B
        if L:
            dz = (weights[L].T @ dz) * a[L] * (1 - a[L])
    return dW, db
