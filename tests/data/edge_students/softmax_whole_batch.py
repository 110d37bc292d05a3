"""Two wrong softmax + cross-entropy backprops over a batch of columns (relu hidden, softmax_ce averaged over the
batch): ``backprop`` normalises the softmax over the whole batch (e / e.sum(), no axis), right for one sample only;
``smoothed`` keeps a training script's label smoothing, ε = 0.05, in the targets."""
import numpy as np


def backprop(weights, biases, X, Y, eps=0.0, per_sample=False):
    a = [X]
    for k, (W, b) in enumerate(zip(weights, biases)):
        Z = W @ a[-1] + b[:, None]
        if k == len(weights) - 1:
            e = np.exp(Z - Z.max())
            a.append(e / e.sum(axis=0, keepdims=True) if per_sample else e / e.sum())  # the bug: no axis
        else:
            a.append(np.maximum(Z, 0.0))
    dz = (a[-1] - ((1 - eps) * Y + eps / Y.shape[0])) / X.shape[1]
    dW, db = [None] * len(weights), [None] * len(weights)
    for k in range(len(weights) - 1, -1, -1):
        dW[k], db[k] = dz @ a[k].T, dz.sum(axis=1)
        if k:
            dz = (weights[k].T @ dz) * (a[k] > 0)
    return dW, db


def smoothed(weights, biases, X, Y):
    return backprop(weights, biases, X, Y, eps=0.05, per_sample=True)  # the bug: label smoothing ε = 0.05
