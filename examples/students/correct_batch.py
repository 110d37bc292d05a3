"""A batch of samples as columns (X is (n_in, B)), ReLU hidden, softmax output, cross-entropy.  Correct.

cost = mean over the batch of -sum_k y_k log a_k (softmax_ce).

    manualbp check examples/students/correct_batch.py:backprop --hidden relu --output softmax --cost softmax_ce \
        --batch columns
"""
import numpy as np


def softmax(Z):
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    return E / E.sum(axis=0, keepdims=True)


def backprop(weights, biases, X, Y):
    B = X.shape[1]
    A, Zs = [X], []
    for i, (W, b) in enumerate(zip(weights, biases)):
        Z = W @ A[-1] + b[:, None]
        Zs.append(Z)
        A.append(softmax(Z) if i == len(weights) - 1 else np.maximum(Z, 0))
    # softmax + cross-entropy: dC/dZ = A * sum(Y) - Y   (sum(Y) = 1 for one-hot targets)
    dZ = (A[-1] * Y.sum(axis=0, keepdims=True) - Y) / B
    dWs, dbs = [], []
    for i in range(len(weights) - 1, -1, -1):
        dWs.insert(0, dZ @ A[i].T)
        dbs.insert(0, dZ.sum(axis=1))
        if i > 0:
            dZ = (weights[i].T @ dZ) * (Zs[i - 1] > 0)
    return dWs, dbs
