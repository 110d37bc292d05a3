"""One sample, relu hidden layers, sigmoid output, half the summed squared error.

BUG: relu'(z) computed from the activation as (a >= 0), which is 1 everywhere since a = relu(z) >= 0.

    manualbp check tests/data/students/relu_prime_of_activation.py:backprop --hidden relu --output sigmoid
"""
import numpy as np


def backprop(weights, biases, x, y):
    acts = [x]
    for i, (W, b) in enumerate(zip(weights, biases)):
        z = W @ acts[-1] + b
        acts.append(1 / (1 + np.exp(-z)) if i == len(weights) - 1 else np.maximum(z, 0))
    g = (acts[-1] - y) * acts[-1] * (1 - acts[-1])
    dW, db = [], []
    for i in range(len(weights) - 1, -1, -1):
        dW.insert(0, np.outer(g, acts[i]))
        db.insert(0, g)
        if i:
            g = (weights[i].T @ g) * (acts[i] >= 0)  # the mistake: (z > 0)
    return dW, db
