"""Writes tanh'(z) as 1 - tanh(z): the square is forgotten.  BUGGY (sigma-prime-slip).

tanh hidden layers, identity output, half_sse.

    manualbp check examples/students/bug_tanh_prime_no_square.py:backprop --hidden tanh --output identity
"""
import numpy as np


def backprop(weights, biases, x, y):
    a = [x]
    for k, (W, b) in enumerate(zip(weights, biases)):
        z = W @ a[-1] + b
        a.append(z if k == len(weights) - 1 else np.tanh(z))
    dW, db = [None] * len(weights), [None] * len(weights)
    dz = a[-1] - y
    for k in range(len(weights) - 1, -1, -1):
        dW[k], db[k] = np.outer(dz, a[k]), dz
        if k:
            dz = (weights[k].T @ dz) * (1 - a[k])  # BUG: 1 - a[k] ** 2
    return dW, db
