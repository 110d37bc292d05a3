"""Judging a candidate gradient against the oracles: the tolerance model, the vote and the verdict.

**Tolerance model.**  Two correct backprops of the same network differ only by rounding.  A
first-order running-error bound (Wilkinson style) of *one* implementation is computed per entry by
re-running the derivation's recurrences on magnitudes (:func:`error_bound`):

    forward   |z|-scale  M_z = |W| |a| + |b|,           E_z = |W| E_a + γ(n_L + 1) M_z         (eq. z)
              E_a' = |σ'(z)| E_z + k·u·|a'|                                                      (eq. a)
    backward  E_dz = E_δ |σ'| + |δ| E_σ' + u |δ σ'|,    E_σ' = |σ''| E_z + k·u·m_σ'(a)          (eq. b)
              E_δ = |W|ᵀ E_dz + γ(n_{L+1}) |W|ᵀ |dz|                                            (eq. δ)
              E_∂W = E_dz |a|ᵀ + |dz| E_aᵀ + γ(B) |dz| |a|ᵀ                                     (eq. W)

u is the unit roundoff of the case's dtype, γ(n) = n·u, k a few ulps for library functions, and
m_σ' the magnitude of the terms that build σ' (for sigmoid a(1 − a) it is ~a: near saturation 1 − a
cancels, so σ' has an *absolute* error ~u; for tanh 1 − a² it is 1 + a²).  So the bound already
contains the depth, the widths, the batch and the cancellations of the computation.  Tolerances:

    subject vs autodiff oracle:   C_AUTODIFF · (E_subject + E_oracle) = C_AUTODIFF · 2E
    subject vs finite differences: C_AUTODIFF · E + FD_TRUST · err_fd    (err_fd: the FD oracle's own estimate)

**Vote (per entry).**  Among the oracles that are *conclusive* at an entry (FD is not at a kink it
flagged, nor too uncertain to resolve 0.1 % of the case's gradient scale): if two of them disagree
beyond their pairwise tolerance the entry is an *oracle disagreement*, never blamed on the subject;
otherwise the subject fails the entry when it is outside the tolerance of any of them.  Entries whose gradient passes
through a relu/leaky_relu pre-activation that sits within rounding of its kink (or that FD flagged)
are *non-differentiable*, not failures.  A float32 failure is recomputed by ``rerun`` on a float64
copy: if it vanishes there the verdict is *precision*, not a bug.

**Fast mode.**  The autodiff oracles are cheap and compared entrywise; FD only checks random
projections ⟨g, v⟩ (:func:`oracles.projection.projection_check`).  When anything fails, the full
per-entry FD runs to localise and vote.  A case whose subject, oracles and projection agree within a
*lower* bound of E (:func:`_lower_bound`, from the oracles' gradients and the recurrences' factors)
passes on it, since E can only be larger; its verdict computes the model's ratios and tolerances when
they are read.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from manualbp import Case, Gradients
from manualbp.activations import KINKED, LEAKY_SLOPE, get_activation, sigmoid

from .base import MissingDependency, Oracle, get_oracle
from .findings import Finding, Location

__all__ = [
    "C_AUTODIFF",
    "FD_TRUST",
    "STATUSES",
    "Discrepancy",
    "ErrorBound",
    "Verdict",
    "accepted_range",
    "compare",
    "error_bound",
    "tolerances",
]

STATUSES = ("pass", "fail", "inconclusive", "precision", "non-differentiable", "oracle-disagreement")
"""Verdict statuses; ``passed`` is True for pass, precision and non-differentiable."""

C_AUTODIFF = 4.0
"""Safety factor on the first-order rounding bound (the bound itself is already worst-case)."""

K_FN = 4.0
"""Ulps allowed for one library evaluation of exp/tanh/log1p (numpy, torch and XLA differ by a few)."""

FD_TRUST = 2.0
"""Factor on the finite-difference oracle's own per-entry error estimate."""

FD_RESOLUTION = 1e-3
"""FD is inconclusive at an entry when its error estimate exceeds this fraction of the entry's value and of
the case's gradient scale (the largest sum of |terms| of any entry)."""

KINK_FACTOR = 2.0 * C_AUTODIFF
"""A kinked pre-activation within KINK_FACTOR·E_z of 0 may take either branch in two implementations."""

_PASSING = frozenset({"pass", "precision", "non-differentiable"})


# --------------------------------------------------------------------------- the rounding-error model


@dataclass(frozen=True)
class ErrorBound:
    """Per-entry first-order rounding-error bound of one backprop implementation, and the entries' scale.

    ``W[L-1]``/``b[L-1]`` bound the absolute error of ∂C/∂W^(L), ∂C/∂b^(L); ``scale_W``/``scale_b``
    are the sums of |terms| that build each entry (|dz| |a|ᵀ); ``kinks`` lists (layer L, unit) whose
    relu/leaky_relu pre-activation z^(L) is within rounding of 0 (in some sample).
    """

    W: tuple[np.ndarray, ...]
    b: tuple[np.ndarray, ...]
    scale_W: tuple[np.ndarray, ...]
    scale_b: tuple[np.ndarray, ...]
    kinks: tuple[tuple[int, int], ...]
    unit_roundoff: float

    @functools.cached_property
    def flat(self) -> np.ndarray:
        """The bound of every entry as one vector (the order of :meth:`Gradients.flat`)."""
        return _flat(self.W, self.b)

    @functools.cached_property
    def scale_flat(self) -> np.ndarray:
        """The sums of |terms| of every entry as one vector (the order of :meth:`Gradients.flat`)."""
        return _flat(self.scale_W, self.scale_b)

    def affected(self) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
        """Masks of the entries whose gradient goes through a kinked unit (in the layout of W, b)."""
        mW = [np.zeros(s.shape, dtype=bool) for s in self.W]
        mb = [np.zeros(s.shape, dtype=bool) for s in self.b]
        for L, unit in self.kinks:  # unit of layer L: row `unit` of W^(L-1), everything below
            mW[L - 2][unit, :] = True
            mb[L - 2][unit] = True
            for k in range(L - 2):
                mW[k][:] = True
                mb[k][:] = True
        return tuple(mW), tuple(mb)


def _gamma(n: Any, u: Any) -> Any:
    """γ(n) = n·u / (1 − n·u) (per case when n or u are arrays)."""
    return n * u / (1.0 - n * u)


_ROUNDOFF = {dt: (float(np.finfo(dt).eps) / 2, float(np.finfo(dt).smallest_normal)) for dt in ("float32", "float64")}
"""Case dtype → (u, tiny): unit roundoff, and the smallest normal number (underflow, flush-to-zero, per operation)."""


