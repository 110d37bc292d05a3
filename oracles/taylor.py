"""A second opinion without a step size: the Taylor-remainder test, and where the relu kinks are.

For a direction d, the remainder r(h) = |C(θ + h·d) − C(θ) − h·⟨g, d⟩| shrinks like h² when g is the
gradient and only like h when ⟨g, d⟩ is wrong.  :func:`taylor_test` evaluates r at h = s·2^{−k},
k = 0..30 (s scales h to pre-activation units), all in one stacked forward pass, and reads the
convergence order from the smallest steps whose remainder is still well above rounding.

Steps whose perturbation crosses a relu/leaky_relu kink are left out; when every small step crosses
one, θ sits at a kink and the verdict is ``"inconclusive"`` (non-differentiable point).  Remainders
below 4× the candidate's own rounding bound (64·eps·h·Σ|g_i d_i|, eps of the case's dtype) are not used either, so
a float32 gradient is judged at float32 resolution.

The test only certifies ⟨g, d⟩ to the resolution of the smallest usable step: an error much smaller
than the quadratic term at that step shows order 2.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from manualbp import Case, Gradients
from manualbp.activations import KINKED

from . import forward_eval as fe
from .fd import _direction_unit, _params, check_gradient_shapes
from .projection import random_directions

N_STEPS = 31
"""Steps h = s·2^{−k} for k = 0..N_STEPS−1."""

NOISE_FACTOR = 10.0
"""A remainder counts only when it exceeds this multiple of the rounding noise of C(θ+hd) − C(θ)."""

FIT_POINTS = 6
"""Number of smallest usable steps whose successive slopes are averaged (median) into the order."""

_U64, _U32 = np.finfo(np.float64).eps / 2, np.finfo(np.float32).eps / 2


@dataclass
class TaylorResult:
    """Remainders r(h) and the convergence order fitted on the usable ones."""

    order: float
    hs: list[float]
    residuals: list[float]
    verdict: str  # "correct" (order ≈ 2) | "wrong" (order ≈ 1) | "inconclusive"
    used: list[bool] = field(default_factory=list)
    noise: float = 0.0
    note: str = ""


def _costs_along(case: Case, d: Gradients, hs: np.ndarray, dt) -> tuple[np.ndarray, np.ndarray]:
    """C(θ + h·d) for h in hs (h = 0 included by the caller), and kink crossings, in dtype ``dt``."""
    Ws, bs = _params(case, dt)
    s = hs.astype(dt)
    Wp = [W[None] + s[:, None, None] * np.asarray(V, dt)[None] for W, V in zip(Ws, d.dW)]
    bp = [b[None] + s[:, None] * np.asarray(c, dt)[None] for b, c in zip(bs, d.db)]
    base = fe.trace(case.arch, Ws, bs, case.x, case.y, dt)
    c, x = fe.stacked_costs(case.arch, Wp, bp, case.x.astype(dt), case.y.astype(dt), dtype=dt, base=base)
    return c.astype(np.float64), x


def taylor_test(case: Case, candidate: Gradients, *, direction: Gradients | None = None, seed: int = 0
                ) -> TaylorResult:
    """Convergence order of the Taylor remainder of C along ``direction`` (default: a random unit one)."""
    check_gradient_shapes(case, candidate)
    d = direction if direction is not None else random_directions(case, 1, seed)[0]
    check_gradient_shapes(case, d, "direction")
    g_d = float(candidate.flat().astype(np.float64) @ d.flat().astype(np.float64))
    base = fe.trace(case.arch, *_params(case, np.float64), case.x, case.y, np.float64)
    s = _direction_unit(case, d, base)
    hs = s * 2.0 ** -np.arange(N_STEPS)
    grid = np.concatenate([[0.0], hs])
    c64, crossed = _costs_along(case, d, grid, np.float64)
    c32, _ = _costs_along(case, d, grid, np.float32)
    delta64, delta32 = c64[1:] - c64[0], c32[1:] - c32[0]
    r = np.abs(delta64 - hs * g_d)
    # rounding noise of C(θ+hd) − C(θ): model term and precision scaling (pooled over the steps)
    scaled = np.abs(delta32 - delta64) * (_U64 / _U32)
    noise = max(16 * _U64 * abs(c64[0]), float(scaled[np.isfinite(scaled)].max(initial=0.0)))
    # the candidate's own rounding (h·eps·Σ|g_i d_i|) is not an error of the gradient: a float32
    # gradient would otherwise show order 1 at the smallest steps
    eps = float(np.finfo(np.dtype(case.dtype)).eps)
    own = 64 * eps * hs * float(np.abs(candidate.flat().astype(np.float64)) @ np.abs(d.flat().astype(np.float64)))
    used = (r > NOISE_FACTOR * noise) & (r > 4 * own) & ~crossed[1:] & np.isfinite(r)
    hs_l, r_l = hs.tolist(), r.tolist()
    kinked = any(a in KINKED for a in case.arch.activations)
    if kinked and crossed[1:][-FIT_POINTS:].all():
        return TaylorResult(float("nan"), hs_l, r_l, "inconclusive", used.tolist(), noise,
                            "every small step crosses a relu/leaky_relu kink: non-differentiable point")
    idx = np.flatnonzero(used)
    # successive slopes between usable neighbours (log r against log h)
    pairs = [(i, j) for i, j in zip(idx[:-1], idx[1:]) if j == i + 1]
    if len(pairs) < 2:
        return TaylorResult(float("nan"), hs_l, r_l, "inconclusive", used.tolist(), noise,
                            "fewer than three usable steps above rounding noise"
                            + (" (the remainder vanishes: C is linear along d?)" if not used.any() else ""))
    slopes = np.array([np.log(r[i] / r[j]) / np.log(hs[i] / hs[j]) for i, j in pairs[-FIT_POINTS:]])
    order = float(np.median(slopes))
    if order >= 1.7:
        verdict = "correct"
    elif 0.7 <= order <= 1.3:
        verdict = "wrong"
    else:
        verdict = "inconclusive"
    return TaylorResult(order, hs_l, r_l, verdict, used.tolist(), noise)


def kinks(case: Case, *, margin: float | None = None) -> list[tuple[int, int]]:
    """(layer L, unit i) whose pre-activation z^(L)_i is within ``margin`` of a relu/leaky_relu kink.

    L follows the derivation (2..N), i is zero-based; for a batch a unit counts when any sample is
    within the margin.  The default margin is √eps of the case's dtype times max(1, max|z^(L)|).
    """
    if margin is not None and not (np.isfinite(margin) and margin >= 0):
        raise ValueError(f"margin must be a finite number >= 0, got {margin!r}")
    tr = fe.trace(case.arch, case.weights, case.biases, case.x, case.y, np.dtype(case.dtype))
    out = []
    for k, name in enumerate(case.arch.activations):
        if name not in KINKED:
            continue
        z = tr.z[k]
        m = margin if margin is not None else np.sqrt(np.finfo(z.dtype).eps) * max(1.0, float(np.abs(z).max()))
        out += [(k + 2, int(i)) for i in np.flatnonzero((np.abs(z) <= m).any(axis=1))]
    return out
