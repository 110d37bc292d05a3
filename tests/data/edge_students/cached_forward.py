"""Wrong only after an earlier call: the forward pass is cached in a module global and reused whenever the
shapes match, so a second network of the same shapes gets the first one's activations."""
import numpy as np

_CACHE = {}


def backprop(weights, biases, x, y):
    key = tuple(W.shape for W in weights)
    if key not in _CACHE:
        a = [np.asarray(x, dtype=np.float64)]
        for W, b in zip(weights, biases):
            a.append(1 / (1 + np.exp(-(W @ a[-1] + b))))
        _CACHE[key] = a
    a = _CACHE[key]
    dz = (a[-1] - y) * a[-1] * (1 - a[-1])  # half_sse with a sigmoid output
    dW, db = [], []
    for L in reversed(range(len(weights))):
        dW.insert(0, np.outer(dz, a[L]))
        db.insert(0, dz)
        if L:
            dz = (weights[L].T @ dz) * a[L] * (1 - a[L])
    return dW, db
