"""Wrong: ``backprop`` takes a gradient step (learning rate 0.1) on a copy of each W as soon as its gradient is known
and propagates δ through the updated weights; ``outer_by_shape`` forms a δᵀ and transposes it only when its shape
is not W's, so square layers stay transposed.  Sigmoid everywhere, half_sse."""
import numpy as np


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _forward(weights, biases, x):
    a = [x]
    for W, b in zip(weights, biases):
        a.append(_sigmoid(W @ a[-1] + b))
    return a


def backprop(weights, biases, x, y):
    a = _forward(weights, biases, x)
    dW, db = [None] * len(weights), [None] * len(weights)
    dz = (a[-1] - y) * a[-1] * (1 - a[-1])
    for k in range(len(weights) - 1, -1, -1):
        dW[k], db[k] = np.outer(dz, a[k]), dz
        stepped = weights[k] - 0.1 * dW[k]  # the bug: δ must go back through the weights as given
        dz = (stepped.T @ dz) * a[k] * (1 - a[k])
    return dW, db


def outer_by_shape(weights, biases, x, y):
    a = _forward(weights, biases, x)
    dW, db = [None] * len(weights), [None] * len(weights)
    dz = (a[-1] - y) * a[-1] * (1 - a[-1])
    for k in range(len(weights) - 1, -1, -1):
        g = np.outer(a[k], dz)
        dW[k] = g.T if g.shape != weights[k].shape else g  # the bug: always g.T
        db[k] = dz
        dz = (weights[k].T @ dz) * a[k] * (1 - a[k])
    return dW, db
