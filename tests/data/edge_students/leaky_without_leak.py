"""Wrong: leaky_relu networks whose backward pass uses another slope for z ≤ 0 than the forward pass's leak 0.01:
relu's 0 (``backprop``, the leak forgotten) or 0.2, a framework default (``other_leak``)."""
import numpy as np


def _backprop(weights, biases, x, y, slope):
    a, zs = [np.asarray(x, dtype=np.float64)], []
    for L, (W, b) in enumerate(zip(weights, biases)):
        z = W @ a[-1] + b
        zs.append(z)
        a.append(np.where(z > 0, z, 0.01 * z) if L < len(weights) - 1 else z)  # leaky hidden, identity output
    dz = a[-1] - y  # half_sse with an identity output
    dW, db = [], []
    for L in reversed(range(len(weights))):
        dW.insert(0, np.outer(dz, a[L]))
        db.insert(0, dz)
        if L:
            dz = (weights[L].T @ dz) * np.where(zs[L - 1] > 0, 1.0, slope)  # the bug: slope, not 0.01
    return dW, db


def backprop(weights, biases, x, y):
    return _backprop(weights, biases, x, y, 0.0)


def other_leak(weights, biases, x, y):
    return _backprop(weights, biases, x, y, 0.2)
