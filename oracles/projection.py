"""The fast mode: check a gradient through a few random projections (like gradcheck's ``fast_mode``).

For a random unit direction v, the candidate's ⟨g, v⟩ must equal the derivative of C along v, which
:func:`oracles.fd.directional_derivatives` measures with a constant number of forward passes (one
complex pass when the network is analytic), whatever the number of parameters.

**Tolerance** per direction: ``SAFETY·err_fd + EPS_FACTOR·eps·Σ_i |g_i v_i|`` where err_fd is the FD
oracle's error estimate and eps the candidate dtype's machine epsilon (the candidate's own rounding
scales with Σ|g_i v_i|, not with the possibly cancelling ⟨g, v⟩).

**Verdict**: ``False`` when some direction is off by more than its tolerance; otherwise ``None``
(inconclusive) when the FD estimate is too uncertain to judge in some direction (err_fd larger than
``JUDGE_LIMIT·Σ|g_i v_i|``, typically at a relu kink); otherwise ``True``.

**Detection probability** of a single wrong entry k (relative error ε, value g_k) among n parameters:
v_k of a random unit direction is ≈ N(0, 1/n), and the direction misses the error when
|ε·g_k·v_k| ≤ tol, i.e. with probability ≈ τ·√(2n/π) where τ = tol/(ε|g_k|).  In float64 with the
complex step, tol ≈ 1e-14·Σ|g_i v_i| ≈ 1e-14·‖g‖₁/√n, so for ε = 1e-6 the miss probability of one
direction is ≈ 1e-8·‖g‖₁/|g_k| (negligible unless g_k is 10⁻⁸ of the gradient's size); d
independent directions miss with that probability to the power d.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from manualbp import Case, Gradients

from .fd import check_gradient_shapes, directional_derivatives

SAFETY = 4.0
"""Multiplier of the FD error estimate in the tolerance."""

EPS_FACTOR = 64.0
"""Multiplier of eps·Σ|g_i v_i| in the tolerance (the candidate's own rounding)."""

JUDGE_LIMIT = 1e-4
"""A direction whose FD error estimate exceeds this fraction of Σ|g_i v_i| cannot be judged."""


@dataclass
class ProjectionResult:
    """Outcome of :func:`projection_check`: one entry per direction in each list."""

    passed: bool | None
    candidate: list[float]
    reference: list[float]
    error: list[float]
    tolerance: list[float]
    directions: int
    fd_error: list[float] = field(default_factory=list)
    scale: list[float] = field(default_factory=list)
    kink: list[bool] = field(default_factory=list)
    method: str = ""
    note: str = ""


def random_directions(case: Case, n: int, seed: int = 0) -> list[Gradients]:
    """``n`` random unit directions (Gaussian, normalised over all W and b entries), float64."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"the number of directions must be an integer >= 1, got {n!r}")
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        dW = [rng.standard_normal(W.shape) for W in case.weights]
        db = [rng.standard_normal(b.shape) for b in case.biases]
        norm = np.sqrt(sum(float((a * a).sum()) for a in (*dW, *db)))
        out.append(Gradients(tuple(a / norm for a in dW), tuple(a / norm for a in db), "random direction"))
    return out


def _dot(g: Gradients, v: Gradients) -> tuple[float, float]:
    """(⟨g, v⟩, Σ|g_i v_i|) in float64."""
    gf, vf = g.flat().astype(np.float64), v.flat()
    return float(gf @ vf), float(np.abs(gf) @ np.abs(vf))


def projection_check(case: Case, candidate: Gradients, *, n_directions: int = 2, seed: int = 0) -> ProjectionResult:
    """Compare ⟨candidate, v⟩ with the FD derivative of C along ``n_directions`` random unit directions v."""
    check_gradient_shapes(case, candidate)
    if not np.all(np.isfinite(candidate.flat())):
        bad = next((L, p) for L, p, a in candidate.items() if not np.all(np.isfinite(a)))
        return ProjectionResult(False, [], [], [], [], 0, note=f"the candidate's dC/d{bad[1]}^({bad[0]}) is not finite")
    dirs = random_directions(case, n_directions, seed)
    fd = directional_derivatives(case, dirs)
    eps = float(np.finfo(np.dtype(case.dtype)).eps)
    cand, scale = zip(*(_dot(candidate, v) for v in dirs))
    cand, scale = np.array(cand), np.array(scale)
    error = np.abs(cand - fd.value)
    tol = SAFETY * fd.err + EPS_FACTOR * eps * scale
    failed = error > tol
    unjudgeable = fd.err > JUDGE_LIMIT * np.maximum(scale, np.abs(fd.value))
    if failed.any():
        passed, note = False, f"{int(failed.sum())} of {len(dirs)} directions differ beyond tolerance"
    elif unjudgeable.any():
        why = "a relu/leaky_relu kink" if fd.kink[unjudgeable].any() else "a large finite-difference error"
        passed, note = None, f"inconclusive: {why} along {int(unjudgeable.sum())} of {len(dirs)} directions"
    else:
        passed, note = True, ""
    return ProjectionResult(passed, cand.tolist(), fd.value.tolist(), error.tolist(), tol.tolist(), len(dirs),
                            fd.err.tolist(), scale.tolist(), fd.kink.tolist(), fd.method, note)
