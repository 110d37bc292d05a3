"""One sample, sigmoid everywhere, half the summed squared error; the gradients are right.

BUG: reverses the caller's lists in place to walk the layers backwards (weights.reverse()) and never
restores them.

    manualbp check tests/data/students/mutates_by_reversing.py:backprop
"""
import numpy as np


def backprop(weights, biases, x, y):
    acts = [x]
    for W, b in zip(weights, biases):
        acts.append(1 / (1 + np.exp(-(W @ acts[-1] + b))))
    weights.reverse()
    d = (acts[-1] - y) * acts[-1] * (1 - acts[-1])
    dW, db = [], []
    for k, W in enumerate(weights):
        a_in = acts[-2 - k]
        dW.insert(0, np.outer(d, a_in))
        db.insert(0, d)
        d = (W.T @ d) * a_in * (1 - a_in)
    return dW, db
