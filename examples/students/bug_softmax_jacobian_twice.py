"""Softmax output with cross-entropy, one sample, tanh hidden layers.

BUG: starts from ∂C/∂z = a − y (softmax and cross-entropy together) and then applies the softmax Jacobian
J = diag(a) − a aᵀ to it as if it were ∂C/∂a.

    manualbp check examples/students/bug_softmax_jacobian_twice.py:backprop --hidden tanh --output softmax \
        --cost softmax_ce
"""
import numpy as np


def backprop(weights, biases, x, y):
    a, zs = [x], []
    for W, b in zip(weights, biases):
        zs.append(W @ a[-1] + b)
        a.append(np.tanh(zs[-1]))
    e = np.exp(zs[-1] - zs[-1].max())
    a[-1] = e / e.sum()
    d = a[-1] - y
    jac = np.diag(a[-1]) - np.outer(a[-1], a[-1])
    d = jac.T @ d  # the mistake: the Jacobian is already inside a − y
    dW, db = [], []
    for L in range(len(weights), 0, -1):
        dW.insert(0, np.outer(d, a[L - 1]))
        db.insert(0, d)
        if L > 1:
            d = (weights[L - 1].T @ d) * (1 - a[L - 1] ** 2)
    return dW, db