def _sigma_terms(name: str, z: np.ndarray, a: np.ndarray) -> tuple[np.ndarray, np.ndarray | float, np.ndarray | float]:
    """(σ'(z), |σ''(z)|, m_σ': magnitude of the terms that build σ') for an elementwise activation.

    For the piecewise-linear ones σ'' = 0 and σ' is exact (m_σ' = 0): those two are the scalar 0.0.
    """
    if name == "sigmoid":
        s1 = a * (1.0 - a)
        return s1, np.abs(s1 * (1.0 - 2.0 * a)), 2.0 * np.abs(a)
    if name == "tanh":
        s1 = 1.0 - a * a
        return s1, np.abs(2.0 * a * s1), 1.0 + 3.0 * a * a
    if name == "softplus":
        sg = sigmoid(z)
        # σ(z) computed as exp(z − softplus(z)) (torch and jax differentiate logaddexp so): relative error ~u·|z|
        return sg, sg * (1.0 - sg), sg * (2.0 + np.abs(z))
    if name == "relu":
        return (z > 0).astype(float), 0.0, 0.0
    if name == "leaky_relu":
        return np.where(z > 0, 1.0, LEAKY_SLOPE), 0.0, 0.0
    if name == "identity":
        return np.ones(z.shape), 0.0, 0.0
    raise ValueError(f"the tolerance model has no rule for activation {name!r}")


# The recurrences of the module docstring, one function per equation.  They take the arrays of one case,
# (units, samples), or of many cases stacked on leading axes, (cases, units, samples): units are axis -2,
# samples axis -1.  Sizes (n, B), the unit roundoff u and tiny are scalars, or arrays of shape (cases, 1, 1)
# with one value per case.  error_bound runs them on one case, oracles.bound_batch on many cases at once.


def _T(m: np.ndarray) -> np.ndarray:
    """The transpose of the last two axes (of every case's matrix)."""
    if m.ndim == 2:
        return m.T
    # stacked cases: a contiguous copy, as numpy's stacked matmul of small matrices is slower on transposed views
    return np.ascontiguousarray(np.swapaxes(m, -1, -2))


def _sum_units(m: np.ndarray) -> np.ndarray:
    """Σ over the units (axis -2, kept)."""
    if m.ndim == 2:
        return m.sum(axis=0, keepdims=True)
    # stacked cases: numpy reduces a short axis with one inner loop per (case, sample), ~3x slower than this
    return np.ones((1, m.shape[-2])) @ m


def _sum_samples(m: np.ndarray) -> np.ndarray:
    """Σ over the samples (axis -1, kept)."""
    if m.shape[-1] == 1:  # one sample: the sum is that column (a reduction call costs more than the sums here)
        return m
    if m.ndim == 2:
        return m.sum(axis=1, keepdims=True)
    if m.shape[-1] > 8:  # stacked cases: as in _sum_units; for a few samples, adding columns is faster still
        return m @ np.ones((m.shape[-1], 1))
    total = m[..., :1]
    for j in range(1, m.shape[-1]):
        total = total + m[..., j:j + 1]
    return total


def _product(W: np.ndarray, a: np.ndarray) -> np.ndarray:
    """W a of one case, the signed product of eq. z.

    oracles.bound_batch computes each case's z with this very call on arrays of the same shapes, so its z
    (hence a, σ' and the kinks) are bit-identical to error_bound's: a padded or stacked product would add
    in another order, and where W a nearly cancels that rounding would show, relatively large, in |a|.
    ``W.dot`` is the same BLAS call as ``W @ a`` for matrices, at a third of numpy's call overhead.
    """
    return W.dot(a)


def _preactivation_bound(aW: np.ndarray, b: np.ndarray, abs_a: np.ndarray, Ea: np.ndarray, n_in: Any, u: Any,
                         tiny: Any) -> np.ndarray:
    """E_z of z = W a + b (eq. z) from |W|, b and the layer below (|a|, E_a); ``n_in``: that layer's width."""
    Mz = aW @ abs_a + np.abs(b)[..., None]
    return aW @ Ea + _gamma(n_in + 1, u) * Mz + (n_in + 1) * tiny


def _activation_errors(name: str, z: np.ndarray, an: np.ndarray, abs_an: np.ndarray, Ez: np.ndarray, n: Any,
                       u: Any, tiny: Any) -> tuple[Any, Any, np.ndarray, Any]:
    """(σ'(z), |σ'(z)|, E_a, E_σ') of a layer whose activation ``name`` gave a = σ(z) (eq. a, eq. b).

    ``n``: the layer's width.  For softmax (a Jacobian, not σ') the first, second and last are None.
    """
    ku = K_FN * u
    if name == "softmax":
        spread = _sum_units(an * Ez)
        return None, None, an * (Ez + spread) + ku * an * (1 + n * u) + tiny, None
    s1, s2, m1 = _sigma_terms(name, z, an)
    abs_s1 = s1  # σ' ≥ 0 for every elementwise activation here (σ is non-decreasing): |σ'| is σ' itself
    # relu/leaky_relu near the kink: the exact z or another implementation's (each within E_z) may lie on the
    # other side, where the slope differs; σ is 1-Lipschitz, so |Δa| <= 1·E_z there, not σ'(z)·E_z
    slope = np.where(_near_kink(z, Ez), 1.0, abs_s1) if name in KINKED else abs_s1
    return s1, abs_s1, slope * Ez + ku * abs_an + tiny, s2 * Ez + ku * m1 + tiny


def _near_kink(z: np.ndarray, Ez: np.ndarray) -> np.ndarray:
    """Where a relu/leaky_relu pre-activation is within KINK_FACTOR·E_z of its kink at 0."""
    return np.abs(z) <= KINK_FACTOR * Ez


def _squared_factor(cost: str, n_out: int, B: int) -> float:
    """f of a squared-error cost: ∂C/∂a^(N) = f·(a − y)."""
    return {"half_mse": 1.0 / (n_out * B), "half_sse": 1.0 / B, "mse": 2.0 / (n_out * B)}[cost]


