"""The backward loop stops one layer early, so the first layer's gradients stay zero.  BUGGY (some-layers).

Sigmoid everywhere, half_sse.

    manualbp check examples/students/bug_some_layers.py:backprop
"""
import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def backprop(weights, biases, x, y):
    L = len(weights)
    a = [x]
    for W, b in zip(weights, biases):
        a.append(sigmoid(W @ a[-1] + b))
    dW = [np.zeros_like(W) for W in weights]
    db = [np.zeros_like(b) for b in biases]
    dz = (a[-1] - y) * a[-1] * (1 - a[-1])
    dW[L - 1] = np.outer(dz, a[L - 1])
    db[L - 1] = dz
    for l in range(L - 2, 0, -1):  # BUG: range(L - 2, -1, -1) reaches the first layer
        dz = (weights[l + 1].T @ dz) * a[l + 1] * (1 - a[l + 1])
        dW[l] = np.outer(dz, a[l])
        db[l] = dz
    return dW, db
