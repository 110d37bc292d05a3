"""Wrong: a batch (one sample per column, mean cost) whose hidden layers divide by B once more: the δ passed down
already carries the 1/B of the output layer."""
import numpy as np


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def backprop(weights, biases, X, Y):
    a = [X]
    for W, b in zip(weights, biases):
        a.append(_sigmoid(W @ a[-1] + b[:, None]))
    B = X.shape[1]
    dz = (a[-1] - Y) * a[-1] * (1 - a[-1]) / B
    dW, db = [None] * len(weights), [None] * len(weights)
    for k in range(len(weights) - 1, -1, -1):
        dW[k], db[k] = dz @ a[k].T, dz.sum(axis=1)
        if k:
            dz = (weights[k].T @ dz) * a[k] * (1 - a[k]) / B  # the bug: / B again
    return dW, db
