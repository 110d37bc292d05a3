"""An independent backprop in plain scalar loops with mpmath (for tests only).

Written from the chain rule entry by entry, sharing no code with manualbp:
it derives ∂C/∂z^(N) from the cost directly and walks back with explicit sums.
"""

from __future__ import annotations

import mpmath as mp

mp.mp.dps = 40
LEAK = mp.mpf("0.01")


def act(name, z):
    if name == "sigmoid":
        return 1 / (1 + mp.e ** (-z))
    if name == "tanh":
        return mp.tanh(z)
    if name == "relu":
        return z if z > 0 else mp.mpf(0)
    if name == "leaky_relu":
        return z if z > 0 else LEAK * z
    if name == "softplus":
        return mp.log(1 + mp.e**z)
    if name == "identity":
        return z
    raise KeyError(name)


def act_prime(name, z):
    if name == "sigmoid":
        s = act("sigmoid", z)
        return s * (1 - s)
    if name == "tanh":
        return 1 / mp.cosh(z) ** 2
    if name == "relu":
        return mp.mpf(1) if z > 0 else mp.mpf(0)
    if name == "leaky_relu":
        return mp.mpf(1) if z > 0 else LEAK
    if name == "softplus":
        return act("sigmoid", z)
    if name == "identity":
        return mp.mpf(1)
    raise KeyError(name)


def sample_grads(W, b, x, y, acts, cost):
    """(C, dW, db, trace) for ONE sample; W[l][k][j], b[l][k], x[j], y[k] are Python floats."""
    n_layers = len(W)
    a = [[mp.mpf(v) for v in x]]
    zs = []
    for l in range(n_layers):
        z = [sum(mp.mpf(W[l][k][j]) * a[l][j] for j in range(len(a[l]))) + mp.mpf(b[l][k])
             for k in range(len(W[l]))]
        zs.append(z)
        if acts[l] == "softmax":
            m = max(z)
            e = [mp.e ** (v - m) for v in z]
            s = sum(e)
            a.append([v / s for v in e])
        else:
            a.append([act(acts[l], v) for v in z])
    out, zo, n = a[-1], zs[-1], len(a[-1])
    yy = [mp.mpf(v) for v in y]
    if cost == "half_mse":
        C = sum((o - t) ** 2 for o, t in zip(out, yy)) / (2 * n)
        dC_da = [(o - t) / n for o, t in zip(out, yy)]
    elif cost == "half_sse":
        C = sum((o - t) ** 2 for o, t in zip(out, yy)) / 2
        dC_da = [o - t for o, t in zip(out, yy)]
    elif cost == "mse":
        C = sum((o - t) ** 2 for o, t in zip(out, yy)) / n
        dC_da = [2 * (o - t) / n for o, t in zip(out, yy)]
    elif cost == "bce":
        C = -sum(t * mp.log(o) + (1 - t) * mp.log(1 - o) for o, t in zip(out, yy))
        dC_da = [-(t / o) + (1 - t) / (1 - o) for o, t in zip(out, yy)]
    elif cost == "softmax_ce":
        C = -sum(t * mp.log(o) for o, t in zip(out, yy))
        dC_da = [-t / o for o, t in zip(out, yy)]
    else:
        raise KeyError(cost)
    # ∂C/∂z^(N)
    if acts[-1] == "softmax":
        dz = [sum(dC_da[i] * out[i] * ((1 if i == k else 0) - out[k]) for i in range(n)) for k in range(n)]
    else:
        dz = [d * act_prime(acts[-1], v) for d, v in zip(dC_da, zo)]
    dW = [None] * n_layers
    db = [None] * n_layers
    delta = {n_layers + 1: dC_da}  # keyed by the derivation's layer number (layer 1 = input)
    for l in range(n_layers - 1, -1, -1):
        db[l] = dz
        dW[l] = [[dz[k] * a[l][j] for j in range(len(a[l]))] for k in range(len(dz))]
        da = [sum(W[l][k][j] * dz[k] for k in range(len(dz))) for j in range(len(a[l]))]
        delta[l + 1] = da
        if l > 0:
            dz = [da[j] * act_prime(acts[l - 1], zs[l - 1][j]) for j in range(len(da))]
    return C, dW, db, {"z": zs, "a": a, "delta": delta}


def grads(W, b, x, y, acts, cost):
    """Batch mean of per-sample gradients; x is a list (one sample) or a list of columns (a batch)."""
    if not isinstance(x[0], (list, tuple)):
        return sample_grads(W, b, x, y, acts, cost)
    B = len(x[0])
    cols = [([row[s] for row in x], [row[s] for row in y]) for s in range(B)]
    results = [sample_grads(W, b, xs, ys, acts, cost) for xs, ys in cols]
    C = sum(r[0] for r in results) / B
    dW = [[[sum(r[1][l][k][j] for r in results) / B for j in range(len(W[l][0]))] for k in range(len(W[l]))]
          for l in range(len(W))]
    db = [[sum(r[2][l][k] for r in results) / B for k in range(len(W[l]))] for l in range(len(W))]
    return C, dW, db, None
