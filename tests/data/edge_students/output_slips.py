"""Wrong at the output layer only: ``backprop`` forms δ in place on the activation (delta = a; delta -= y), so σ'
is taken of a − y; ``softmax_diagonal`` writes the softmax Jacobian's diagonal as a(a − 1), not a(1 − a)."""
import numpy as np


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _hidden(weights, biases, x):
    a = [x]
    for W, b in zip(weights[:-1], biases[:-1]):
        a.append(_sigmoid(W @ a[-1] + b))
    return a


def _down(weights, a, dz):
    dW, db = [None] * len(weights), [None] * len(weights)
    for k in range(len(weights) - 1, -1, -1):
        dW[k], db[k] = np.outer(dz, a[k]), dz.copy()
        if k:
            dz = (weights[k].T @ dz) * a[k] * (1 - a[k])
    return dW, db


def backprop(weights, biases, x, y):
    a = _hidden(weights, biases, x)
    out = _sigmoid(weights[-1] @ a[-1] + biases[-1])
    delta = out  # the bug: not a copy
    delta -= y
    delta *= out * (1 - out)
    return _down(weights, a, delta)


def softmax_diagonal(weights, biases, x, y):
    a = _hidden(weights, biases, x)
    z = weights[-1] @ a[-1] + biases[-1]
    out = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    J = -np.outer(out, out)
    J[np.diag_indices(len(out))] = out * (out - 1)  # the bug: out * (1 - out)
    return _down(weights, a, J.T @ (out - y))