def _output_errors(cost: str, out: str, aN: np.ndarray, abs_aN: np.ndarray, EaN: np.ndarray, y: np.ndarray,
                   B: Any, n_out: Any, u: Any, tiny: Any, s1N: Any, abs_s1N: Any, Es1N: Any,
                   f: Any = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(∂C/∂z^(N), the sum of |terms| that build it, its bound E_dz) for ``cost`` and output activation ``out``.

    ``s1N``, ``abs_s1N``, ``Es1N``: σ', |σ'| and E_σ' of an elementwise output (unused for softmax).
    ``f``: the factor of a squared-error cost, by default :func:`_squared_factor` of ``cost``; cases stacked
    with different squared-error costs pass ``cost='squared'`` and one f per case.
    """
    ku = K_FN * u
    abs_y = np.abs(y)
    if cost == "bce":
        dz = (aN - y) / B
        Mdz = (abs_aN + abs_y) / B
        Edz = (EaN + ku * (abs_aN + abs_y)) / B + tiny
    elif cost == "softmax_ce":
        sy = _sum_units(y)
        say = _sum_units(abs_y)
        dz = (aN * sy - y) / B
        Mdz = (abs_aN * say + abs_y) / B
        Edz = (EaN * say + ku * (abs_aN * say + abs_y) * (1 + n_out * u)) / B + 2 * tiny
    else:
        if f is None:
            f = _squared_factor(cost, n_out, B)
        D = f * (aN - y)
        abs_D = np.abs(D)
        MD = f * (abs_aN + abs_y)
        ED = f * (EaN + 2 * u * (abs_aN + abs_y)) + tiny
        if out == "softmax":
            dot = _sum_units(aN * D)
            mdot = _sum_units(abs_aN * abs_D)
            dz = aN * (D - dot)
            Mdz = aN * (MD + _sum_units(aN * MD))
            Edz = (EaN * (abs_D + mdot) + aN * (ED + _sum_units(EaN * abs_D) + _sum_units(aN * ED))
                   + ku * aN * (abs_D + mdot) * (1 + n_out * u) + 2 * n_out * tiny)
        else:
            dz = D * s1N
            Mdz = MD * abs_s1N
            Edz = ED * (abs_s1N + Es1N) + abs_D * Es1N + 2 * u * np.abs(dz) + tiny
    return dz, Mdz, Edz


def _weight_errors(dz: np.ndarray, Mdz: np.ndarray, Edz: np.ndarray, abs_a: np.ndarray, Ea: np.ndarray, B: Any,
                   u: Any, tiny: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(E_∂W, E_∂b, S_W, S_b) of a layer (eq. W) from ∂C/∂z above it and a, E_a below it; S: sums of |terms|."""
    gB = _gamma(B + 1, u)
    adz = np.abs(dz)
    aaT = _T(abs_a)
    SW = Mdz @ aaT
    Sb = _sum_samples(Mdz)
    # E_dz (|a| + E_a)ᵀ + |dz| E_aᵀ + (γ(B+1) + u) |dz| |a|ᵀ, the last two terms in one product
    EW = Edz @ _T(abs_a + Ea) + adz @ _T(Ea + (gB + u) * abs_a) + (B + 1) * tiny
    Eb = _sum_samples(Edz) + gB * _sum_samples(adz) + (B + 1) * tiny
    return EW, Eb[..., 0], SW, Sb[..., 0]


def _backprop_errors(W: np.ndarray, aW: np.ndarray, dz: np.ndarray, Mdz: np.ndarray, Edz: np.ndarray, n_out: Any,
                     s1: np.ndarray, abs_s1: np.ndarray, Es1: np.ndarray, u: Any,
                     tiny: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(∂C/∂z, its sum of |terms|, E_dz) of the layer below W (eq. δ, then eq. b); ``n_out``: W's rows."""
    adz = np.abs(dz)
    WT, aWT = _T(W), _T(aW)
    delta = WT @ dz
    Edelta = aWT @ Edz + _gamma(n_out, u) * (aWT @ adz) + n_out * tiny
    dz = delta * s1
    Mdz = (aWT @ Mdz) * abs_s1
    Edz = Edelta * (abs_s1 + Es1) + np.abs(delta) * Es1 + u * np.abs(dz) + tiny
    return dz, Mdz, Edz


def error_bound(case: Case) -> ErrorBound:
    """First-order bound of the rounding error of a backprop of ``case`` in the case's dtype.

    Computed in float64 on the case's values (see the module docstring for the recurrences).
    For many small cases at once, :func:`oracles.bound_batch.error_bound_many` gives the same bounds faster.
    """
    if not isinstance(case, Case):
        raise TypeError(f"expected a manualbp.Case, got {type(case).__name__}")
    u, tiny = _ROUNDOFF[case.dtype]
    arch = case.arch
    N = arch.depth
    col = (lambda v: v[:, None]) if not case.batched else (lambda v: v)
    Ws = [np.asarray(W, np.float64) for W in case.weights]
    abs_Ws = [np.abs(W) for W in Ws]
    bs = [np.asarray(b, np.float64) for b in case.biases]
    x = col(np.asarray(case.x, np.float64))
    y = col(np.asarray(case.y, np.float64))
    B = x.shape[1]

    # Forward, per layer L: a, |a| and E_a (eq. a); for elementwise σ also σ'(z), |σ'| and E_σ' (eq. b),
    # which the backward pass needs again.
    a = {1: x}
    abs_a = {1: np.abs(x)}
    Ea = {1: np.zeros(x.shape)}  # x is exact
    s1: dict[int, np.ndarray] = {}
    abs_s1: dict[int, np.ndarray] = {}
    Es1: dict[int, np.ndarray] = {}
    kinks: list[tuple[int, int]] = []
    for L in range(1, N):
        W, b = Ws[L - 1], bs[L - 1]
        z = _product(W, a[L]) + b[:, None]
        Ez = _preactivation_bound(abs_Ws[L - 1], b, abs_a[L], Ea[L], W.shape[1], u, tiny)
        name = arch.activations[L - 1]
        with np.errstate(over="ignore", under="ignore"):
            an = get_activation(name).f(z)
        a[L + 1], abs_a[L + 1] = an, np.abs(an)
        s1[L + 1], abs_s1[L + 1], Ea[L + 1], Es1[L + 1] = _activation_errors(
            name, z, an, abs_a[L + 1], Ez, z.shape[0], u, tiny)
        if name in KINKED:
            kinks += [(L + 1, int(i)) for i in np.flatnonzero(_near_kink(z, Ez).any(axis=1))]

    # ∂C/∂z^(N) and its error, then down the layers: the bounds of ∂C/∂W, ∂C/∂b (eq. W) and ∂C/∂z (eq. δ, b)
    dz, Mdz, Edz = _output_errors(arch.cost, arch.activations[-1], a[N], abs_a[N], Ea[N], y, B, arch.widths[-1],
                                  u, tiny, s1[N], abs_s1[N], Es1[N])
    EW: list[np.ndarray] = [None] * (N - 1)  # type: ignore[list-item]
    Eb: list[np.ndarray] = [None] * (N - 1)  # type: ignore[list-item]
    SW: list[np.ndarray] = [None] * (N - 1)  # type: ignore[list-item]
    Sb: list[np.ndarray] = [None] * (N - 1)  # type: ignore[list-item]
    for L in range(N - 1, 0, -1):
        EW[L - 1], Eb[L - 1], SW[L - 1], Sb[L - 1] = _weight_errors(dz, Mdz, Edz, abs_a[L], Ea[L], B, u, tiny)
        if L > 1:
            W = Ws[L - 1]
            dz, Mdz, Edz = _backprop_errors(W, abs_Ws[L - 1], dz, Mdz, Edz, W.shape[0], s1[L], abs_s1[L], Es1[L],
                                            u, tiny)
    return ErrorBound(tuple(EW), tuple(Eb), tuple(SW), tuple(Sb), tuple(sorted(set(kinks))), u)


def _floor(dtype: str) -> float:
    return 16.0 * _ROUNDOFF[dtype][1]


def tolerances(case: Case, kind: str, *, fd: Gradients | None = None, bound: ErrorBound | None = None) -> Gradients:
    """Per-entry absolute tolerance of |subject − oracle| for an oracle of ``kind`` ('autodiff' or 'fd').

    'autodiff': C_AUTODIFF·(E_subject + E_oracle).  'fd': C_AUTODIFF·E_subject + FD_TRUST·err_fd, where
    err_fd is ``fd.err_W``/``fd.err_b`` when ``fd`` (an FDGradients) is given, else 0 (rounding part only).
    """
    if kind not in ("autodiff", "fd"):
        raise ValueError(f"unknown oracle kind {kind!r}; expected 'autodiff' or 'fd'")
    eb = bound or error_bound(case)
    floor = _floor(case.dtype)
    sides = 2.0 if kind == "autodiff" else 1.0
    tW = [C_AUTODIFF * sides * e + floor for e in eb.W]
    tb = [C_AUTODIFF * sides * e + floor for e in eb.b]
    if kind == "fd" and fd is not None:
        errW, errb = getattr(fd, "err_W", ()), getattr(fd, "err_b", ())
        if errW:
            tW = [t + FD_TRUST * np.asarray(e, np.float64) for t, e in zip(tW, errW)]
            tb = [t + FD_TRUST * np.asarray(e, np.float64) for t, e in zip(tb, errb)]
    return Gradients(tuple(tW), tuple(tb), f"tolerance ({kind})")


# --------------------------------------------------------------------------- verdict model


@dataclass
class Discrepancy:
    """One gradient entry where the vote found a problem.

    ``status``: 'fail' (the subject disagrees with agreeing oracles), 'oracle-disagreement' (the oracles
    disagree among themselves; abs_err is their largest pairwise difference), 'non-differentiable'
    (the entry goes through a kink) or 'precision' (float32 failure that vanishes in float64).
    """

    layer: int
    param: str
    entry: tuple[int, ...]
    subject: float
    oracles: dict[str, float]
    abs_err: float
    rel_err: float
    tolerance: float
    status: str = "fail"
    reference: str = ""

    def describe(self) -> str:
        """One line: where, the values and the error."""
        idx = ", ".join(str(i) for i in self.entry)
        vals = ", ".join(f"{k} {v:.17g}" for k, v in self.oracles.items())
        return (f"{self.param}^({self.layer})[{idx}]: subject {self.subject:.17g}; {vals}; "
                f"abs err {self.abs_err:.3g}, rel err {self.rel_err:.3g}, tolerance {self.tolerance:.3g}")


@dataclass
class Verdict:
    """The outcome of :func:`compare` for one case."""

    status: str
    case: Case
    discrepancies: list[Discrepancy] = field(default_factory=list)
    oracle_gradients: dict[str, Gradients] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    candidate: Gradients | None = None
    _error_ratio: tuple[tuple[np.ndarray, np.ndarray], ...] = ()
    _tolerance: dict[str, Gradients] = field(default_factory=dict)
    float64: Verdict | None = None  # the float64 re-run behind a 'precision' or float32 'fail' verdict
    rtol: float = 0.0  # the user's relative slack beyond rounding (compare's ``rtol``)
    _deferred: Callable[[], tuple[tuple, dict]] | None = field(default=None, repr=False, compare=False)
    """Computes (error_ratio, tolerance) when first read: a pass decided on a lower bound of the tolerance model."""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status {self.status!r} is not one of {STATUSES}")

    def _settle(self) -> None:
        if self._deferred is not None:
            self._error_ratio, self._tolerance = self._deferred()
            self._deferred = None

    @property
    def error_ratio(self) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
        """Per layer, (W, b) arrays of the largest |subject − oracle| / tolerance over the conclusive oracles."""
        self._settle()
        return self._error_ratio

    @property
    def tolerance(self) -> dict[str, Gradients]:
        """Per oracle, the tolerance of |subject − oracle| at every entry (the rounding model's, with any rtol)."""
        self._settle()
        return self._tolerance

    @property
    def passed(self) -> bool:
        """True for pass, and for precision / non-differentiable (not the subject's bug)."""
        return self.status in _PASSING

    @property
    def max_error_ratio(self) -> float:
        """max |candidate − oracle| / tolerance over all entries and conclusive oracles (0 if none)."""
        vals = [np.ravel(r) for pair in self.error_ratio for r in pair]
        return float(np.nanmax(np.concatenate(vals), initial=0.0)) if vals else 0.0

    def __str__(self) -> str:
        head = f"{self.status}: {self.case.label or 'case'} {self.case.arch.widths} {self.case.dtype}"
        lines = [head] + [f"  {d.describe()}" for d in self.discrepancies[:10]]
        if len(self.discrepancies) > 10:
            lines.append(f"  ... and {len(self.discrepancies) - 10} more")
        return "\n".join(lines + [f"  note: {n}" for n in self.notes])

    def to_findings(self, *, source: str, check: str) -> list[Finding]:
        """Findings: one per (layer, param) with discrepancies, plus one for a non-pass, non-fail status."""
        out: list[Finding] = []
        groups: dict[tuple[int, str, str], list[Discrepancy]] = {}
        for d in self.discrepancies:
            groups.setdefault((d.layer, d.param, d.status), []).append(d)
        severity = {"fail": "error", "oracle-disagreement": "warning",
                    "non-differentiable": "info", "precision": "info"}
        kinds = {"fail": "gradient-mismatch", "oracle-disagreement": "oracle-disagreement",
                 "non-differentiable": "non-differentiable", "precision": "precision"}
        for (L, param, status), ds in sorted(groups.items()):
            worst = max(ds, key=lambda d: d.abs_err / d.tolerance if d.tolerance > 0 else math.inf)
            ratio = self.error_ratio[L - 1][0 if param == "W" else 1] if self.error_ratio else None
            values: dict[str, Any] = {"subject": worst.subject, **worst.oracles, "abs_err": worst.abs_err,
                                      "rel_err": worst.rel_err, "n_wrong": len(ds)}
            if ratio is not None:
                values["error_ratio"] = np.asarray(ratio)
            names = ", ".join(worst.oracles)
            what = {"fail": f"disagrees with {names}",
                    "oracle-disagreement": f"cannot be judged: the oracles ({names}) disagree",
                    "non-differentiable": "sits at a relu/leaky_relu kink (non-differentiable point)",
                    "precision": "differs in float32 only (it agrees in float64): precision, not a bug"}[status]
            message = (f"∂C/∂{param}^({L}) {what} at {len(ds)} entr{'y' if len(ds) == 1 else 'ies'}; "
                       f"worst {worst.describe()}")
            out.append(Finding(source=source, kind=kinds[status], severity=severity[status], message=message,
                               where=Location(layer=L, param=param, entry=tuple(int(i) for i in worst.entry)),
                               check=check, values=values, tolerance=float(worst.tolerance),
                               diagnosis=_diagnosis(status, self.case)))
        if self.status not in ("pass", "fail"):
            sev = {"oracle-disagreement": "warning", "inconclusive": "warning"}.get(self.status, "info")
            note = "; ".join(self.notes) or self.status
            out.append(Finding(source=source, kind=self.status, severity=sev,
                               message=f"case {self.case.label or ''} {self.case.arch.widths} "
                                       f"{self.case.dtype}: {self.status}: {note}".replace("  ", " "),
                               check=check, values={"status": self.status, "notes": list(self.notes)},
                               diagnosis=_diagnosis(self.status, self.case)))
        return out


def _diagnosis(status: str, case: Case) -> str | None:
    if status == "oracle-disagreement":
        return "the independent oracles do not agree with each other here; the subject is not blamed"
    if status == "precision":
        return "the float32 result differs beyond the rounding model but the float64 re-run agrees"
    if status == "non-differentiable":
        return "a relu/leaky_relu pre-activation is at 0: any subgradient is acceptable there"
    if status == "inconclusive":
        return "no oracle could judge every entry (missing dependency or finite differences too uncertain)"
    return None


# --------------------------------------------------------------------------- comparison


def _resolve(oracles: Sequence[str | Oracle], notes: list[str]) -> list[Oracle]:
    resolved: list[Oracle] = []
    for o in oracles:
        if isinstance(o, str):
            try:
                resolved.append(get_oracle(o))
            except MissingDependency as exc:
                notes.append(f"oracle {o!r} skipped: {exc}")
        else:
            if not (hasattr(o, "gradients") and getattr(o, "kind", None) in ("autodiff", "fd")):
                raise TypeError(f"{o!r} is not an oracle (needs name, kind 'autodiff'|'fd', gradients(case))")
            resolved.append(o)
    names = [o.name for o in resolved]
    if len(set(names)) != len(names):
        raise ValueError(f"oracle names must be distinct, got {names}")
    return resolved


def _check_candidate(case: Case, g: Gradients, what: str) -> None:
    if not isinstance(g, Gradients):
        raise TypeError(f"{what} must be a manualbp.Gradients, got {type(g).__name__}")
    n = len(case.weights)
    if len(g.dW) != n or len(g.db) != n:
        raise ValueError(f"{what} has {len(g.dW)} weight and {len(g.db)} bias gradients; the case has {n} layers")
    for L, (dW, db, W, b) in enumerate(zip(g.dW, g.db, case.weights, case.biases), start=1):
        if getattr(dW, "shape", None) != W.shape and np.shape(dW) != W.shape:  # arrays: their own shape
            raise ValueError(f"{what}: ∂C/∂W^({L}) has shape {np.shape(dW)}, W^({L}) has shape {W.shape}")
        if getattr(db, "shape", None) != b.shape and np.shape(db) != b.shape:
            raise ValueError(f"{what}: ∂C/∂b^({L}) has shape {np.shape(db)}, b^({L}) has shape {b.shape}")


def _oracle_gradients(oracle: Oracle, case: Case) -> Gradients:
    return _start(oracle, case)()


def _start(oracle: Oracle, case: Case) -> Callable[[], Gradients]:
    """Start ``oracle`` on ``case``: a function returning the checked gradients.  An asynchronous oracle
    (one with ``submit``, JAX) dispatches its work now; any other runs when the function is called."""
    def cannot(exc: Exception) -> ValueError:
        return ValueError(f"oracle {oracle.name!r} cannot handle case {case.label or case.arch.widths}: {exc}")

    submit = getattr(oracle, "submit", None)
    collect = None
    if submit is not None:
        try:
            collect = submit([case])
        except MissingDependency:
            raise
        except (ValueError, TypeError) as exc:
            raise cannot(exc) from exc

    def result() -> Gradients:
        try:
            g = collect()[0] if collect is not None else oracle.gradients(case)
        except MissingDependency:
            raise
        except (ValueError, TypeError) as exc:
            raise cannot(exc) from exc
        _check_candidate(case, g, f"oracle {oracle.name!r}")
        return g

    return result


@dataclass
class _Flat:
    """Every entry of the case's gradient as one vector (order of :meth:`Gradients.flat`), with what the vote needs.

    ``values``/``tol``/``err``/``conclusive`` hold one flat array per oracle: its gradient, the tolerance of
    |subject − oracle|, the oracle's own error share (for pairwise tolerances) and where it can judge.
    """

    layout: tuple[tuple[int, str, tuple[int, ...], int], ...]  # (layer, 'W'|'b', shape, offset)
    subject: np.ndarray
    values: dict[str, np.ndarray]
    tol: dict[str, np.ndarray]
    err: dict[str, np.ndarray]
    conclusive: dict[str, np.ndarray]
    kink: np.ndarray
    floor: float

    def where(self, i: int) -> tuple[int, str, tuple[int, ...]]:
        """(layer, param, entry) of flat index ``i``."""
        for layer, param, shape, offset in reversed(self.layout):
            if i >= offset:
                return layer, param, tuple(int(j) for j in np.unravel_index(i - offset, shape))
        raise IndexError(i)

    def split(self, flat: np.ndarray) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
        """A flat vector back in the case's shapes: (W arrays, b arrays)."""
        return _split(self.layout, flat)


def _split(layout: tuple[tuple[int, str, tuple[int, ...], int], ...], flat: np.ndarray
           ) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
    """A flat vector back in the shapes of ``layout`` (:func:`_layout`): (W arrays, b arrays)."""
    parts = [flat[off:off + math.prod(shape)].reshape(shape) for _, _, shape, off in layout]
    return tuple(parts[0::2]), tuple(parts[1::2])


def _layout(case: Case) -> tuple[tuple[int, str, tuple[int, ...], int], ...]:
    """(layer, 'W'|'b', shape, offset in the flat vector) of every parameter array of the case."""
    return _layout_of(case.arch.widths)


@functools.lru_cache(maxsize=1024)
def _layout_of(widths: tuple[int, ...]) -> tuple[tuple[int, str, tuple[int, ...], int], ...]:
    out, offset = [], 0
    for L, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:]), start=1):
        out.append((L, "W", (n_out, n_in), offset))
        offset += n_out * n_in
        out.append((L, "b", (n_out,), offset))
        offset += n_out
    return tuple(out)


