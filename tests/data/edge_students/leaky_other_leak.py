"""Wrong: a leaky_relu network whose backward pass uses another leak (0.2, a framework default) than its
forward pass (0.01)."""
import numpy as np


def backprop(weights, biases, x, y):
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
            dz = (weights[L].T @ dz) * np.where(zs[L - 1] > 0, 1.0, 0.2)  # the bug: 0.2, not 0.01
    return dW, db
