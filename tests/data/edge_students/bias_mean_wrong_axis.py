"""Wrong: a batch of rows (mean cost) whose bias gradient is the mean over the units (axis=1), one entry per
sample, instead of over the samples (axis=0)."""
import numpy as np


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def backprop(weights, biases, X, Y):
    a = [X]
    for W, b in zip(weights, biases):
        a.append(_sigmoid(a[-1] @ W.T + b))
    D = (a[-1] - Y) * a[-1] * (1 - a[-1])  # one row per sample, not yet averaged
    dW, db = [None] * len(weights), [None] * len(weights)
    for k in range(len(weights) - 1, -1, -1):
        dW[k] = D.T @ a[k] / X.shape[0]
        db[k] = np.mean(D, axis=1)  # the bug: axis=0
        if k:
            D = (D @ weights[k]) * a[k] * (1 - a[k])
    return dW, db
