"""Batched, complex-capable forward evaluation of the cost C(θ) for many parameter sets at once.

This module is the finite-difference oracle's only view of the network: it evaluates C and nothing
else, independently of :mod:`manualbp.network` (it never calls manualbp's forward or backward).  The
activations and costs are the same functions as :mod:`manualbp.activations` and
:mod:`manualbp.costs`, written in *analytic* forms so that they are also exact in complex arithmetic
(for the complex-step derivative), and stable for large |Re z|:

* sigmoid:   σ(z) = 1/(1 + e^{−z}) for Re z ≥ 0 and e^{z}/(1 + e^{z}) otherwise (one analytic function),
* softplus:  z + log1p(e^{−z}) for Re z ≥ 0 and log1p(e^{z}) otherwise, with a complex log1p that keeps
  the real part accurate for tiny arguments (numpy's complex log1p does not),
* bce:       computed from z as y·softplus(−z) + (1 − y)·softplus(z)  (no log of a saturated σ),
* softmax_ce: computed from z by log-sum-exp,
* relu / leaky_relu branch on Re z (they are piecewise analytic; the FD oracle does not use the
  complex step through them).

Arrays follow manualbp: a batch is one column per sample, the cost is the mean over the columns.
Here every array may carry a leading *perturbation axis* P: weights (P, n_{L+1}, n_L), biases
(P, n_{L+1}), activations (P, n, B).  Work is split into chunks of P so that no array of a layer
exceeds :data:`CHUNK_BYTES`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from manualbp import Architecture, Case
from manualbp.activations import KINKED, LEAKY_SLOPE

CHUNK_BYTES = 50 * 2**20
"""Largest size of one layer's stacked perturbations (activations or weights) in one chunk."""


# --------------------------------------------------------------------------- activations


def _log1p(u: np.ndarray) -> np.ndarray:
    """log(1 + u) for |u| ≤ 1, accurate in the real part also for complex u."""
    if not np.iscomplexobj(u):
        return np.log1p(u)
    x, y = u.real, u.imag
    return 0.5 * np.log1p(2 * x + x * x + y * y) + 1j * np.arctan2(y, 1 + x)


def _sign_re(z: np.ndarray) -> np.ndarray:
    """+1 where Re z ≥ 0, −1 elsewhere (real, same precision as z)."""
    re = z.real
    return np.where(re >= 0, 1, -1).astype(re.dtype)


def sigmoid(z: np.ndarray) -> np.ndarray:
    """σ(z) = 1/(1 + e^{−z}); e^{−|Re z|}-based, never overflows, analytic."""
    s = _sign_re(z)
    e = np.exp(-(s * z))  # |e| ≤ 1
    return np.where(s > 0, 1, e) / (1 + e)


def softplus(z: np.ndarray) -> np.ndarray:
    """log(1 + e^z) = max-branch + log1p(e^{−|Re z|}), analytic."""
    s = _sign_re(z)
    return np.where(s > 0, z, 0) + _log1p(np.exp(-(s * z)))


def relu(z: np.ndarray) -> np.ndarray:
    """z where Re z > 0, else 0."""
    return np.where(z.real > 0, z, 0)


def leaky_relu(z: np.ndarray) -> np.ndarray:
    """z where Re z > 0, else LEAKY_SLOPE·z."""
    return np.where(z.real > 0, z, LEAKY_SLOPE * z)


def softmax(z: np.ndarray) -> np.ndarray:
    """Softmax over the unit axis (second to last), shifted by max Re z."""
    e = np.exp(z - z.real.max(axis=-2, keepdims=True))
    return e / e.sum(axis=-2, keepdims=True)


ACTIVATIONS = {
    "sigmoid": sigmoid,
    "tanh": np.tanh,
    "relu": relu,
    "leaky_relu": leaky_relu,
    "softplus": softplus,
    "identity": lambda z: z,
    "softmax": softmax,
}


def activate(name: str, z: np.ndarray) -> np.ndarray:
    """σ(z) for the activation called ``name`` (softmax over axis −2)."""
    try:
        return ACTIVATIONS[name](z)
    except KeyError:
        raise ValueError(f"forward_eval cannot evaluate activation {name!r}") from None


