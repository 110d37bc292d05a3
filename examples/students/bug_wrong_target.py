"""Index loops where every output is compared with y[0].  BUGGY (wrong-target).

Sigmoid everywhere, half_sse.

    manualbp check examples/students/bug_wrong_target.py:backprop
"""
import math


def backprop(weights, biases, x, y):
    acts = [list(x)]
    for W, b in zip(weights, biases):
        acts.append([1 / (1 + math.exp(-(b[j] + sum(W[j][k] * acts[-1][k] for k in range(len(acts[-1]))))))
                     for j in range(len(b))])
    out = acts[-1]
    delta = [0.0] * len(out)
    for k in range(len(out)):
        delta[k] = out[k] - y[0]  # BUG: y[k]
    dW, db = [], []
    for l in range(len(weights) - 1, -1, -1):
        a, prev = acts[l + 1], acts[l]
        g = [delta[j] * a[j] * (1 - a[j]) for j in range(len(a))]
        db.insert(0, g)
        dW.insert(0, [[g[j] * prev[k] for k in range(len(prev))] for j in range(len(a))])
        delta = [sum(weights[l][j][k] * g[j] for j in range(len(a))) for k in range(len(prev))]
    return dW, db