def _flat(arrays_W: Sequence[np.ndarray], arrays_b: Sequence[np.ndarray], dtype=np.float64) -> np.ndarray:
    """W^(1), b^(1), W^(2), … as one vector (the order of :meth:`Gradients.flat`)."""
    parts = []
    for W, b in zip(arrays_W, arrays_b):
        parts += [np.asarray(W).reshape(-1), np.asarray(b).reshape(-1)]
    return np.concatenate(parts).astype(dtype, copy=False)


def _autodiff_tolerance(E: np.ndarray, floor: float) -> np.ndarray:
    """Tolerance of |subject − autodiff oracle| (and of two autodiff oracles): C_AUTODIFF·(E + E) + floor."""
    return 2 * C_AUTODIFF * E + floor


def fast_note(projection: Any) -> str:
    """The verdict's note when the finite differences were checked by projections only."""
    return f"FD checked by {projection.directions} random projections (fast mode)"


def clear_pass(case: Case, subject: np.ndarray, refs: Mapping[str, np.ndarray], projection: Any,
               bound: ErrorBound) -> float | None:
    """The verdict's max error ratio when :func:`compare` in fast mode would pass the case without a
    discrepancy, else None (then run :func:`compare` itself).

    ``subject`` and ``refs`` (autodiff oracles' gradients) are flat float64 vectors
    (:meth:`Gradients.flat`); ``projection`` is the passed-or-not FD projection check of the subject.
    A clear pass: every value finite, the subject within the autodiff tolerance of every oracle, the
    oracles within it of each other, no relu/leaky_relu pre-activation near its kink, and the
    projection check passed: exactly the conditions under which :func:`compare` says 'pass'.
    """
    if projection is None or projection.passed is not True:
        return None
    clear = _clear_ratios(case, subject, refs, bound)
    return None if clear is None else float(clear[0].max(initial=0.0))


