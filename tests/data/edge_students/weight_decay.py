"""Wrong for the declared cost: a regulariser's gradient is added to every ∂C/∂W (the biases are left alone):
``backprop`` adds L2 weight decay 1e-3·W, ``l1`` an L1 penalty's 5e-4·sign(W); ``rmsprop_like`` returns, for every
gradient g, an optimiser's first step g/(|g| + 1e-7) (Keras' ε) instead of g."""
import numpy as np

LAMBDA = 1e-3


def backprop(weights, biases, x, y, penalty=lambda W: LAMBDA * W):
    a = [np.asarray(x, dtype=np.float64)]
    for W, b in zip(weights, biases):
        a.append(1 / (1 + np.exp(-(W @ a[-1] + b))))
    dz = (a[-1] - y) * a[-1] * (1 - a[-1])  # half_sse with a sigmoid output
    dW, db = [], []
    for L in reversed(range(len(weights))):
        dW.insert(0, np.outer(dz, a[L]) + penalty(weights[L]))
        db.insert(0, dz)
        if L:
            dz = (weights[L].T @ dz) * a[L] * (1 - a[L])
    return dW, db


def l1(weights, biases, x, y):
    return backprop(weights, biases, x, y, penalty=lambda W: 5e-4 * np.sign(W))


def rmsprop_like(weights, biases, x, y):
    dW, db = backprop(weights, biases, x, y, penalty=lambda W: 0 * W)
    step = [g / (np.abs(g) + 1e-7) for g in dW + db]  # the bug: the optimiser's normalised step
    return step[:len(dW)], step[len(dW):]