# --------------------------------------------------------------------------- costs


def per_sample_cost(name: str, a: np.ndarray, z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The per-sample cost, summed over the unit axis −2: shape (..., B)."""
    n = a.shape[-2]
    if name in ("half_mse", "half_sse", "mse"):
        d = a - y
        sq = (d * d).sum(axis=-2)  # d·d, not |d|²: analytic
        return {"half_mse": 0.5 / n, "half_sse": 0.5, "mse": 1.0 / n}[name] * sq
    if name == "bce":
        return (y * softplus(-z) + (1 - y) * softplus(z)).sum(axis=-2)
    if name == "softmax_ce":
        m = z.real.max(axis=-2, keepdims=True)
        lse = m + np.log(np.exp(z - m).sum(axis=-2, keepdims=True))
        return (y * (lse - z)).sum(axis=-2)
    raise ValueError(f"forward_eval cannot evaluate cost {name!r}")


def batch_cost(name: str, a: np.ndarray, z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The cost averaged over the batch columns: shape (...,)."""
    return per_sample_cost(name, a, z, y).mean(axis=-1)


# --------------------------------------------------------------------------- base forward


@dataclass(frozen=True)
class Trace:
    """The unperturbed forward pass: z[k] = W_k a[k] + b_k and a[k+1] = σ_k(z[k]), columns (n, B).

    Index k = L − 1 for W^(L): ``z[k]`` is the derivation's z^(L+1), ``a[k]`` its a^(L).
    """

    z: tuple[np.ndarray, ...]
    a: tuple[np.ndarray, ...]
    cost: float

    def pattern(self, k: int) -> np.ndarray:
        """Which pre-activations of layer k are on the positive side (for kink crossings)."""
        return self.z[k].real > 0


def as_columns(v: np.ndarray) -> np.ndarray:
    """A sample vector (n,) as one column (n, 1); a batch (n, B) as it is."""
    v = np.asarray(v)
    return v[:, None] if v.ndim == 1 else v


def trace(arch: Architecture, weights: Sequence[np.ndarray], biases: Sequence[np.ndarray],
          x: np.ndarray, y: np.ndarray, dtype: np.dtype | str = np.float64) -> Trace:
    """Forward pass of one parameter set in ``dtype`` (no perturbation axis)."""
    dtype = np.dtype(dtype)
    a = [as_columns(x).astype(dtype)]
    z = []
    for k, name in enumerate(arch.activations):
        z.append(np.asarray(weights[k], dtype) @ a[k] + np.asarray(biases[k], dtype)[:, None])
        a.append(activate(name, z[k]))
    c = batch_cost(arch.cost, a[-1], z[-1], as_columns(y).astype(dtype))
    return Trace(tuple(z), tuple(a), complex(c).real if np.iscomplexobj(c) else float(c))


def layer_inputs(arch: Architecture, weights: Sequence[np.ndarray], biases: Sequence[np.ndarray],
                 x: np.ndarray, dtype: np.dtype | str = np.float64) -> tuple[np.ndarray, ...]:
    """The inputs a[k] (k = 0 … D−1) of every weight layer, as in :func:`trace` but without the output
    layer and the cost (for step scales that need the activations only)."""
    dtype = np.dtype(dtype)
    a = [as_columns(x).astype(dtype)]
    for k, name in enumerate(arch.activations[:-1]):
        a.append(activate(name, np.asarray(weights[k], dtype) @ a[k] + np.asarray(biases[k], dtype)[:, None]))
    return tuple(a)


def cost(case: Case, dtype: np.dtype | str = np.float64) -> float:
    """C at the case's parameters, evaluated in ``dtype`` (default float64)."""
    return trace(case.arch, case.weights, case.biases, case.x, case.y, dtype).cost


# --------------------------------------------------------------------------- stacked evaluation


def _chunk(P: int, per_item_bytes: int, max_bytes: int) -> int:
    return max(1, min(P, max_bytes // max(per_item_bytes, 1)))


def _tail(arch: Architecture, k0: int, z: np.ndarray, weights: Sequence[np.ndarray],
          biases: Sequence[np.ndarray], y: np.ndarray, base: Trace | None, *, base_row: bool = False
          ) -> tuple[np.ndarray, np.ndarray]:
    """Costs and kink crossings from the stacked pre-activation z of layer k0 (P, n, B) onward.

    Layers after k0 use the shared (unperturbed) weights ``weights[k]`` (2-D) or per-perturbation
    ones (3-D).  A crossing is a kinked unit whose sign of Re z differs from ``base``, or with
    ``base_row`` (and no ``base``) from row 0 of the stack, the unperturbed parameters.
    """
    crossed = np.zeros(z.shape[0], dtype=bool)
    D = len(arch.activations)
    k = k0
    while True:
        name = arch.activations[k]
        if name in KINKED and (base is not None or base_row):
            positive = z.real > 0
            crossed |= (positive != (base.pattern(k) if base is not None else positive[0])).any(axis=(-2, -1))
        a = activate(name, z)
        if k == D - 1:
            return batch_cost(arch.cost, a, z, y), crossed
        k += 1
        W, b = weights[k], biases[k]
        z = np.matmul(W, a) + (b[..., :, None] if b.ndim == 2 else b[:, None])


def _dtype_of(dtype: np.dtype | str | None, *arrays: np.ndarray) -> np.dtype:
    if dtype is not None:
        return np.dtype(dtype)
    return np.result_type(np.float64, *arrays)


def stacked_costs(arch: Architecture, weights: Sequence[np.ndarray], biases: Sequence[np.ndarray],
                  x: np.ndarray, y: np.ndarray, *, dtype: np.dtype | str | None = None,
                  base: Trace | None = None, max_bytes: int = CHUNK_BYTES) -> tuple[np.ndarray, np.ndarray]:
    """C for P parameter sets at once, and which of them cross a relu/leaky kink relative to ``base``.

    ``weights[k]`` is (P, n_{k+2}, n_{k+1}) or a shared (n_{k+2}, n_{k+1}) matrix, ``biases[k]`` is
    (P, n_{k+2}) or shared (n_{k+2},); x, y are the case's (one sample or a batch of columns).
    ``dtype`` defaults to the common type of the inputs (at least float64; complex when any input is).
    Returns (costs (P,), crossed (P,) bool); crossed is all False without ``base``.
    """
    if len(weights) != len(arch.activations) or len(biases) != len(arch.activations):
        raise ValueError(f"{len(weights)} weights and {len(biases)} biases for {len(arch.activations)} layers")
    P = 1
    for k, (W, b) in enumerate(zip(weights, biases), start=1):
        n_out, n_in = arch.widths[k], arch.widths[k - 1]
        if np.shape(W)[-2:] != (n_out, n_in) or np.ndim(W) not in (2, 3):
            raise ValueError(f"W^({k}) has shape {np.shape(W)}; expected ({n_out}, {n_in}) or (P, {n_out}, {n_in})")
        if np.shape(b)[-1:] != (n_out,) or np.ndim(b) not in (1, 2):
            raise ValueError(f"b^({k}) has shape {np.shape(b)}; expected ({n_out},) or (P, {n_out})")
        for arr in [W] * (np.ndim(W) == 3) + [b] * (np.ndim(b) == 2):
            if P not in (1, arr.shape[0]):
                raise ValueError(f"layer {k}: perturbation axis of length {arr.shape[0]} does not match {P}")
            P = max(P, arr.shape[0])
    dt = _dtype_of(dtype, *[np.asarray(w) for w in weights], *[np.asarray(b) for b in biases])
    xc, yc = as_columns(x).astype(dt), as_columns(y).astype(dt)
    B = xc.shape[1]
    Ws = [np.asarray(W).astype(dt, copy=False) for W in weights]
    bs = [np.asarray(b).astype(dt, copy=False) for b in biases]
    per_item = max(max(arch.widths) * B, max(W[0].size if W.ndim == 3 else 0 for W in Ws)) * dt.itemsize
    step = _chunk(P, per_item, max_bytes)
    out_c = np.empty(P, dtype=dt)
    out_x = np.empty(P, dtype=bool)
    for s in range(0, P, step):
        sl = slice(s, min(P, s + step))
        Wc = [W[sl] if W.ndim == 3 else W for W in Ws]
        bc = [b[sl] if b.ndim == 2 else b for b in bs]
        z0 = np.matmul(Wc[0], xc) + (bc[0][..., :, None] if bc[0].ndim == 2 else bc[0][:, None])
        if z0.ndim == 2:
            z0 = np.broadcast_to(z0, (sl.stop - sl.start, *z0.shape))
        out_c[sl], out_x[sl] = _tail(arch, 0, z0, Wc, bc, yc, base)
    return out_c, out_x


def costs(arch: Architecture, weights: Sequence[np.ndarray], biases: Sequence[np.ndarray],
          x: np.ndarray, y: np.ndarray, *, dtype: np.dtype | str | None = None) -> np.ndarray:
    """C for P stacked parameter sets (see :func:`stacked_costs`), shape (P,)."""
    return stacked_costs(arch, weights, biases, x, y, dtype=dtype)[0]


def unit_costs(arch: Architecture, weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], base: Trace,
               y: np.ndarray, k: int, units: np.ndarray, deltas: np.ndarray, *, max_bytes: int = CHUNK_BYTES
               ) -> tuple[np.ndarray, np.ndarray]:
    """C when, for each p, the single pre-activation row z[k][units[p], :] is shifted by deltas[p] (B,).

    This is exactly C at W_k + s·e_i e_jᵀ (delta = s·a[k][j, :]) or b_k + s·e_i (delta = s): z is
    linear in W and b, so only one unit of layer k moves and the next layer changes by a rank-one
    term.  Vectorised over p in chunks; ``base`` is the unperturbed :func:`trace` in the working
    dtype (``deltas`` may be complex).  Returns (costs (P,), crossed (P,) bool).
    """
    D = len(arch.activations)
    P, B = deltas.shape
    dt = np.result_type(base.z[k].dtype, deltas.dtype)
    yc = as_columns(y).astype(base.z[k].dtype)
    Ws = [np.asarray(W, base.z[0].dtype) for W in weights]
    bs = [np.asarray(b, base.z[0].dtype) for b in biases]
    width = max(arch.widths[k + 1:]) if k + 1 < D else arch.widths[-1]
    step = _chunk(P, width * B * dt.itemsize, max_bytes)
    out_c = np.empty(P, dtype=dt)
    out_x = np.empty(P, dtype=bool)
    name = arch.activations[k]
    for s in range(0, P, step):
        sl = slice(s, min(P, s + step))
        i, d = units[sl], deltas[sl]
        Pc = len(i)
        if k == D - 1 or name == "softmax":  # the output layer: build the full stacked z
            z = np.broadcast_to(base.z[k], (Pc, *base.z[k].shape)).astype(dt)
            z[np.arange(Pc), i, :] += d
            out_c[sl], out_x[sl] = _tail(arch, k, z, Ws, bs, yc, base)
            continue
        zi = base.z[k][i, :] + d  # (Pc, B): the moved unit of layer k
        crossed = ((zi.real > 0) != base.pattern(k)[i, :]).any(axis=-1) if name in KINKED else np.zeros(Pc, bool)
        da = activate(name, zi) - base.a[k + 1][i, :]  # change of that unit's activation
        z_next = base.z[k + 1][None] + Ws[k + 1][:, i].T[:, :, None] * da[:, None, :]
        c, x_next = _tail(arch, k + 1, z_next, Ws, bs, yc, base)
        out_c[sl], out_x[sl] = c, crossed | x_next
    return out_c, out_x



def entry_costs(arch: Architecture, weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], base: Trace,
                y: np.ndarray, k: int, units: np.ndarray, cols: np.ndarray, steps: np.ndarray, *,
                max_bytes: int = CHUNK_BYTES) -> tuple[np.ndarray, np.ndarray]:
    """C at W_k + steps[p]·e_{units[p]} e_{cols[p]}ᵀ for every p (cols[p] == n_in means the bias b_k).

    ``steps`` may be complex (complex step).  The row deltas steps[p]·a[k][cols[p], :] are built one
    chunk at a time (at most ``max_bytes``) and evaluated by :func:`unit_costs`.
    """
    A = np.vstack([base.a[k], np.ones((1, base.a[k].shape[1]), base.a[k].dtype)])  # inputs, bias row of ones
    P, B = steps.size, A.shape[1]
    dt = np.result_type(A.dtype, steps.dtype)
    step = _chunk(P, B * dt.itemsize, max_bytes)
    out_c = np.empty(P, dtype=dt)
    out_x = np.empty(P, dtype=bool)
    for s in range(0, P, step):
        sl = slice(s, min(P, s + step))
        deltas = steps[sl, None].astype(dt) * A[cols[sl]]
        out_c[sl], out_x[sl] = unit_costs(arch, weights, biases, base, y, k, units[sl], deltas, max_bytes=max_bytes)
    return out_c, out_x


def layer_views(arch: Architecture, rows: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Rows (P, N) of flat parameter vectors (order W^(1), b^(1), W^(2), … as ``Gradients.flat``) as
    per-layer views: weights (P, n_{k+2}, n_{k+1}) and biases (P, n_{k+2})."""
    Ws, bs, o = [], [], 0
    for n_in, n_out in zip(arch.widths[:-1], arch.widths[1:]):
        Ws.append(rows[:, o:o + n_out * n_in].reshape(len(rows), n_out, n_in))
        o += n_out * n_in
        bs.append(rows[:, o:o + n_out])
        o += n_out
    return Ws, bs


def direction_costs(arch: Architecture, theta: np.ndarray, V: np.ndarray, which: np.ndarray | None, steps: np.ndarray,
                    x: np.ndarray, y: np.ndarray, *, base: Trace | None = None, crossings: bool = False,
                    max_bytes: int = CHUNK_BYTES) -> tuple[np.ndarray, np.ndarray]:
    """C at θ + steps[p]·V[which[p]] for every p, and which of them cross a relu/leaky kink.

    θ (N,) and the directions V (d, N) are flat parameter vectors (order of ``Gradients.flat``); every
    p is one row of a stacked pass, so different rows may move along different directions (``which``
    None: row p along V[p], one step per direction).  ``steps``
    may be complex (complex step); the working dtype is that of θ + steps·V.  Crossings are relative
    to ``base``; without one, ``crossings=True`` evaluates the unperturbed θ as an extra row of the
    same pass and compares with it (instead of a separate :func:`trace` in the working dtype).
    Without either, crossed is all False.  The perturbed rows are built one chunk at a time (at most
    ``max_bytes``); each chunk is evaluated like :func:`stacked_costs` (the same operations, without
    its argument checks: the shapes are θ's).
    """
    P, N = len(steps), theta.size
    dt = np.result_type(theta, V, steps)
    xc, yc = as_columns(x).astype(dt), as_columns(y).astype(dt)
    base_row = base is None and crossings
    step = _chunk(P, max(N, max(arch.widths) * xc.shape[1]) * dt.itemsize, max_bytes)
    out_c = np.empty(P, dtype=dt)
    out_x = np.empty(P, dtype=bool)
    for s in range(0, P, step):
        sl = slice(s, min(P, s + step))
        rows = np.empty((sl.stop - sl.start + base_row, N), dtype=dt)
        if base_row:
            rows[0] = theta
        moved = rows[int(base_row):]  # θ + s·v, built in place (large θ: one array per chunk, no gather)
        if which is None:
            np.multiply(steps[sl, None], V[sl], out=moved)
        else:
            w = which[sl]
            cut = [0, *(np.flatnonzero(w[1:] != w[:-1]) + 1).tolist(), len(w)]  # runs of one direction
            for lo, hi in zip(cut[:-1], cut[1:]):
                np.multiply(steps[s + lo:s + hi, None], V[w[lo]], out=moved[lo:hi])
        moved += theta
        Ws, bs = layer_views(arch, rows)
        z0 = np.matmul(Ws[0], xc) + bs[0][:, :, None]
        c, crossed = _tail(arch, 0, z0, Ws, bs, yc, base, base_row=base_row)
        out_c[sl], out_x[sl] = (c[1:], crossed[1:]) if base_row else (c, crossed)
    return out_c, out_x
