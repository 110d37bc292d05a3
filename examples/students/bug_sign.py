"""Index loops with the error the wrong way round: y - a.  BUGGY (sign).

Sigmoid everywhere, half_sse.

    manualbp check examples/students/bug_sign.py:backprop
"""
import numpy as np


def backprop(weights, biases, x, y):
    acts = [np.array(x, dtype=float)]
    for W, b in zip(weights, biases):
        z = np.zeros(len(b))
        for j in range(len(b)):
            z[j] = b[j] + sum(W[j][k] * acts[-1][k] for k in range(len(acts[-1])))
        acts.append(1 / (1 + np.exp(-z)))
    n = len(weights)
    dW = [np.zeros_like(np.asarray(W, dtype=float)) for W in weights]
    db = [np.zeros(len(b)) for b in biases]
    out = acts[-1]
    delta = np.array([y[k] - out[k] for k in range(len(out))])  # BUG: a - y
    for l in range(n - 1, -1, -1):
        a, prev = acts[l + 1], acts[l]
        for j in range(len(a)):
            db[l][j] = delta[j] * a[j] * (1 - a[j])
            for k in range(len(prev)):
                dW[l][j][k] = db[l][j] * prev[k]
        delta = np.array([sum(weights[l][j][k] * db[l][j] for j in range(len(a))) for k in range(len(prev))])
    return dW, db
