"""The outer product in the wrong order, "fixed" with a reshape.  BUGGY (outer-order).

Sigmoid everywhere, half_sse.

    manualbp check examples/students/bug_outer_order.py:backprop
"""
import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def backprop(weights, biases, x, y):
    acts = [x]
    for W, b in zip(weights, biases):
        acts.append(sigmoid(W @ acts[-1] + b))
    grads_W, grads_b = [], []
    delta = acts[-1] - y
    for l in reversed(range(len(weights))):
        dz = delta * acts[l + 1] * (1 - acts[l + 1])
        # BUG: a_prev outer dz has shape (n_in, n_out); the reshape hides it
        grads_W.append(np.outer(acts[l], dz).reshape(weights[l].shape))
        grads_b.append(dz)
        delta = weights[l].T @ dz
    return grads_W[::-1], grads_b[::-1]
