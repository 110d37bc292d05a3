"""Ten wrong backprops: ``no_output_activation`` leaves σ out of the output layer's forward pass but keeps σ'(z)
in δ (sigmoid, half_sse); ``tanh_inplace`` computes tanh with out=z, so its stored z is a and tanh' is taken of a
(tanh hidden, identity output); ``ce_over_width`` divides softmax + cross-entropy's a − y by the output width;
``int_targets`` turns the targets into integers (sigmoid, half_sse); ``shared_buffers`` writes each ∂C/∂W into one
scratch buffer per weight shape and returns the buffers themselves (sigmoid, half_sse); ``dropout_rescale`` keeps
inverted dropout's rescale 1/(1 − p), p = 0.2, on every hidden activation without a mask, in both passes (sigmoid
hidden, identity output, half_sse); ``fan_in_mean`` computes z = W a / n_in + b in both passes (tanh hidden, identity
output, half_sse); ``shared_z`` writes every layer's z into one buffer and keeps views of it, so tanh'(z) of the
hidden layers is taken of what later layers wrote there (tanh hidden, sigmoid output, half_sse, a batch of columns);
``dot_outer`` forms ∂C/∂W with np.dot of the two vectors, an inner product (tanh hidden, sigmoid output, half_sse);
``bias_along_samples`` adds b to a batch of columns as W @ A + b, which numpy broadcasts along the samples (tanh
hidden, sigmoid output, half_sse averaged over the batch)."""
import numpy as np


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _down(weights, a, dz, prime):
    dW, db = [None] * len(weights), [None] * len(weights)
    for k in range(len(weights) - 1, -1, -1):
        dW[k], db[k] = np.outer(dz, a[k]), dz
        if k:
            dz = (weights[k].T @ dz) * prime(k)
    return dW, db


def no_output_activation(weights, biases, x, y):
    a, zs = [x], []
    for k, (W, b) in enumerate(zip(weights, biases)):
        zs.append(W @ a[-1] + b)
        a.append(zs[-1] if k == len(weights) - 1 else _sigmoid(zs[-1]))  # the bug: σ missing on the output
    s = _sigmoid(zs[-1])
    return _down(weights, a, (a[-1] - y) * s * (1 - s), lambda k: a[k] * (1 - a[k]))


def tanh_inplace(weights, biases, x, y):
    a, zs = [x], []
    for k, (W, b) in enumerate(zip(weights, biases)):
        z = W @ a[-1] + b
        zs.append(z)
        a.append(z if k == len(weights) - 1 else np.tanh(z, out=z))  # the bug: z now holds a
    return _down(weights, a, a[-1] - y, lambda k: 1 - np.tanh(zs[k - 1]) ** 2)


def ce_over_width(weights, biases, x, y):
    a = [x]
    for k, (W, b) in enumerate(zip(weights, biases)):
        z = W @ a[-1] + b
        a.append(np.exp(z - z.max()) / np.exp(z - z.max()).sum() if k == len(weights) - 1 else np.maximum(z, 0))
    return _down(weights, a, (a[-1] - y) / len(y), lambda k: (a[k] > 0).astype(float))  # the bug: / len(y)


def int_targets(weights, biases, x, y):
    y = np.asarray(y).astype(int)  # the bug: 0.75 becomes 0
    a = [x]
    for W, b in zip(weights, biases):
        a.append(_sigmoid(W @ a[-1] + b))
    return _down(weights, a, (a[-1] - y) * a[-1] * (1 - a[-1]), lambda k: a[k] * (1 - a[k]))


def shared_buffers(weights, biases, x, y):
    a = [x]
    for W, b in zip(weights, biases):
        a.append(_sigmoid(W @ a[-1] + b))
    buffers, dW, db = {}, [None] * len(weights), [None] * len(weights)
    dz = (a[-1] - y) * a[-1] * (1 - a[-1])
    for k in range(len(weights) - 1, -1, -1):
        buf = buffers.setdefault(weights[k].shape, np.empty(weights[k].shape))
        dW[k] = np.outer(dz, a[k], out=buf)  # the bug: the buffer itself, shared by same-shaped layers
        db[k] = dz
        if k:
            dz = (weights[k].T @ dz) * a[k] * (1 - a[k])
    return dW, db


def dropout_rescale(weights, biases, x, y, p=0.2):
    a, s = [x], []
    for k, (W, b) in enumerate(zip(weights, biases)):
        z = W @ a[-1] + b
        if k == len(weights) - 1:
            a.append(z)
        else:
            s.append(_sigmoid(z))
            a.append(s[-1] / (1 - p))  # the bug: the rescale of a dropout whose mask was taken out
    return _down(weights, a, a[-1] - y, lambda k: s[k - 1] * (1 - s[k - 1]) / (1 - p))


def fan_in_mean(weights, biases, x, y):
    a, c = [x], [1.0 / W.shape[1] for W in weights]
    for k, (W, b) in enumerate(zip(weights, biases)):
        z = c[k] * (W @ a[-1]) + b  # the bug: a mean-field scaling the declared network does not have
        a.append(z if k == len(weights) - 1 else np.tanh(z))
    dW, db = _down([c[k] * W for k, W in enumerate(weights)], a, a[-1] - y, lambda k: 1 - a[k] ** 2)
    return [c[k] * g for k, g in enumerate(dW)], db


def _down_columns(weights, a, dz, prime):
    """The backward pass over a batch of columns from ∂C/∂z of the output; prime(k) gives σ' of layer k."""
    dW, db = [None] * len(weights), [None] * len(weights)
    for k in range(len(weights) - 1, -1, -1):
        dW[k], db[k] = dz @ a[k].T, dz.sum(axis=1)
        if k:
            dz = (weights[k].T @ dz) * prime(k)
    return dW, db


def shared_z(weights, biases, X, Y):
    buf = np.empty((max(W.shape[0] for W in weights), X.shape[1]))
    a, zs = [X], []
    for k, (W, b) in enumerate(zip(weights, biases)):
        z = np.matmul(W, a[-1], out=buf[:W.shape[0]])  # the bug: every z is a view of the same buffer
        z += b[:, None]
        zs.append(z)
        a.append(_sigmoid(z) if k == len(weights) - 1 else np.tanh(z))
    dz = (a[-1] - Y) * a[-1] * (1 - a[-1]) / X.shape[1]
    return _down_columns(weights, a, dz, lambda k: 1 - np.tanh(zs[k - 1]) ** 2)


def dot_outer(weights, biases, x, y):
    a = [x]
    for k, (W, b) in enumerate(zip(weights, biases)):
        z = W @ a[-1] + b
        a.append(_sigmoid(z) if k == len(weights) - 1 else np.tanh(z))
    dz = (a[-1] - y) * a[-1] * (1 - a[-1])
    dW, db = [None] * len(weights), [None] * len(weights)
    for k in range(len(weights) - 1, -1, -1):
        dW[k], db[k] = np.dot(dz, a[k]), dz  # the bug: the inner product, where np.outer belongs
        if k:
            dz = (weights[k].T @ dz) * (1 - a[k] ** 2)
    return dW, db


def bias_along_samples(weights, biases, X, Y):
    a = [X]
    for k, (W, b) in enumerate(zip(weights, biases)):
        z = W @ a[-1] + b  # the bug: b[:, None]; numpy lines b up with the samples
        a.append(_sigmoid(z) if k == len(weights) - 1 else np.tanh(z))
    dz = (a[-1] - Y) * a[-1] * (1 - a[-1]) / X.shape[1]
    return _down_columns(weights, a, dz, lambda k: 1 - a[k] ** 2)
