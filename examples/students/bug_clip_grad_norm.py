"""Clips the whole gradient to a global norm of 0.1 (as torch.nn.utils.clip_grad_norm_ would) before returning it.
BUGGY (clipped): clipping belongs in the optimiser step, not in the gradient.

Sigmoid everywhere, half_sse.

    manualbp check examples/students/bug_clip_grad_norm.py:backprop
"""
import numpy as np

MAX_NORM = 0.1


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def backprop(weights, biases, x, y):
    a = [x]
    for W, b in zip(weights, biases):
        a.append(_sigmoid(W @ a[-1] + b))
    dW, db = [None] * len(weights), [None] * len(weights)
    dz = (a[-1] - y) * a[-1] * (1 - a[-1])
    for k in range(len(weights) - 1, -1, -1):
        dW[k], db[k] = np.outer(dz, a[k]), dz
        if k:
            dz = (weights[k].T @ dz) * a[k] * (1 - a[k])
    norm = np.sqrt(sum((g ** 2).sum() for g in dW + db))
    if norm > MAX_NORM:  # BUG
        dW, db = [g * MAX_NORM / norm for g in dW], [g * MAX_NORM / norm for g in db]
    return dW, db