def _clear_ratios(case: Case, subject: np.ndarray, refs: Mapping[str, np.ndarray], bound: ErrorBound,
                  rtol: float = 0.0) -> tuple[np.ndarray, np.ndarray] | None:
    """(per entry, the largest |subject − oracle| / tolerance; the tolerance) when the autodiff oracles leave
    nothing to vote on (all of :func:`clear_pass`'s conditions but the projection), else None.  ``rtol``: see
    :func:`compare` (the oracles must still agree among themselves to rounding)."""
    if not refs or bound.kinks:
        return None
    tol = _autodiff_tolerance(bound.flat, _floor(case.dtype))
    values = np.stack([subject, *refs.values()])  # row 0 the subject, then one row per oracle
    if not np.isfinite(values).all():
        return None
    # the largest gap |value_k − value_l| over every pair is the spread max − min, entry by entry
    judged = values[1:] if rtol else values
    if not (judged.max(axis=0) - judged.min(axis=0) <= tol).all():
        return None
    gap = np.abs(values[1:] - subject).max(axis=0)  # the subject's largest gap to an oracle, per entry
    if rtol:
        tol = tol + rtol * bound.scale_flat
        if not (gap <= tol).all():
            return None
    return gap / tol, tol


def _prepare(case: Case, candidate: Gradients, grads: dict[str, Gradients], kinds: dict[str, str],
             eb: ErrorBound, rtol: float = 0.0) -> _Flat:
    """Values, tolerances, conclusiveness and kink masks of every oracle, over all entries at once; ``rtol`` (see
    :func:`compare`) widens the subject's tolerances only, not the oracles' agreement among themselves."""
    floor = _floor(case.dtype)
    E = eb.flat
    kink = _flat(*eb.affected(), dtype=bool)
    scale = float(np.max(eb.scale_flat, initial=0.0))  # the case's gradient scale
    s = candidate.flat().astype(np.float64)
    p = _Flat(_layout(case), s, {}, {}, {}, {}, kink, floor)
    for name, g in grads.items():
        v = g.flat().astype(np.float64)
        finite = np.isfinite(v)
        if kinds[name] == "fd":
            errW = getattr(g, "err_W", ())
            e = _flat(errW, g.err_b) if errW else np.zeros_like(v)
            kinkW = getattr(g, "kink_W", ())
            fdkink = _flat(kinkW, g.kink_b, dtype=bool) if kinkW else np.zeros(v.shape, bool)
            p.err[name] = FD_TRUST * e
            p.tol[name] = C_AUTODIFF * E + FD_TRUST * e + floor
            big = np.maximum(np.maximum(np.abs(v), np.abs(np.nan_to_num(s))), scale)
            # scale 0: every gradient term vanishes identically (a dead network); nothing to resolve
            resolves = (FD_TRUST * e <= FD_RESOLUTION * big + floor) | (scale == 0)
            p.conclusive[name] = finite & ~fdkink & resolves
            p.kink = p.kink | fdkink
        else:
            p.err[name] = C_AUTODIFF * E
            p.tol[name] = _autodiff_tolerance(E, floor)
            p.conclusive[name] = finite
        p.values[name] = v
        if rtol:
            p.tol[name] = p.tol[name] + rtol * eb.scale_flat
    return p


