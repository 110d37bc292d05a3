"""Vectorised backprop that works in float32 throughout (as on a GPU).  Correct.

Sigmoid everywhere, half_sse.

    manualbp check examples/students/correct_float32.py:backprop --dtype float32
"""
import numpy as np


def sigmoid(z):
    return np.float32(1) / (np.float32(1) + np.exp(-z))


def backprop(weights, biases, x, y):
    weights = [np.asarray(W, dtype=np.float32) for W in weights]
    biases = [np.asarray(b, dtype=np.float32) for b in biases]
    a = [np.asarray(x, dtype=np.float32)]
    y = np.asarray(y, dtype=np.float32)
    for W, b in zip(weights, biases):
        a.append(sigmoid(W @ a[-1] + b))
    delta = a[-1] - y
    dW, db = [], []
    for l in range(len(weights) - 1, -1, -1):
        dz = delta * a[l + 1] * (np.float32(1) - a[l + 1])
        dW.append(np.outer(dz, a[l]))
        db.append(dz)
        delta = weights[l].T @ dz
    return dW[::-1], db[::-1]
