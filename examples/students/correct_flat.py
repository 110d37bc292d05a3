"""Flat parameter vector, the style of scipy.optimize users.  Correct.

theta holds, layer by layer, W (row by row, shape (n_out, n_in)) then b.  tanh hidden, identity output,
cost = mean over the outputs of (a - y)^2 (mse).

    manualbp check examples/students/correct_flat.py:grad --hidden tanh --output identity --cost mse --layout flat
"""
import numpy as np


def unpack(theta, sizes):
    Ws, bs, i = [], [], 0
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        Ws.append(theta[i:i + n_out * n_in].reshape(n_out, n_in))
        i += n_out * n_in
        bs.append(theta[i:i + n_out])
        i += n_out
    return Ws, bs


def grad(theta, sizes, x, y):
    Ws, bs = unpack(theta, sizes)
    a = [x]
    for i, (W, b) in enumerate(zip(Ws, bs)):
        z = W @ a[-1] + b
        a.append(z if i == len(Ws) - 1 else np.tanh(z))
    g = 2 * (a[-1] - y) / len(y)
    parts = []
    for i in range(len(Ws) - 1, -1, -1):
        if i < len(Ws) - 1:
            g = g * (1 - a[i + 1] ** 2)
        parts = [np.outer(g, a[i]).ravel(), g] + parts
        g = Ws[i].T @ g
    return np.concatenate(parts)
