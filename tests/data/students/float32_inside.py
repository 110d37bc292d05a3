"""A correct backprop that computes in float32 whatever it is given (sigmoid everywhere, half_sse, one sample).
Checked as float64 its answers are right to about seven digits only.

    manualbp check tests/data/students/float32_inside.py:backprop
"""
import numpy as np


def backprop(weights, biases, x, y):
    f = np.float32
    weights = [np.asarray(W, dtype=f) for W in weights]
    a = [np.asarray(x, dtype=f)]
    for W, b in zip(weights, biases):
        a.append(f(1) / (f(1) + np.exp(-(W @ a[-1] + np.asarray(b, dtype=f)))))
    delta = a[-1] - np.asarray(y, dtype=f)
    dW, db = [], []
    for L in range(len(weights) - 1, -1, -1):
        g = delta * a[L + 1] * (f(1) - a[L + 1])
        dW.insert(0, np.outer(g, a[L]))
        db.insert(0, g)
        delta = weights[L].T @ g
    return dW, db
