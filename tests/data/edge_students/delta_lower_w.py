"""Wrong: δ propagated with the weights of the layer below (weights[k - 1] where weights[k] belongs); it raises
wherever their shapes do not allow it."""
import numpy as np


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def backprop(weights, biases, x, y):
    a = [x]
    for W, b in zip(weights, biases):
        a.append(_sigmoid(W @ a[-1] + b))
    dW, db = [None] * len(weights), [None] * len(weights)
    dz = (a[-1] - y) * a[-1] * (1 - a[-1])
    for k in range(len(weights) - 1, -1, -1):
        dW[k], db[k] = np.outer(dz, a[k]), dz
        if k:
            dz = (weights[k - 1].T @ dz) * a[k] * (1 - a[k])  # the bug: weights[k]
    return dW, db
