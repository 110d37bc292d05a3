"""Differentiates sum (a - y)^2 while claiming 1/2 sum (a - y)^2.  BUGGY (constant-factor 2).

    manualbp check examples/students/bug_constant_factor.py:backprop --cost half_sse
"""
import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def backprop(weights, biases, x, y):
    a = [x]
    for W, b in zip(weights, biases):
        a.append(sigmoid(W @ a[-1] + b))
    delta = 2 * (a[-1] - y)  # BUG for half_sse: the 1/2 cancels the 2
    dW, db = [], []
    for l in range(len(weights) - 1, -1, -1):
        dz = delta * a[l + 1] * (1 - a[l + 1])
        dW.insert(0, np.outer(dz, a[l]))
        db.insert(0, dz)
        delta = weights[l].T @ dz
    return dW, db
