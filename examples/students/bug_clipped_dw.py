"""Clips every weight gradient to [-0.01, 0.01] "for stability" while claiming the plain cost.  BUGGY (not in
the catalogue: unrecognised; only the large ∂C/∂W entries are wrong, the biases are right).

Sigmoid everywhere, half_sse.

    manualbp check examples/students/bug_clipped_dw.py:backprop
"""
import numpy as np

CLIP = 0.01


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def backprop(weights, biases, x, y):
    a = [x]
    for W, b in zip(weights, biases):
        a.append(sigmoid(W @ a[-1] + b))
    delta = a[-1] - y
    dW, db = [], []
    for l in range(len(weights) - 1, -1, -1):
        dz = delta * a[l + 1] * (1 - a[l + 1])
        dW.insert(0, np.clip(np.outer(dz, a[l]), -CLIP, CLIP))  # clipping belongs to the optimiser, if anywhere
        db.insert(0, dz)
        delta = weights[l].T @ dz
    return dW, db
