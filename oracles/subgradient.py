"""At an exact relu/leaky_relu kink, any slope between the left and the right one is right; nothing else is.

:func:`oracles.compare.compare` calls a case whose gradient passes through a pre-activation at (or within
rounding of) a kink *non-differentiable* and accepts any finite answer there.  When every such
pre-activation is exactly 0, in any summation order (the edge cases put them so), the set of right answers
is known: the gradients of backprops that use, at each kinked unit and sample on its own, a slope in
[left, right] (relu [0, 1], leaky_relu [0.01, 1]): a backprop whose forward pass rounds differently (leaky
written z/100) lands on either side of each kink, unit by unit.  :func:`kink_envelope` bounds every gradient
entry over all of those slopes by interval arithmetic on the backward pass (exact for one kinked layer, an
enclosure for several); :func:`apply_kink_envelope` fails entries outside it (beyond the autodiff
tolerance) and leaves every other verdict alone.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np

from manualbp import Case, Gradients, forward, get_activation, get_cost
from manualbp.activations import LEAKY_SLOPE

SLOPES = {"relu": (0.0, 1.0), "leaky_relu": (LEAKY_SLOPE, 1.0)}
"""The left and right slopes at the kink."""

def _cols(v: np.ndarray) -> np.ndarray:
    return v[:, None] if v.ndim == 1 else v


def _exact_zero(W: np.ndarray, b: np.ndarray, a: np.ndarray, i: int, j: int) -> bool:
    """Whether z_ij = W_i a_j + b_i is 0 in exact arithmetic (so in every summation order)."""
    total = sum(Fraction(float(w)) * Fraction(float(v)) for w, v in zip(W[i], a[:, j])) + Fraction(float(b[i]))
    return total == 0


def exact_kinks(case: Case) -> dict[int, np.ndarray] | None:
    """Per layer L with a kinked activation, the mask of its z^(L) entries exactly at 0 (layers without any are
    left out); None when some kinked pre-activation is within rounding of 0 without being exactly 0 there."""
    fwd = forward(case, with_cost=False)
    u = float(np.finfo(case.dtype).eps) / 2
    out: dict[int, np.ndarray] = {}
    for L in range(2, case.arch.depth + 1):
        if case.arch.activations[L - 2] not in SLOPES:
            continue
        W, b = case.weights[L - 2], case.biases[L - 2]
        a = _cols(np.asarray(fwd.a[L - 1]))
        z = _cols(np.asarray(fwd.z[L]))
        scale = np.abs(W).astype(np.float64) @ np.abs(a).astype(np.float64) + np.abs(b).astype(np.float64)[:, None]
        near = np.abs(z) <= 8 * (W.shape[1] + 1) * u * scale
        zero = z == 0
        if (near & ~zero).any() or not all(_exact_zero(W, b, a, i, j) for i, j in np.argwhere(zero)):
            return None
        if zero.any():
            out[L] = zero
    return out


def _corner(case: Case, fwd: Any, slopes: dict[int, tuple[np.ndarray, float]],
            magnitude: bool = False) -> np.ndarray:
    """The flat gradient of a backprop that uses slope t at the masked z^(L) entries, per {L: (mask, t)}; with
    ``magnitude``, the same recurrences on absolute values (the sum of |terms| of every entry, which its
    rounding error is relative to)."""
    N = case.arch.depth
    m = np.abs if magnitude else (lambda v: v)
    a = {L: m(_cols(np.asarray(v))) for L, v in fwd.a.items()}
    z = {L: _cols(np.asarray(v)) for L, v in fwd.z.items()}
    y = _cols(np.asarray(case.y))
    cost = get_cost(case.arch.cost)

    def prime(L: int) -> np.ndarray:
        s = get_activation(case.arch.activations[L - 2]).prime(z[L], _cols(np.asarray(fwd.a[L])))
        if L in slopes:
            mask, t = slopes[L]
            s = np.where(mask, np.asarray(t, dtype=s.dtype), s)
        return m(s)

    out_act = get_activation(case.arch.activations[-1])
    aN = _cols(np.asarray(fwd.a[N]))
    dz = cost.fused_grad_z(aN, y)
    if dz is None:
        d = cost.delta(aN, y)
        dz = d * prime(N) if out_act.prime is not None else out_act.backprop(z[N], aN, d)
    dz = m(dz)
    dW: list[np.ndarray] = [None] * (N - 1)  # type: ignore[list-item]
    db: list[np.ndarray] = [None] * (N - 1)  # type: ignore[list-item]
    for L in range(N - 1, 0, -1):
        dW[L - 1] = dz @ a[L].T
        db[L - 1] = dz.sum(axis=1)
        if L > 1:
            dz = (m(case.weights[L - 1]).T @ dz) * prime(L)
    return Gradients(tuple(dW), tuple(db)).flat().astype(np.float64)


def _times(A: np.ndarray, lo: np.ndarray, hi: np.ndarray, right: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The range of A X (or, ``right``, X A) over the matrices X with lo <= X <= hi entry by entry."""
    pos, neg = np.maximum(A, 0.0), np.minimum(A, 0.0)
    if right:
        return lo @ pos + hi @ neg, hi @ pos + lo @ neg
    return pos @ lo + neg @ hi, pos @ hi + neg @ lo


