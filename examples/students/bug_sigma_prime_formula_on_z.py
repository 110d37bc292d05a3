"""Uses the a(1 - a) formula for sigma' but feeds it z.  BUGGY (sigma-prime-formula-on-z).

Sigmoid everywhere, half_sse.

    manualbp check examples/students/bug_sigma_prime_formula_on_z.py:backprop
"""
import numpy as np


def backprop(weights, biases, x, y):
    zs, acts = [], [x]
    for W, b in zip(weights, biases):
        zs.append(W @ acts[-1] + b)
        acts.append(1 / (1 + np.exp(-zs[-1])))
    delta = acts[-1] - y
    dW, db = [None] * len(weights), [None] * len(weights)
    for l in reversed(range(len(weights))):
        dz = delta * zs[l] * (1 - zs[l])  # BUG: a * (1 - a) needs the activation, not z
        dW[l] = np.outer(dz, acts[l])
        db[l] = dz
        delta = weights[l].T @ dz
    return dW, db
