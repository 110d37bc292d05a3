"""Loops where the hidden delta's last entry is never computed (range off by one).  BUGGY (delta-entry).

Sigmoid everywhere, half_sse.

    manualbp check examples/students/bug_stale_delta.py:backprop
"""
import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def backprop(weights, biases, x, y):
    a = [np.asarray(x, dtype=float)]
    for W, b in zip(weights, biases):
        a.append(sigmoid(W @ a[-1] + b))
    delta = a[-1] - y
    dW, db = [None] * len(weights), [None] * len(weights)
    for l in range(len(weights) - 1, -1, -1):
        dz = delta * a[l + 1] * (1 - a[l + 1])
        dW[l] = np.outer(dz, a[l])
        db[l] = dz
        n_in = weights[l].shape[1]
        new_delta = np.zeros(n_in)
        for j in range(n_in - 1):  # BUG: range(n_in)
            new_delta[j] = np.dot(weights[l][:, j], dz)
        delta = new_delta
    return dW, db
