"""Nielsen-style gradient accumulators kept between calls.  BUGGY (not reentrant: a second call differs).

Sigmoid everywhere, half_sse.

    manualbp check examples/students/bug_stateful.py:backprop
"""
import numpy as np

_nabla_w = {}
_nabla_b = {}


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def backprop(weights, biases, x, y):
    a = [x]
    for W, b in zip(weights, biases):
        a.append(sigmoid(W @ a[-1] + b))
    delta = a[-1] - y
    for l in range(len(weights) - 1, -1, -1):
        dz = delta * a[l + 1] * (1 - a[l + 1])
        key = (l, weights[l].shape)
        _nabla_w[key] = _nabla_w.get(key, 0) + np.outer(dz, a[l])  # BUG: never reset between calls
        _nabla_b[key] = _nabla_b.get(key, 0) + dz
        delta = weights[l].T @ dz
    return ([_nabla_w[(l, W.shape)] for l, W in enumerate(weights)],
            [_nabla_b[(l, W.shape)] for l, W in enumerate(weights)])
