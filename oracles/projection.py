"""The fast mode: check a gradient through a few random projections (like gradcheck's ``fast_mode``).

For a random unit direction v, the candidate's ⟨g, v⟩ must equal the derivative of C along v, which
:func:`oracles.fd.directional_derivatives` measures with a constant number of forward passes (one
complex pass when the network is analytic), whatever the number of parameters.

**Tolerance** per direction: ``SAFETY·err_fd + EPS_FACTOR·eps·Σ_i |g_i v_i|`` where err_fd is the FD
oracle's error estimate and eps the candidate dtype's machine epsilon (the candidate's own rounding
scales with Σ|g_i v_i|, not with the possibly cancelling ⟨g, v⟩).  Given the case's rounding-error
bound E (:func:`oracles.compare.error_bound`), the per-entry FD tolerance of :func:`~oracles.compare.compare`
projected on v is added: ``C_AUTODIFF·Σ_i E_i |v_i|`` (a float32 backprop through a saturated
sigmoid or tanh rounds far more than eps·Σ|g_i v_i|).  The same bound, rescaled to float64
(``C_AUTODIFF·(u₆₄/u)·Σ_i E_i |v_i|``), is then the complex step's own rounding estimate, instead of a
single-precision twin pass: over 2,992 random directions its actual error against an extended-precision
reference stayed below 0.073 of that bound, while the twin's estimate fell short of the actual error in
150 of them.

**Verdict**: ``False`` when some direction is off by more than its tolerance; otherwise ``None``
(inconclusive) when the FD estimate is too uncertain to judge in some direction (err_fd larger than
``JUDGE_LIMIT`` times the derivative's size: the larger of Σ|g_i v_i| and, given the bound, the sums of
|terms| that build the g_i along v, so that a gradient that cancels to 0, as through a softmax over one
unit, is still judged; typically at a relu kink; never when the bound shows that every gradient term
vanishes along v, as in a dead relu network); otherwise ``True``.

**Detection probability** of a single wrong entry k (relative error ε, value g_k) among n parameters:
v_k of a random unit direction is ≈ N(0, 1/n), and the direction misses the error when
|ε·g_k·v_k| ≤ tol, i.e. with probability ≈ τ·√(2n/π) where τ = tol/(ε|g_k|).  In float64 with the
complex step, tol ≈ 1e-14·Σ|g_i v_i| ≈ 1e-14·‖g‖₁/√n, so for ε = 1e-6 the miss probability of one
direction is ≈ 1e-8·‖g‖₁/|g_k| (negligible unless g_k is 10⁻⁸ of the gradient's size); d
independent directions miss with that probability to the power d.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from manualbp import Case, Gradients

from . import forward_eval as fe
from .compare import C_AUTODIFF, ErrorBound
from .fd import Directional, check_gradient_shapes, directional_from_valid

SAFETY = 4.0
"""Multiplier of the FD error estimate in the tolerance."""

EPS_FACTOR = 64.0
"""Multiplier of eps·Σ|g_i v_i| in the tolerance (the candidate's own rounding)."""

_EPS = {dt: float(np.finfo(dt).eps) for dt in ("float32", "float64")}
_U64 = _EPS["float64"] / 2

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


def direction_matrix(case: Case, n: int, seed: int) -> np.ndarray:
    """``n`` random unit directions as rows (n, N) of flat vectors (order of ``Gradients.flat``), float64,
    read-only.

    Row i is the numbers i·N .. (i+1)·N − 1 of the seed's standard-normal stream
    (``np.random.default_rng(seed).standard_normal``), normalised.  A pure function of N, ``n`` and
    ``seed``, so it is remembered, and the stream itself too: a new generator costs more than a small
    case's whole check, and a large model's draw (about 10 ns per parameter and direction) costs more
    than the finite differences themselves.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"the number of directions must be an integer >= 1, got {n!r}")
    N = sum(W.size + b.size for W, b in zip(case.weights, case.biases))
    entries = int(n) * N
    if entries <= _REMEMBER:
        return _remembered_directions(N, int(n), int(seed))
    if entries <= _REMEMBER_LARGE:
        return _remembered_large(N, int(n), int(seed))
    return _directions(N, int(n), int(seed))


_REMEMBER = 2**14
"""Direction matrices of at most this many entries are kept (least recently used, up to 1024 of them)."""

_REMEMBER_LARGE = 2**22
"""Larger ones up to this many entries (32 MB) are kept too, the two most recent."""

_STREAM = 2**16
"""The start of each seed's stream is kept up to this many numbers (512 kB; the four most recent seeds):
enough for every small case, whose matrices come and go; a larger draw is made afresh."""


@functools.lru_cache(maxsize=4)
def _stream(seed: int) -> list[np.ndarray]:
    """The drawn start of the seed's standard-normal stream (a one-element list, grown in place)."""
    return [np.empty(0)]


def _normals(seed: int, size: int) -> np.ndarray:
    """The first ``size`` numbers of ``np.random.default_rng(seed).standard_normal`` (read-only)."""
    if size > _STREAM:
        return np.random.default_rng(seed).standard_normal(size)
    held = _stream(seed)
    if held[0].size < size:  # drawn again from the start, longer: a prefix of a draw is the shorter draw
        held[0] = np.random.default_rng(seed).standard_normal(min(max(size, 2 * held[0].size, 1024), _STREAM))
        held[0].setflags(write=False)
    return held[0][:size]


def _directions(N: int, n: int, seed: int) -> np.ndarray:
    """:func:`direction_matrix` for N parameters (read-only)."""
    V = _normals(seed, n * N).reshape(n, N)
    V = V / np.sqrt(np.einsum("ij,ij->i", V, V))[:, None]
    V.setflags(write=False)  # remembered and shared: nobody may change it
    return V


_remembered_directions = functools.lru_cache(maxsize=1024)(_directions)
_remembered_large = functools.lru_cache(maxsize=2)(_directions)


def random_directions(case: Case, n: int, seed: int = 0) -> list[Gradients]:
    """``n`` random unit directions (Gaussian, normalised over all W and b entries), float64 arrays of their own."""
    Ws, bs = fe.layer_views(case.arch, direction_matrix(case, n, seed).copy())
    return [Gradients(tuple(W[i] for W in Ws), tuple(b[i] for b in bs), "random direction") for i in range(n)]


def _dots(g: np.ndarray, V: np.ndarray, absV: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(⟨g, v⟩, Σ_i |g_i v_i|) for every row v of V (``absV`` = |V|), in float64."""
    g = g.astype(np.float64, copy=False)
    return V @ g, absV @ np.abs(g)


def projection_check(case: Case, candidate: Gradients, *, n_directions: int = 2, seed: int = 0,
                     bound: ErrorBound | None = None, flat: np.ndarray | None = None,
                     rtol: float = 0.0) -> ProjectionResult:
    """Compare ⟨candidate, v⟩ with the FD derivative of C along ``n_directions`` random unit directions v;
    ``bound``: the case's rounding-error bound, for the candidate's share of the tolerance; ``flat``: the
    candidate's :meth:`Gradients.flat` when the caller has it (its shapes then taken as checked); ``rtol``
    (with ``bound``): each entry may also be off by rtol × its sum of |terms| (see oracles.compare.compare)."""
    return projection_many([case], [candidate], n_directions=n_directions, seed=seed, batched=False,
                           bounds=None if bound is None else [bound], flats=None if flat is None else [flat],
                           rtol=rtol)[0]


def projection_many(cases: Sequence[Case], candidates: Sequence[Gradients], *, n_directions: int = 2, seed: int = 0,
                    batched: bool = True, bounds: Sequence[ErrorBound] | None = None,
                    flats: Sequence[np.ndarray] | None = None, rtol: float = 0.0) -> list[ProjectionResult]:
    """:func:`projection_check` of every case (``bounds``: each case's rounding-error bound, or None;
    ``flats``: the candidates' flat vectors, shapes checked, or None); ``batched``: small cases' FD rows in
    shared forward passes (:mod:`oracles.fd_batch`), the same estimates up to the rounding of padded sums."""
    if len(cases) != len(candidates):
        raise ValueError(f"{len(cases)} cases but {len(candidates)} candidates")
    if bounds is not None and len(bounds) != len(cases):
        raise ValueError(f"{len(cases)} cases but {len(bounds)} error bounds")
    if flats is not None and len(flats) != len(cases):
        raise ValueError(f"{len(cases)} cases but {len(flats)} flat candidates")
    out: list[ProjectionResult | None] = [None] * len(cases)
    todo, finite, dirs, projected = [], [], [], []
    for k, (case, candidate) in enumerate(zip(cases, candidates)):
        if flats is None:
            check_gradient_shapes(case, candidate)
            g = candidate.flat()
        else:
            g = flats[k]
        if not np.all(np.isfinite(g)):
            bad = next((L, p) for L, p, a in candidate.items() if not np.all(np.isfinite(a)))
            out[k] = ProjectionResult(False, [], [], [], [], 0,
                                      note=f"the candidate's dC/d{bad[1]}^({bad[0]}) is not finite")
            continue
        todo.append(k)
        finite.append(g)
        V = direction_matrix(case, n_directions, seed)  # the rows of random_directions(case, ...)
        dirs.append((V, np.abs(V)))
        if bounds is not None:
            t = C_AUTODIFF * (dirs[-1][1] @ bounds[k].flat)  # the bound's tolerance along each v
            projected.append(np.where(np.isnan(t), np.inf, t))  # an overflowing bound: nothing certain
    # the float64 FD pass's rounding along v: the projected bound in float64 units
    rounding = None if bounds is None else [t * (_U64 / bounds[k].unit_roundoff) for k, t in zip(todo, projected)]
    if batched:
        from .fd_batch import directional_derivatives_many

        fds = directional_derivatives_many([cases[k] for k in todo], [V for V, _ in dirs], rounding)
    else:
        fds = [directional_from_valid(cases[k], V, None if rounding is None else rounding[i])
               for i, (k, (V, _)) in enumerate(zip(todo, dirs))]
    for i, (k, g, (V, absV), fd) in enumerate(zip(todo, finite, dirs, fds)):
        out[k] = _judge(cases[k], g, V, absV, fd, None if bounds is None else (bounds[k], projected[i]), rtol)
    return out  # type: ignore[return-value]


def _judge(case: Case, g: np.ndarray, V: np.ndarray, absV: np.ndarray, fd: Directional,
           bound: tuple[ErrorBound, np.ndarray] | None = None, rtol: float = 0.0) -> ProjectionResult:
    """The verdict on the flat candidate ``g`` from the FD derivatives ``fd`` along the rows of V (absV = |V|);
    ``bound``: the case's rounding-error bound and its tolerance C_AUTODIFF·Σ E_i |v_i| along each row."""
    n = len(V)
    eps = _EPS[case.dtype]
    cand, scale = _dots(g, V, absV)
    error = np.abs(cand - fd.value)
    tol = SAFETY * fd.err + EPS_FACTOR * eps * scale
    size = np.maximum(scale, np.abs(fd.value))
    if bound is not None:
        eb, projected = bound
        tol = tol + projected
        terms = absV @ eb.scale_flat  # Σ_i |v_i|·(the sum of |terms| that build g_i)
        size = np.maximum(size, terms)  # a gradient that cancels to ~0 is judged on the scale of its terms
        tol = tol + rtol * terms  # the slack compare's rtol gives each entry, along v
    unjudgeable = fd.err > JUDGE_LIMIT * size
    if bound is not None:  # every gradient term 0 along v (and no kink crossed): the derivative is exactly 0
        unjudgeable &= (terms > 0) | fd.kink
    failed = error > tol
    if failed.any():
        passed, note = False, f"{int(failed.sum())} of {n} directions differ beyond tolerance"
    elif unjudgeable.any():
        why = "a relu/leaky_relu kink" if fd.kink[unjudgeable].any() else "a large finite-difference error"
        passed, note = None, f"inconclusive: {why} along {int(unjudgeable.sum())} of {n} directions"
    else:
        passed, note = True, ""
    return ProjectionResult(passed, cand.tolist(), fd.value.tolist(), error.tolist(), tol.tolist(), n,
                            fd.err.tolist(), scale.tolist(), fd.kink.tolist(), fd.method, note)
