"""Wrong: a batch of columns whose softmax normalises over the whole batch (e / e.sum(), no axis); right for one
sample only.  relu hidden, softmax output, softmax_ce averaged over the batch."""
import numpy as np


def backprop(weights, biases, X, Y):
    a = [X]
    for k, (W, b) in enumerate(zip(weights, biases)):
        Z = W @ a[-1] + b[:, None]
        if k == len(weights) - 1:
            e = np.exp(Z - Z.max())
            a.append(e / e.sum())  # the bug: e.sum(axis=0, keepdims=True)
        else:
            a.append(np.maximum(Z, 0.0))
    dz = (a[-1] - Y) / X.shape[1]
    dW, db = [None] * len(weights), [None] * len(weights)
    for k in range(len(weights) - 1, -1, -1):
        dW[k], db[k] = dz @ a[k].T, dz.sum(axis=1)
        if k:
            dz = (weights[k].T @ dz) * (a[k] > 0)
    return dW, db
