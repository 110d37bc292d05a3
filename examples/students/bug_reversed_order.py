"""One sample, tanh hidden layers, identity output, half the summed squared error.

BUG: appends each layer's gradients while walking backwards and never reverses the lists, so dW[0] is the
output layer's gradient.

    manualbp check examples/students/bug_reversed_order.py:backprop --hidden tanh --output identity
"""
import numpy as np


def backprop(weights, biases, x, y):
    a = [x]
    for i, (W, b) in enumerate(zip(weights, biases)):
        z = W @ a[-1] + b
        a.append(z if i == len(weights) - 1 else np.tanh(z))
    delta = a[-1] - y
    dW, db = [], []
    for i in range(len(weights) - 1, -1, -1):
        dW.append(np.outer(delta, a[i]))
        db.append(delta.copy())
        if i > 0:
            delta = (weights[i].T @ delta) * (1 - a[i] ** 2)
    return dW, db  # the mistake: dW[::-1], db[::-1]
