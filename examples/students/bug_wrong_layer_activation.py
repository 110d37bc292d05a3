"""dW uses the activation of the layer the weights lead TO.  BUGGY (wrong-layer-activation).

Sigmoid everywhere, half_sse.  Where the widths differ it returns dW of the wrong shape.

    manualbp check examples/students/bug_wrong_layer_activation.py:backprop
"""
import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def backprop(weights, biases, x, y):
    activations = [x]
    for W, b in zip(weights, biases):
        activations.append(sigmoid(W @ activations[-1] + b))
    delta = activations[-1] - y
    dW, db = [None] * len(weights), [None] * len(weights)
    for l in range(len(weights) - 1, -1, -1):
        a = activations[l + 1]
        dz = delta * a * (1 - a)
        dW[l] = np.outer(dz, activations[l + 1])  # BUG: activations[l]
        db[l] = dz
        delta = weights[l].T @ dz
    return dW, db
