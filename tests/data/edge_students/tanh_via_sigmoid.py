"""tanh written as 2σ(2z) − 1: the right function, but near z = 0 it loses digits to cancellation (about 1e-13
relative), beyond the rounding of np.tanh.  Declared: tanh everywhere, half_mse."""
import numpy as np


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _tanh(z):
    return 2 * _sigmoid(2 * z) - 1


def backprop(weights, biases, x, y):
    a = [x]
    for W, b in zip(weights, biases):
        a.append(_tanh(W @ a[-1] + b))
    dW, db = [None] * len(weights), [None] * len(weights)
    dz = (a[-1] - y) / len(y) * (1 - a[-1] ** 2)
    for l in range(len(weights) - 1, -1, -1):
        db[l] = dz
        dW[l] = np.outer(dz, a[l])
        if l:
            dz = (weights[l].T @ dz) * (1 - a[l] ** 2)
    return dW, db
