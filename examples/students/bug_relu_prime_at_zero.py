"""Vectorised, relu hidden layers, identity output, half_sse.  BUGGY (NaN at the kink).

relu'(z) is written as (|z| + z) / (2|z|): 1 for z > 0 and 0 for z < 0, right everywhere except at
z = 0, where it divides 0 by 0.  Any pre-activation exactly at the kink (a dead unit whose weights and
bias are 0, an integer-valued input) turns every gradient below it into NaN.  Fine on random inputs; the
edge stage of `manualbp check` puts a unit exactly on the kink.

    manualbp check examples/students/bug_relu_prime_at_zero.py:backprop --hidden relu --output identity
"""
import numpy as np


def relu_prime(z):
    return (np.abs(z) + z) / (2 * np.abs(z))  # BUG: 0/0 at z = 0; any value in [0, 1] is fine there


def backprop(weights, biases, x, y):
    a, zs = [x], []
    for L, (W, b) in enumerate(zip(weights, biases)):
        z = W @ a[-1] + b
        zs.append(z)
        a.append(z if L == len(weights) - 1 else np.maximum(z, 0.0))
    delta = a[-1] - y
    dW, db = [None] * len(weights), [None] * len(weights)
    for L in reversed(range(len(weights))):
        dW[L] = np.outer(delta, a[L])
        db[L] = delta
        if L > 0:
            delta = (weights[L].T @ delta) * relu_prime(zs[L - 1])
    return dW, db