def _vote(p: _Flat) -> tuple[list[Discrepancy], np.ndarray, np.ndarray]:
    """Discrepancies over all entries, the error ratio per entry, and a mask of entries no oracle could judge."""
    names = list(p.values)
    s = p.subject
    ratio = np.zeros(s.shape)
    if not names:
        return [], ratio, np.ones(s.shape, bool)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        diff = {n: np.abs(s - p.values[n]) for n in names}
        ratios = {n: np.where(p.conclusive[n], diff[n] / p.tol[n], 0.0) for n in names}
    for n in names:
        ratio = np.maximum(ratio, np.where(np.isnan(ratios[n]) & p.conclusive[n], np.inf, ratios[n]))
    none_conclusive = ~np.logical_or.reduce([p.conclusive[n] for n in names])
    subj_bad = np.logical_or.reduce([p.conclusive[n] & ~(diff[n] <= p.tol[n]) for n in names])
    # pairwise oracle disagreement: the worst pair (largest gap / tolerance) per entry
    odis = np.zeros(s.shape, bool)
    pair_gap, pair_tol = np.zeros(s.shape), np.full(s.shape, np.inf)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            gap = np.abs(p.values[a] - p.values[b])
            t = p.err[a] + p.err[b] + p.floor
            bad = p.conclusive[a] & p.conclusive[b] & (gap > t)
            if not bad.any():
                continue
            odis |= bad
            worse = bad & (gap / t > pair_gap / pair_tol)
            pair_gap = np.where(worse, gap, pair_gap)
            pair_tol = np.where(worse, t, pair_tol)
    out = []
    for i in np.flatnonzero(odis | subj_bad):
        layer, param, entry = p.where(int(i))
        vals = {n: float(p.values[n][i]) for n in names}
        if p.kink[i]:
            status = "non-differentiable"
        elif odis[i]:
            status = "oracle-disagreement"
        else:
            status = "fail"
        if status == "oracle-disagreement":
            abs_err, tol, ref = float(pair_gap[i]), float(pair_tol[i]), ""
        else:
            cands = [n for n in names if p.conclusive[n][i]] or names
            ref = max(cands, key=lambda n: ratios[n][i] if np.isfinite(ratios[n][i]) else np.inf)
            abs_err, tol = float(diff[ref][i]), float(p.tol[ref][i])
        refval = vals.get(ref, max(vals.values(), key=abs)) if vals else 0.0
        rel = abs_err / abs(refval) if refval != 0 else (math.inf if abs_err > 0 else 0.0)
        out.append(Discrepancy(layer, param, entry, float(s[i]), vals, abs_err, rel, tol, status, ref))
    return out, ratio, none_conclusive


def _projection(case: Case, candidate: Gradients, notes: list[str], eb: ErrorBound, flat: np.ndarray | None = None,
                rtol: float = 0.0):
    try:
        from .projection import projection_check
    except ImportError as exc:  # the fast path is optional: fall back to the full per-entry FD
        notes.append(f"projection check unavailable ({exc}); full finite differences used")
        return None
    try:
        return projection_check(case, candidate, bound=eb, flat=flat, rtol=rtol)
    except ValueError as exc:
        notes.append(f"projection check could not run ({exc}); full finite differences used")
        return None


def _clear_verdict(case: Case, candidate: Gradients, grads: dict[str, Gradients], ratio: np.ndarray,
                   tol: np.ndarray, notes: list[str], rtol: float = 0.0) -> Verdict:
    """The passing Verdict of a clear pass (see :func:`clear_pass`): what the vote would build, without it."""
    return Verdict("pass", case, [], grads, notes, candidate, *_clear_fields(case, grads, ratio, tol), None, rtol)


def _clear_fields(case: Case, grads: Mapping[str, Gradients], ratio: np.ndarray, tol: np.ndarray
                  ) -> tuple[tuple[tuple[np.ndarray, np.ndarray], ...], dict[str, Gradients]]:
    """A clear pass's error ratios and tolerances (flat vectors) in the verdict's layout."""
    layout = _layout(case)
    tW, tb = _split(layout, tol)
    rW, rb = _split(layout, ratio)
    return tuple(zip(rW, rb)), {n: Gradients(tW, tb, f"tolerance vs {n}") for n in grads}


