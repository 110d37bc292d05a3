"""Wrong twice: computes in float32 whatever the case's dtype, and takes binary cross-entropy's ∂C/∂a as
(a − y)/(a(1 − a)), which is NaN/∞ once the sigmoid output rounds to 1."""
import numpy as np


def backprop(weights, biases, x, y):
    a = [np.asarray(x, dtype=np.float32)]
    for W, b in zip(weights, biases):
        a.append(1 / (1 + np.exp(-(np.asarray(W, np.float32) @ a[-1] + np.asarray(b, np.float32)))))
    y = np.asarray(y, dtype=np.float32)
    dz = (a[-1] - y) / (a[-1] * (1 - a[-1])) * a[-1] * (1 - a[-1])
    dW, db = [], []
    for L in reversed(range(len(weights))):
        dW.insert(0, np.outer(dz, a[L]))
        db.insert(0, dz)
        if L:
            dz = (np.asarray(weights[L], np.float32).T @ dz) * a[L] * (1 - a[L])
    return dW, db
