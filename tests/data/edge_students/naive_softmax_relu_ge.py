"""Correct: a batch in columns, relu hidden layers with relu'(0) = 1 (z >= 0; any value in [0, 1] is a valid
subgradient), softmax output computed without subtracting the max, mean cross-entropy, δ^(N) = (a − y)/B."""
import numpy as np


def backprop(weights, biases, X, Y):
    acts, zs = [X], []
    for L, (W, b) in enumerate(zip(weights, biases)):
        Z = W @ acts[-1] + b[:, None]
        zs.append(Z)
        if L == len(weights) - 1:
            E = np.exp(Z)
            acts.append(E / E.sum(axis=0))
        else:
            acts.append(np.maximum(Z, 0.0))
    dZ = (acts[-1] - Y) / X.shape[1]
    dW, db = [], []
    for L in reversed(range(len(weights))):
        dW.insert(0, dZ @ acts[L].T)
        db.insert(0, dZ.sum(axis=1))
        if L:
            dZ = (weights[L].T @ dZ) * (zs[L - 1] >= 0)
    return dW, db
