"""Correct, written the derivation's way with the math module: σ(z) = 1/(1 + e^−z), σ' = a(1 − a), half_sse.

No numerical care at all; it must still pass every edge case (math.exp raises OverflowError past e^709).
"""
import math


def backprop(weights, biases, x, y):
    acts = [[float(v) for v in x]]
    for W, b in zip(weights, biases):
        prev = acts[-1]
        acts.append([1.0 / (1.0 + math.exp(-(b[j] + sum(W[j][k] * prev[k] for k in range(len(prev))))))
                     for j in range(len(b))])
    delta = [a - t for a, t in zip(acts[-1], y)]
    dW, db = [None] * len(weights), [None] * len(weights)
    for L in reversed(range(len(weights))):
        a, prev = acts[L + 1], acts[L]
        dz = [delta[j] * a[j] * (1.0 - a[j]) for j in range(len(a))]
        db[L] = dz
        dW[L] = [[dz[j] * prev[k] for k in range(len(prev))] for j in range(len(a))]
        delta = [sum(weights[L][j][k] * dz[j] for j in range(len(a))) for k in range(len(prev))]
    return dW, db