_SIGMA_RATIO = {"sigmoid": 2.0, "tanh": 1.0, "softplus": 2.0}
"""Per activation, a lower bound r of m_σ'/|σ'| (:func:`_sigma_terms`): E_σ' ≥ K_FN·u·r·|σ'|; 0 for the rest."""


@functools.lru_cache(maxsize=1024)
def _lower_factors(widths: tuple[int, ...], activations: tuple[str, ...], cost: str, B: int, u: float) -> np.ndarray:
    """Per flat entry, c·(1 − 8c) where error_bound's E ≥ c·(the sum of |terms|) (see :func:`_lower_bound`)."""
    n_layers = len(widths) - 1
    gB, ku = _gamma(B + 1, u), K_FN * u
    # E_dz ≥ c|dz| at the output (_output_errors): k·u|dz| from the cost's terms, or for a squared error through an
    # elementwise σ, 2u (of f(a − y)) + 2u (of the product) + k·u·r (of σ')
    out = activations[-1]
    c = 4 * u + ku * _SIGMA_RATIO.get(out, 0.0) if cost not in ("bce", "softmax_ce") and out != "softmax" else ku
    parts: list[np.ndarray] = [None] * (2 * n_layers)  # type: ignore[list-item]
    for L in range(n_layers, 0, -1):  # W^(L): widths[L] × widths[L − 1]; its input a^(L) is σ's output for L ≥ 2
        # E_∂W ≥ E_dz|a|ᵀ + |dz|E_aᵀ + (γ(B+1) + u)|dz||a|ᵀ with E_a ≥ k·u·|a| (eq. a) above the input layer
        parts[2 * L - 2] = np.full(widths[L] * widths[L - 1], c + gB + u + (ku if L > 1 else 0.0))
        parts[2 * L - 1] = np.full(widths[L], c + gB)  # E_∂b ≥ Σ E_dz + γ(B+1) Σ|dz|
        if L > 1:  # E_δ ≥ (c + γ(n))|W|ᵀ|dz|; E_dz ≥ E_δ|σ'| + |δ| E_σ' + u|dz| one layer down
            c = c + _gamma(widths[L], u) + u + ku * _SIGMA_RATIO.get(activations[L - 2], 0.0)
    c = np.concatenate(parts)
    # an oracle's |gradient| exceeds the sum of |terms| by its own rounding, at most C_AUTODIFF·E ≤ 4E, so
    # c·(1 − 8c)·|gradient| ≤ (1 − 8c)(1 + 4c)·E ≤ E
    return np.maximum(c * (1.0 - 8.0 * c), 0.0)


def _lower_bound(case: Case, refs: Mapping[str, np.ndarray]) -> ErrorBound:
    """A lower bound, entry by entry, of :func:`error_bound` of ``case``, from the autodiff oracles' flat gradients
    ``refs`` alone (never the subject's): no kinks, the scale |gradient|.

    By the recurrences, E_dz ≥ c·|dz| with c ≥ 4u at the output and c + γ(n_{L+1}) + u + k·u·r one layer down
    (see :func:`_lower_factors`); so E_∂W ≥ (c + γ(B+1) + u)·|dz||a|ᵀ (+ k·u·|dz||a|ᵀ above the input layer) and
    E_∂b ≥ (c + γ(B+1))·Σ|dz|, and |dz||a|ᵀ ≥ |∂C/∂W|, Σ|dz| ≥ |∂C/∂b|: taken at
    the smallest |value| of the oracles, c made smaller by 8c² for the oracles' own rounding of that value.
    Valid for the values only when :func:`error_bound` finds no kink (:func:`_kink_free` tells).
    """
    g = np.min(np.abs(np.stack(list(refs.values()))), axis=0)
    B = case.x.shape[1] if case.batched else 1
    arch = case.arch
    E = _lower_factors(arch.widths, arch.activations, arch.cost, B, _ROUNDOFF[case.dtype][0]) * g
    layout = _layout(case)
    (EW, Eb), (SW, Sb) = _split(layout, E), _split(layout, g)
    return ErrorBound(EW, Eb, SW, Sb, (), _ROUNDOFF[case.dtype][0])


def _kink_free(case: Case) -> bool:
    """True when no relu/leaky_relu pre-activation is within KINK_FACTOR·Ē_z of its kink, Ē_z an upper bound of
    :func:`error_bound`'s E_z: its forward recurrence with slope 1 for every σ (each is 1-Lipschitz), so that
    error_bound then finds no kink either."""
    u, tiny = _ROUNDOFF[case.dtype]
    acts = case.arch.activations
    last = max((L for L, name in enumerate(acts) if name in KINKED), default=-1)
    a = np.asarray(case.x, np.float64)
    a = a if case.batched else a[:, None]
    abs_a, Ea = np.abs(a), np.zeros(a.shape)
    for L in range(last + 1):
        W, b = np.asarray(case.weights[L], np.float64), np.asarray(case.biases[L], np.float64)
        z = _product(W, a) + b[:, None]  # as error_bound computes it, bit for bit
        Ez = _preactivation_bound(np.abs(W), b, abs_a, Ea, W.shape[1], u, tiny) * (1 + 1e-9)
        if acts[L] in KINKED and _near_kink(z, Ez).any():
            return False
        with np.errstate(over="ignore", under="ignore"):
            a = get_activation(acts[L]).f(z)
        abs_a = np.abs(a)
        Ea = Ez + K_FN * u * abs_a + tiny  # ≥ |σ'|·E_z + k·u·|a| (eq. a)
    return True


def _quick_pass(case: Case, candidate: Gradients, grads: dict[str, Gradients], subject: np.ndarray,
                refs: Mapping[str, np.ndarray], notes: list[str]) -> Verdict | None:
    """Fast mode without a given bound: the clear pass decided on :func:`_lower_bound`, or None.

    Most correct subjects agree with the oracles, and the FD projection with them, well within that lower
    bound; then the full tolerance model is not needed to pass them, and the verdict computes its error ratios
    and tolerances from it only when they are read.
    """
    low = _lower_bound(case, refs)
    if _clear_ratios(case, subject, refs, low) is None or not _kink_free(case):
        return None
    projection = _projection(case, candidate, [], low, subject)
    if projection is None or projection.passed is not True:
        return None

    def deferred() -> tuple[tuple, dict]:
        clear = _clear_ratios(case, subject, refs, error_bound(case))
        if clear is None:  # cannot be: every tolerance of the bound is at least the lower bound's
            raise RuntimeError("internal error: a clear pass on the lower bound is none on the bound")
        return _clear_fields(case, grads, *clear)

    return Verdict("pass", case, [], grads, [*notes, fast_note(projection)], candidate, _deferred=deferred)


