"""Backprop with index loops, plain Python lists of floats.  Correct.

Sigmoid everywhere, cost C = 1/2 * sum_k (a_k - y_k)^2 (half_sse).

    manualbp check examples/students/correct_loops.py:backprop --hidden sigmoid --output sigmoid --cost half_sse
"""
import math


def sigmoid(t):
    if t >= 0:
        return 1.0 / (1.0 + math.exp(-t))
    e = math.exp(t)
    return e / (1.0 + e)


def backprop(weights, biases, x, y):
    # forward pass, keeping every layer's activations
    acts = [[float(v) for v in x]]
    for l in range(len(weights)):
        W, b = weights[l], biases[l]
        prev = acts[-1]
        out = []
        for j in range(len(b)):
            z = b[j]
            for k in range(len(prev)):
                z += W[j][k] * prev[k]
            out.append(sigmoid(z))
        acts.append(out)

    n_layers = len(weights)
    dW = [None] * n_layers
    db = [None] * n_layers
    a_out = acts[-1]
    delta = [a_out[k] - y[k] for k in range(len(a_out))]  # dC/da for 1/2 sum (a-y)^2
    for l in range(n_layers - 1, -1, -1):
        a = acts[l + 1]
        a_prev = acts[l]
        dz = [delta[j] * a[j] * (1 - a[j]) for j in range(len(a))]
        db[l] = dz
        dW[l] = [[dz[j] * a_prev[k] for k in range(len(a_prev))] for j in range(len(a))]
        new_delta = []
        for k in range(len(a_prev)):
            s = 0.0
            for j in range(len(a)):
                s += weights[l][j][k] * dz[j]
            new_delta.append(s)
        delta = new_delta
    return dW, db
