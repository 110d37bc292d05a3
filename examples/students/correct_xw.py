"""The "x @ W" style: weights stored (n_in, n_out), one ROW per sample.  Correct.

tanh hidden layers, identity output, loss = 0.25 * sum over the batch and the outputs of (A - Y)^2,
i.e. per sample half_sse * 0.5, summed (not averaged) over the samples.

    manualbp check examples/students/correct_xw.py:backprop --hidden tanh --output identity --cost half_sse \
        --scale 0.5 --layout xw --batch rows --reduction sum
"""
import numpy as np


def backprop(weights, biases, X, Y):
    hs = [X]
    for i, (W, b) in enumerate(zip(weights, biases)):
        Z = hs[-1] @ W + b
        hs.append(Z if i == len(weights) - 1 else np.tanh(Z))
    G = 0.5 * (hs[-1] - Y)  # d/dA of 0.25 * sum (A - Y)^2
    grads_W = [None] * len(weights)
    grads_b = [None] * len(weights)
    for i in range(len(weights) - 1, -1, -1):
        if i != len(weights) - 1:
            G = G * (1 - hs[i + 1] ** 2)  # tanh'
        grads_W[i] = hs[i].T @ G
        grads_b[i] = G.sum(axis=0)
        G = G @ weights[i].T
    return grads_W, grads_b
