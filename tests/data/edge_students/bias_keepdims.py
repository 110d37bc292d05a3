"""Right values, wrong shape: a batch of rows (x @ W layout) whose bias gradients keep their summed axis,
np.sum(dz, axis=0, keepdims=True), so each ∂C/∂b^(L) comes back as a (1, n_L) row."""
import numpy as np


def grads(weights, biases, x, y):
    B = x.shape[0]
    a = [np.asarray(x, dtype=np.float64)]
    for W, b in zip(weights, biases):
        a.append(1 / (1 + np.exp(-(a[-1] @ W + b))))
    dz = (a[-1] - y) * a[-1] * (1 - a[-1]) / B  # half_sse, sigmoid output, mean over the batch
    dW, db = [], []
    for L in reversed(range(len(weights))):
        dW.insert(0, a[L].T @ dz)
        db.insert(0, np.sum(dz, axis=0, keepdims=True))  # the bug: (1, n) instead of (n,)
        if L:
            dz = (dz @ weights[L].T) * a[L] * (1 - a[L])
    return dW, db
