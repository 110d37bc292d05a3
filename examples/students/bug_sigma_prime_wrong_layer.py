"""Takes σ' of the pre-activation one layer up in the hidden layers (zs[l] where zs[l - 1] belongs).
BUGGY (sigma-prime-wrong-layer).

The output layer is right, so a network without hidden layers passes; where the widths differ, numpy
broadcasts or raises.  Sigmoid everywhere, half_sse.

    manualbp check examples/students/bug_sigma_prime_wrong_layer.py:backprop
"""
import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def backprop(weights, biases, x, y):
    activations, zs = [x], []
    for W, b in zip(weights, biases):
        zs.append(W @ activations[-1] + b)
        activations.append(sigmoid(zs[-1]))
    n = len(weights)
    dW, db = [None] * n, [None] * n
    dz = (activations[-1] - y) * activations[-1] * (1 - activations[-1])
    for l in range(n - 1, -1, -1):
        db[l] = dz
        dW[l] = np.outer(dz, activations[l])
        if l > 0:
            s = sigmoid(zs[l])  # BUG: zs[l - 1], the pre-activation of the layer below W[l]
            dz = (weights[l].T @ dz) * s * (1 - s)
    return dW, db
