"""Batch of columns; sums the gradients over the samples but claims the mean cost.  BUGGY (batch-factor).

Sigmoid everywhere, half_sse averaged over the batch.

    manualbp check examples/students/bug_batch_sum.py:backprop --batch columns
"""
import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def backprop(weights, biases, X, Y):
    A = [X]
    for W, b in zip(weights, biases):
        A.append(sigmoid(W @ A[-1] + b[:, None]))
    D = A[-1] - Y  # BUG: / X.shape[1] for the mean over the batch
    dW, db = [], []
    for l in range(len(weights) - 1, -1, -1):
        G = D * A[l + 1] * (1 - A[l + 1])
        dW.insert(0, G @ A[l].T)
        db.insert(0, G.sum(axis=1))
        D = weights[l].T @ G
    return dW, db
