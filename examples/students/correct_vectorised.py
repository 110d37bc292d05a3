"""Vectorised NumPy backprop, in the seed derivation's convention.  Correct.

Sigmoid everywhere, C = 1/2 * [sum_k (a_k - y_k)^2 / n_L] (half the mean squared error: half_mse).

    manualbp check examples/students/correct_vectorised.py:backprop --cost half_mse
"""
import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def backprop(weights, biases, x, y):
    a = [x]
    for W, b in zip(weights, biases):
        a.append(sigmoid(W @ a[-1] + b))
    delta = (a[-1] - y) / len(y)
    dW, db = [], []
    for l in reversed(range(len(weights))):
        g = delta * a[l + 1] * (1 - a[l + 1])
        dW.insert(0, np.outer(g, a[l]))
        db.insert(0, g)
        delta = weights[l].T @ g
    return dW, db
