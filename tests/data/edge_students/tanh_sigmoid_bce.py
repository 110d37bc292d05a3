"""Correct: σ(z) computed as ½(1 + tanh(z/2)), tanh hidden layers, binary cross-entropy with δ^(N) = a − y.

½(1 + tanh(z/2)) is 0 where 1/(1 + e^−z) is a tiny positive number: both are correct backprops.
"""
import numpy as np


def backprop(weights, biases, x, y):
    acts = [x]
    for L, (W, b) in enumerate(zip(weights, biases)):
        z = W @ acts[-1] + b
        acts.append(0.5 * (1.0 + np.tanh(0.5 * z)) if L == len(weights) - 1 else np.tanh(z))
    dz = acts[-1] - y
    dW, db = [], []
    for L in reversed(range(len(weights))):
        dW.insert(0, np.outer(dz, acts[L]))
        db.insert(0, dz)
        if L:
            dz = (weights[L].T @ dz) * (1.0 - acts[L] ** 2)
    return dW, db
