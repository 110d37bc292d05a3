"""Vectorised backprop with W where W^T belongs when propagating delta.  BUGGY (transposed-W).

Sigmoid everywhere, half_sse.  On square layers it returns wrong numbers; elsewhere numpy raises.

    manualbp check examples/students/bug_transposed_w.py:backprop
"""
import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def backprop(weights, biases, x, y):
    a = [x]
    for W, b in zip(weights, biases):
        a.append(sigmoid(W @ a[-1] + b))
    delta = a[-1] - y
    dW, db = [None] * len(weights), [None] * len(weights)
    for l in range(len(weights) - 1, -1, -1):
        dz = delta * a[l + 1] * (1 - a[l + 1])
        dW[l] = np.outer(dz, a[l])
        db[l] = dz
        if l > 0:
            delta = weights[l] @ dz  # BUG: should be weights[l].T @ dz
    return dW, db