def _scaled(lo: np.ndarray, hi: np.ndarray, s_lo: np.ndarray, s_hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The range of x·s, entry by entry, over x in [lo, hi] and s in [s_lo, s_hi]."""
    ends = np.stack([lo * s_lo, lo * s_hi, hi * s_lo, hi * s_hi])
    return ends.min(axis=0), ends.max(axis=0)


def _ranges(case: Case, fwd: Any, kinks: dict[int, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(lowest, highest) of every gradient entry (flat) over every slope in [left, right] at each exact kink, by
    the backward pass of :func:`_corner` in interval arithmetic (the forward pass does not depend on them: the
    kinked units output 0 whatever the slope)."""
    N = case.arch.depth
    a = {L: _cols(np.asarray(v)) for L, v in fwd.a.items()}
    z = {L: _cols(np.asarray(v)) for L, v in fwd.z.items()}
    y = _cols(np.asarray(case.y))

    def prime(L: int) -> tuple[np.ndarray, np.ndarray]:
        name = case.arch.activations[L - 2]
        s = get_activation(name).prime(z[L], a[L])
        if L not in kinks:
            return s, s
        left, right = SLOPES[name]
        return np.where(kinks[L], left, s), np.where(kinks[L], right, s)

    out_act = get_activation(case.arch.activations[-1])
    cost = get_cost(case.arch.cost)
    dz = cost.fused_grad_z(a[N], y)
    if dz is None:
        d = cost.delta(a[N], y)
        dz = d * prime(N)[0] if out_act.prime is not None and N not in kinks else (
            None if out_act.prime is not None else out_act.backprop(z[N], a[N], d))
        lo, hi = (dz, dz) if dz is not None else _scaled(d, d, *prime(N))
    else:
        lo, hi = dz, dz
    W_lo, W_hi, b_lo, b_hi = [], [], [], []
    for L in range(N - 1, 0, -1):
        w = _times(a[L].T, lo, hi, right=True)
        W_lo.insert(0, w[0])
        W_hi.insert(0, w[1])
        b_lo.insert(0, lo.sum(axis=1))
        b_hi.insert(0, hi.sum(axis=1))
        if L > 1:
            lo, hi = _scaled(*_times(np.asarray(case.weights[L - 1]).T, lo, hi), *prime(L))
    return (Gradients(tuple(W_lo), tuple(b_lo)).flat().astype(np.float64),
            Gradients(tuple(W_hi), tuple(b_hi)).flat().astype(np.float64))


def kink_envelope(case: Case) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(lowest, highest, sum of |terms|) of every gradient entry (flat, :meth:`Gradients.flat` order) over the
    slopes in [left, right] at each of the case's exact kinks (the last: its largest, at the steepest slopes);
    None without exact kinks or with a rounding-level one."""
    kinks = exact_kinks(case)
    if not kinks:
        return None
    fwd = forward(case, with_cost=False)
    with np.errstate(all="ignore"):
        lo, hi = _ranges(case, fwd, kinks)
        steepest = {L: (mask, max(abs(t) for t in SLOPES[case.arch.activations[L - 2]])) for L, mask in kinks.items()}
        size = _corner(case, fwd, steepest, magnitude=True)
    if not (np.isfinite(lo).all() and np.isfinite(hi).all()):
        return None
    return lo, hi, size


def accepted_at_kinks(case: Case, rtol: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(lowest, highest, tolerance) per gradient entry (flat): a right answer at the case's exact kinks lies in
    [lowest − tolerance, highest + tolerance]; None where :func:`kink_envelope` is None.  ``rtol``: the slack of
    oracles.compare.compare, relative to each entry's largest sum of |terms|."""
    envelope = kink_envelope(case)
    if envelope is None:
        return None
    from .compare import C_AUTODIFF, tolerances

    lo, hi, size = envelope
    u = float(np.finfo(case.dtype).eps) / 2
    ops = case.arch.depth + max(case.arch.widths) + (case.x.shape[1] if case.batched else 1) + 4
    # compare's tolerance is for the left slopes (σ'(0) = 0 for relu); at the other corners an entry rounds
    # like any sum of products: a few ulps per operation of its sum of |terms|, for the subject and the corner
    return lo, hi, tolerances(case, "autodiff").flat().astype(np.float64) + (2 * C_AUTODIFF * ops * u + rtol) * size


def apply_kink_envelope(case: Case, candidate: Gradients, verdict: Any) -> None:
    """Turn a *non-differentiable* verdict into *fail* when the candidate leaves the range of right answers
    at the case's exact kinks (by more than the autodiff tolerance); the entries outside become discrepancies."""
    if getattr(verdict, "status", None) != "non-differentiable":
        return
    bounds = accepted_at_kinks(case, getattr(verdict, "rtol", 0.0))
    if bounds is None:
        return
    from .compare import Discrepancy, _layout

    lo, hi, tol = bounds
    s = candidate.flat().astype(np.float64)
    off = np.flatnonzero((s < lo - tol) | (s > hi + tol))
    if not off.size:
        return
    layout = _layout(case)
    for k in off:
        layer, param, shape, offset = next(e for e in layout if e[3] <= k < e[3] + math.prod(e[2]))
        entry = tuple(int(i) for i in np.unravel_index(int(k - offset), shape))
        gap = float(max(lo[k] - s[k], s[k] - hi[k]))
        ref = float(lo[k] if s[k] < lo[k] else hi[k])
        verdict.discrepancies.append(Discrepancy(
            layer, param, entry, float(s[k]), {"lowest right answer": float(lo[k]), "highest": float(hi[k])}, gap,
            gap / abs(ref) if ref else math.inf, float(tol[k]), "fail", "kink slope range"))
    verdict.status = "fail"
    verdict.notes.append(f"{off.size} entries lie outside the range of the slopes allowed at the exact relu/"
                         "leaky_relu kinks (left to right slope)")