def accepted_range(verdict: Verdict) -> tuple[Gradients, Gradients] | None:
    """Per entry, the lowest and highest subject value :func:`compare` accepts on ``verdict``'s case (manualbp's
    layout): within the tolerance of every oracle conclusive there; ±inf where none is, or at a relu kink.

    None when the verdict has no candidate or no oracle gradients.  The vote's own criterion, recomputed, so
    that a reproducer can assert exactly what the verdict judged.
    """
    if verdict.candidate is None or not verdict.oracle_gradients:
        return None
    case = verdict.case
    kinds = {n: "fd" if n == "fd" or hasattr(g, "err_W") else "autodiff" for n, g in verdict.oracle_gradients.items()}
    p = _prepare(case, verdict.candidate, dict(verdict.oracle_gradients), kinds, error_bound(case), verdict.rtol)
    lo = np.full(p.subject.shape, -np.inf)
    hi = np.full(p.subject.shape, np.inf)
    for n, v in p.values.items():
        judged = p.conclusive[n] & ~p.kink
        lo = np.where(judged, np.maximum(lo, v - p.tol[n]), lo)
        hi = np.where(judged, np.minimum(hi, v + p.tol[n]), hi)
    return (Gradients(*p.split(lo), "lowest accepted"), Gradients(*p.split(hi), "highest accepted"))


def compare(
    case: Case,
    candidate: Gradients,
    *,
    oracles: Sequence[str | Oracle] = ("torch", "jax", "fd"),
    fast: bool = True,
    rerun: Callable[[Case], Gradients] | None = None,
    precomputed: Mapping[str, Gradients] | None = None,
    projection: Any = None,
    bound: ErrorBound | None = None,
    rtol: float = 0.0,
) -> Verdict:
    """Judge ``candidate`` (∂C/∂W, ∂C/∂b of ``case``) against the oracles; see the module docstring.

    ``oracles`` are names ('torch', 'jax', 'fd') or oracle objects; one whose optional dependency is not
    installed is skipped with a note.  ``fast``: FD only by random projections unless something fails.
    ``rerun(case64)`` recomputes the candidate on a float64 copy of a float32 case, to tell precision
    from a bug.  ``precomputed`` maps oracle names to gradients already computed for this case (a sweep
    batches its oracle calls with ``gradients_many``); ``projection`` is the fast mode's FD projection
    result already computed for it (:func:`oracles.projection.projection_many`), and ``bound`` its
    :func:`error_bound`.  ``rtol`` (default 0: rounding only) also accepts a subject entry within rtol × the
    sum of |terms| that build it (the entry's scale, which a cancelling entry keeps) of every oracle: for
    gradients known to be computed less exactly than the derivation's formulas, like gradcheck's rtol.
    """
    if not isinstance(case, Case):
        raise TypeError(f"expected a manualbp.Case, got {type(case).__name__}")
    if isinstance(rtol, bool) or not isinstance(rtol, (int, float)) or not 0 <= rtol < math.inf:
        raise ValueError(f"rtol must be a finite number >= 0, got {rtol!r}")
    rtol = float(rtol)
    _check_candidate(case, candidate, "the candidate")
    notes: list[str] = [f"rtol {rtol:g}: a subject entry within {rtol:g} × its scale of the oracles passes"] if rtol \
        else []
    resolved = _resolve(oracles, notes)
    precomputed = dict(precomputed or {})
    kinds = {o.name: o.kind for o in resolved}
    # asynchronous oracles (JAX) are dispatched first and compute while the bound and the others run
    started = {o.name: _start(o, case) for o in resolved if o.kind == "autodiff" and not precomputed.get(o.name)}
    grads = {o.name: precomputed.get(o.name) or started[o.name]() for o in resolved if o.kind == "autodiff"}
    fd_oracles = [o for o in resolved if o.kind == "fd"]
    eb = bound

    if fast and fd_oracles and grads:  # the common case first: every oracle agrees, the projection passes
        subject = candidate.flat()
        subject64 = subject.astype(np.float64, copy=False)
        refs = {n: g.flat().astype(np.float64, copy=False) for n, g in grads.items()}
        if eb is None and projection is None and not rtol:
            quick = _quick_pass(case, candidate, grads, subject64, refs, notes)
            if quick is not None:
                return quick
        eb = eb if eb is not None else error_bound(case)
        clear = _clear_ratios(case, subject64, refs, eb, rtol)
        if clear is not None:
            if projection is None:
                projection = _projection(case, candidate, notes, eb, subject, rtol)
            if projection is not None and projection.passed is True:
                return _clear_verdict(case, candidate, grads, *clear, [*notes, fast_note(projection)], rtol)

    eb = eb if eb is not None else error_bound(case)
    flat = _prepare(case, candidate, grads, kinds, eb, rtol)
    discrepancies, ratio, unjudged_mask = _vote(flat)
    trouble = bool(discrepancies) or unjudged_mask.any()

    if fd_oracles:
        if fast and grads and not trouble:
            if projection is None:
                projection = _projection(case, candidate, notes, eb, rtol=rtol)
            if projection is not None and projection.passed is not True:
                notes.append(f"FD projection check {'failed' if projection.passed is False else 'inconclusive'};"
                             " full per-entry finite differences run to localise")
        else:
            projection = None
        if not fast or not grads or trouble or projection is None or projection.passed is not True:
            for o in fd_oracles:
                grads[o.name] = precomputed.get(o.name) or _oracle_gradients(o, case)
            flat = _prepare(case, candidate, grads, kinds, eb, rtol)
            discrepancies, ratio, unjudged_mask = _vote(flat)
        else:
            notes.append(fast_note(projection))

    rW, rb = flat.split(ratio)
    ratios = tuple(zip(rW, rb))
    unjudged = int(unjudged_mask.sum())
    tol = {n: Gradients(*flat.split(flat.tol[n]), f"tolerance vs {n}") for n in grads}
    if eb.kinks:
        notes.append("relu/leaky_relu pre-activations within rounding of the kink at (layer, unit): "
                     + ", ".join(f"({L}, {i})" for L, i in eb.kinks))
    fd_kink = any(getattr(g, "any_kink", False) for g in grads.values())

    statuses = {d.status for d in discrepancies}
    float64 = None
    if not grads:
        status = "inconclusive"
        notes.append("no oracle could run")
    elif "oracle-disagreement" in statuses:
        status = "oracle-disagreement"
        bad = sorted({n for d in discrepancies if d.status == "oracle-disagreement" for n in d.oracles})
        notes.append(f"oracles {', '.join(bad)} disagree among themselves beyond their tolerances")
    elif "fail" in statuses:
        status = "fail"
        if case.dtype == "float32" and rerun is not None:
            case64 = case.astype("float64")
            try:
                g64 = rerun(case64)
                _check_candidate(case64, g64, "the float64 re-run")
            except Exception as exc:  # noqa: BLE001 - the subject's own failure: the float32 verdict stands
                notes.append(f"the float64 re-run gave no gradients ({type(exc).__name__}: {exc})")
            else:
                float64 = compare(case64, g64, oracles=[o for o in resolved], fast=fast, rtol=rtol)
                if float64.passed:
                    status = "precision"
                    for d in discrepancies:
                        if d.status == "fail":
                            d.status = "precision"
                    notes.append("the float32 discrepancies vanish in float64: precision, not a bug")
                else:
                    notes.append(f"the float64 re-run also fails ({float64.status})")
    elif "non-differentiable" in statuses or eb.kinks or fd_kink:
        status = "non-differentiable"
    elif unjudged:
        status = "inconclusive"
        notes.append(f"{unjudged} entries could not be judged by any oracle")
    else:
        status = "pass"
    return Verdict(status, case, discrepancies, grads, notes, candidate, ratios, tol, float64, rtol)
