"""Wrong: takes a batch of columns but reads the orientation off the shape (rows when x's second axis matches the
input width), so a square x (B = n_1) is read the wrong way."""
import numpy as np


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def backprop(weights, biases, X, Y):
    if X.shape[1] == weights[0].shape[1]:  # the bug: "looks like one sample per row"
        X, Y = X.T, Y.T
    a = [X]
    for W, b in zip(weights, biases):
        a.append(_sigmoid(W @ a[-1] + b[:, None]))
    dz = (a[-1] - Y) * a[-1] * (1 - a[-1]) / X.shape[1]
    dW, db = [None] * len(weights), [None] * len(weights)
    for k in range(len(weights) - 1, -1, -1):
        dW[k], db[k] = dz @ a[k].T, dz.sum(axis=1)
        if k:
            dz = (weights[k].T @ dz) * a[k] * (1 - a[k])
    return dW, db
