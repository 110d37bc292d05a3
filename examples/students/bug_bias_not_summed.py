"""A batch of rows X (B, n_1), sigmoid everywhere, half the summed squared error averaged over the batch.

BUG: the bias gradient keeps one row per sample (shape (B, n)) instead of summing over the batch.

    manualbp check examples/students/bug_bias_not_summed.py:backprop --batch rows
"""
import numpy as np


def backprop(weights, biases, X, Y):
    batch = X.shape[0]
    outs = [X]
    for W, b in zip(weights, biases):
        outs.append(1 / (1 + np.exp(-(outs[-1] @ W.T + b))))
    grad_out = (outs[-1] - Y) / batch
    dWs, dbs = [], []
    for W, a_in, a_out in zip(weights[::-1], outs[-2::-1], outs[:0:-1]):
        dz = grad_out * a_out * (1 - a_out)
        dWs.append(dz.T @ a_in)
        dbs.append(dz)  # the mistake: dz.sum(axis=0)
        grad_out = dz @ W
    return dWs[::-1], dbs[::-1]
