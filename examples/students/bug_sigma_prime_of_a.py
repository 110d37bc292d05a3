"""Applies sigmoid_prime to the activation instead of z.  BUGGY (sigma-prime-of-a).

Sigmoid everywhere, half_sse.

    manualbp check examples/students/bug_sigma_prime_of_a.py:backprop
"""
import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def sigmoid_prime(z):
    return sigmoid(z) * (1 - sigmoid(z))


def backprop(weights, biases, x, y):
    a = [x]
    for W, b in zip(weights, biases):
        a.append(sigmoid(W @ a[-1] + b))
    delta = a[-1] - y
    dW, db = [], []
    for l in range(len(weights) - 1, -1, -1):
        dz = delta * sigmoid_prime(a[l + 1])  # BUG: sigmoid_prime(z), or a * (1 - a)
        dW.insert(0, np.outer(dz, a[l]))
        db.insert(0, dz)
        delta = weights[l].T @ dz
    return dW, db
