"""One sample, sigmoid everywhere, half the summed squared error.

BUG: "transposes" W with reshape when propagating δ: W.reshape(n_in, n_out) keeps the entries in row order,
so it equals W.T only when a width is 1.

    manualbp check examples/students/bug_reshape_not_transpose.py:backprop
"""
import numpy as np


def backprop(weights, biases, x, y):
    a = [x]
    for W, b in zip(weights, biases):
        a.append(1 / (1 + np.exp(-(W @ a[-1] + b))))
    delta = a[-1] - y
    dW, db = [None] * len(weights), [None] * len(weights)
    for L in reversed(range(len(weights))):
        g = delta * a[L + 1] * (1 - a[L + 1])
        dW[L], db[L] = np.outer(g, a[L]), g
        n_out, n_in = weights[L].shape
        delta = weights[L].reshape(n_in, n_out) @ g  # the mistake: weights[L].T @ g
    return dW, db
