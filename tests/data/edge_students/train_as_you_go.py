"""Wrong in how δ and ∂C/∂W meet the weights: ``backprop`` takes a gradient step (learning rate 0.1) on a copy of
each W as soon as its gradient is known and propagates δ through the updated weights; ``outer_by_shape`` forms
a δᵀ and transposes it only when its shape is not W's, so square layers stay transposed; ``lower_w`` propagates
δ with the weights of the layer below (weights[k - 1] for weights[k]) and raises wherever their shapes do not
allow it.  Sigmoid everywhere, half_sse."""
import numpy as np


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _forward(weights, biases, x):
    a = [x]
    for W, b in zip(weights, biases):
        a.append(_sigmoid(W @ a[-1] + b))
    return a


def _backward(weights, a, y, grad_w, back):
    """The backward pass with ∂C/∂W^(k) = grad_w(k, dz) and the δ sent down = back(k, dz, dW) (the bugs go there)."""
    dW, db = [None] * len(weights), [None] * len(weights)
    dz = (a[-1] - y) * a[-1] * (1 - a[-1])
    for k in range(len(weights) - 1, -1, -1):
        dW[k], db[k] = grad_w(k, dz), dz
        if k:
            dz = back(k, dz, dW) * a[k] * (1 - a[k])
    return dW, db


def backprop(weights, biases, x, y):
    a = _forward(weights, biases, x)
    return _backward(weights, a, y, lambda k, dz: np.outer(dz, a[k]),
                     lambda k, dz, dW: (weights[k] - 0.1 * dW[k]).T @ dz)  # the bug: the weights as given


def outer_by_shape(weights, biases, x, y):
    a = _forward(weights, biases, x)

    def grad_w(k, dz):
        g = np.outer(a[k], dz)
        return g.T if g.shape != weights[k].shape else g  # the bug: always g.T

    return _backward(weights, a, y, grad_w, lambda k, dz, dW: weights[k].T @ dz)


def lower_w(weights, biases, x, y):
    a = _forward(weights, biases, x)
    return _backward(weights, a, y, lambda k, dz: np.outer(dz, a[k]),
                     lambda k, dz, dW: weights[k - 1].T @ dz)  # the bug: weights[k]
