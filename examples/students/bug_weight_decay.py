"""Adds L2 weight decay to dW while claiming the plain cost.  BUGGY (catalogue: weight-decay, λ = 0.01).

Sigmoid everywhere, half_sse.

    manualbp check examples/students/bug_weight_decay.py:backprop
"""
import numpy as np

LAMBDA = 0.01


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def backprop(weights, biases, x, y):
    a = [x]
    for W, b in zip(weights, biases):
        a.append(sigmoid(W @ a[-1] + b))
    delta = a[-1] - y
    dW, db = [], []
    for l in range(len(weights) - 1, -1, -1):
        dz = delta * a[l + 1] * (1 - a[l + 1])
        dW.insert(0, np.outer(dz, a[l]) + LAMBDA * weights[l])  # the cost has no LAMBDA/2 ||W||^2 term
        db.insert(0, dz)
        delta = weights[l].T @ dz
    return dW, db
