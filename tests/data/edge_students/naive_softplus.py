"""Correct, the derivation's formulas verbatim: softplus(z) = log(1 + e^z), softplus'(z) = e^z/(1 + e^z),
identity output, half_mse (½ Σ (a − y)² / n_N)."""
import numpy as np


def backprop(weights, biases, x, y):
    acts, zs = [x], []
    for L, (W, b) in enumerate(zip(weights, biases)):
        z = W @ acts[-1] + b
        zs.append(z)
        acts.append(z if L == len(weights) - 1 else np.log(1.0 + np.exp(z)))
    dz = (acts[-1] - y) / len(y)
    dW, db = [], []
    for L in reversed(range(len(weights))):
        dW.insert(0, np.outer(dz, acts[L]))
        db.insert(0, dz)
        if L:
            e = np.exp(zs[L - 1])
            dz = (weights[L].T @ dz) * e / (1.0 + e)
    return dW, db
