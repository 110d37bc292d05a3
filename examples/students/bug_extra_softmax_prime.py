"""Softmax output with cross-entropy, a batch of columns averaged over the batch, sigmoid hidden layers.

BUG: ∂C/∂z at the output is already a − y for softmax + cross-entropy; this code multiplies it by the
softmax's derivative a(1 − a) once more.

    manualbp check examples/students/bug_extra_softmax_prime.py:backprop --hidden sigmoid --output softmax \
        --cost softmax_ce --batch columns
"""
import numpy as np


def backprop(weights, biases, X, Y):
    n_samples = X.shape[1]
    acts = [X]
    for i, (W, b) in enumerate(zip(weights, biases)):
        z = W @ acts[-1] + b[:, None]
        if i == len(weights) - 1:
            e = np.exp(z - z.max(axis=0))
            acts.append(e / e.sum(axis=0))
        else:
            acts.append(1.0 / (1.0 + np.exp(-z)))
    out = acts[-1]
    g = (out - Y) / n_samples
    g = g * out * (1 - out)  # the mistake: a − y is already ∂C/∂z
    grads_W, grads_b = [None] * len(weights), [None] * len(weights)
    for i in reversed(range(len(weights))):
        grads_W[i] = g @ acts[i].T
        grads_b[i] = g.sum(axis=1)
        if i:
            g = (weights[i].T @ g) * acts[i] * (1 - acts[i])
    return grads_W, grads_b
