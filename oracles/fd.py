"""The finite-difference oracle: ∂C/∂θ from cost evaluations only, with a per-entry error estimate.

Three methods, all vectorised (every perturbation of a layer goes through one batched forward pass
of :mod:`oracles.forward_eval`, in chunks; there is no Python loop over entries):

``complex-step``
    g = Im C(θ + i·h·e) / h with h = 2⁻⁶⁰ (scaled by the entry's input, see below).  No subtraction,
    so no cancellation: exact to rounding.  Used by ``auto`` when every activation is analytic
    (sigmoid, tanh, softplus, identity, softmax; all costs are analytic in z), and through
    relu/leaky_relu when no pre-activation is near their kink (below).
``richardson``
    central differences D(h) = (C(θ+h) − C(θ−h))/2h at h₀, h₀/2, h₀/4, extrapolated (Neville table,
    error O(h⁶)).  Used by ``auto`` when a relu or leaky_relu pre-activation is near its kink (below).
``central``
    the plain central difference at a step ≈ u^{1/3}, for comparison (its truncation is estimated
    from D(2h) − D(h)).

**Steps.**  C depends on W_ij only through z_i = Σ_j W_ij a_j + b_i, so a step s in W_ij moves z_i by
s·a_j.  Steps are therefore chosen in *pre-activation units*: s = h·2^{−e} with 2^{e} ≈ max_b |a_j|
(the entry's input scale; 1 for a bias), a power of two so that it is exact.  Perturbations are
applied to z directly (z + s·a_j), which is C at exactly W + s·e_ij, evaluated without forming the
perturbed matrix.

**Error estimates (per entry, absolute).**  The truncation error of Richardson is the difference of
the last two extrapolants; the rounding error is the larger of a model term (eps·|C|/h times the
extrapolation's amplification) and an empirical *precision-scaling* term: the same differences are
evaluated again in single precision and |g₃₂ − g₆₄|·(u₆₄/u₃₂) estimates the double-precision rounding
error (first-order rounding errors scale with the unit roundoff; this also sees cancellation that
eps·|C| misses, e.g. a − y ≈ 0).  For the complex step only the rounding terms apply.

**Kinks.**  For relu/leaky_relu networks the forward pass reports which perturbations flip the sign
of a kinked pre-activation (anywhere in the network).  Levels whose steps cross a kink are dropped
from the extrapolation, and entries whose first pass (h₀ = 2⁻⁵) crossed one are redone with smaller
steps (2⁻¹², then 2⁻²⁰).  When even the smallest step crosses a kink, the entry sits at (or within
~1e-6 of) a kink: if its one-sided differences disagree beyond their rounding, ``kink_W``/``kink_b``
mark it ("non-differentiable point", not a bug); its value is then the central difference (the mean
of the one-sided derivatives) and its error estimate includes half the jump, so that any subgradient
lies within it.

**Directional derivatives through relu/leaky_relu.**  The complex step perturbs θ by i·h·v, so the
real part of every pre-activation stays the unperturbed z (up to O(h²)), and relu/leaky_relu select
their branch by Re z > 0: the complex step gives the derivative on the side where z sits, which is
*the* derivative when no kinked pre-activation is at (or within rounding of) 0.  So ``auto`` uses it,
for directional and per-entry derivatives alike, when every relu/leaky_relu pre-activation of the
unperturbed network satisfies |z| > KINK_MARGIN·(|W||a| + |b|) in each precision evaluated, and
Richardson (which detects and reports kinks) otherwise.

**Precision.**  The oracle's job is to be accurate, so a float32 case is evaluated in float64 (its
float32 parameters are exact in float64); the results are returned in the case's dtype and the error
estimate includes that final rounding.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from manualbp import Case, Gradients
from manualbp.activations import KINKED, SMOOTH

from . import forward_eval as fe

METHODS = ("auto", "complex-step", "richardson", "central")

CS_STEP = 2.0**-60
"""Complex step (pre-activation units): h² ≈ 8e-37 makes the truncation vanish next to rounding."""

RICHARDSON_PASSES = (2.0**-5, 2.0**-12, 2.0**-20)
"""Largest step of each Richardson pass (levels h₀, h₀/2, h₀/4).  Analytic networks use the first pass
only; with relu/leaky_relu, entries whose steps crossed a kink are redone with the next, smaller steps."""

LEVELS = 3
"""Richardson levels (error O(h^{2·LEVELS}))."""

CENTRAL_PASSES = (2.0**-16, 2.0**-24)
"""Central differences: D at h₀/2 ≈ u^{1/3} (in float64) with D(h₀) for the truncation estimate."""

SAFETY = 4.0
"""Factor applied to the rounding estimates."""

KINK_MARGIN = 2.0**-12
"""Directional ``auto`` on a relu/leaky_relu network takes the complex step when every kinked
pre-activation has |z| > KINK_MARGIN·M_z, M_z = |W||a| + |b| (the scale of the terms summed into z).

Why 2⁻¹²: the margin must cover the difference between the base pass's z and the Re z that the
complex pass recomputes in the same precision (other kernels, other summation order, complex
activations upstream): at most 2γ_n·M_z ≈ 2n·u·M_z in the worst case, ~√n·u·M_z in practice.  Each
precision's own z is checked, so in float32 (u = 2⁻²⁴) 2⁻¹² = 4096·u covers the worst case up to
n ≈ 2000 inputs per unit and the typical √n growth far beyond (and should a float32 branch still flip,
only the precision-scaling error estimate grows); in float64 it is ~10¹² times the rounding, so the
float64 branch (the returned value) is the exact network's.  And it is small: a random network is
rarely sent to the costlier Richardson steps (z within 2.4e-4·M_z of 0; 1 relu/leaky case in ~500 of
the sweep's random cases)."""

_HI, _LO = np.float64, np.float32
_U_HI, _U_LO = np.finfo(_HI).eps / 2, np.finfo(_LO).eps / 2
_TINY_HI = float(np.finfo(_HI).smallest_normal)
_ROUND_MODEL_C = 16.0  # forward-evaluation rounding of C in units of u·|C|


@dataclass(frozen=True)
class FDGradients(Gradients):
    """Finite-difference gradients with a per-entry absolute error estimate and kink flags."""

    err_W: tuple[np.ndarray, ...] = ()
    err_b: tuple[np.ndarray, ...] = ()
    kink_W: tuple[np.ndarray, ...] = ()
    kink_b: tuple[np.ndarray, ...] = ()
    method: str = ""

    def errors(self) -> Gradients:
        """The error estimates in the layout of :class:`Gradients`."""
        return Gradients(self.err_W, self.err_b, f"{self.source} error estimate")

    @property
    def any_kink(self) -> bool:
        """True when some entry sits at a relu/leaky_relu kink."""
        return any(bool(k.any()) for k in (*self.kink_W, *self.kink_b))


def choose_method(case: Case, method: str = "auto") -> str:
    """The concrete method for ``case``: complex-step when every activation is analytic, else richardson."""
    if method not in METHODS:
        raise ValueError(f"unknown finite-difference method {method!r}; valid: {', '.join(METHODS)}")
    kinked = [(L, a) for L, a in enumerate(case.arch.activations, start=2) if a not in SMOOTH]
    if method == "auto":
        return "richardson" if kinked else "complex-step"
    if method == "complex-step" and kinked:
        L, a = kinked[0]
        raise ValueError(f"the complex-step method needs analytic activations, but layer {L} uses {a!r};"
                         " use method='richardson' (or 'auto')")
    return method


# --------------------------------------------------------------------------- step schedule and combination


def _passes(method: str, kinked: bool) -> tuple[float, ...]:
    """Largest step of each pass (pre-activation units); later passes only for entries whose steps crossed a kink."""
    if method == "central":
        return CENTRAL_PASSES if kinked else CENTRAL_PASSES[:1]
    return RICHARDSON_PASSES if kinked else RICHARDSON_PASSES[:1]


def _levels(method: str, h0: float) -> np.ndarray:
    """Step sizes of one pass, largest first (ratio 2)."""
    return h0 * 2.0 ** -np.arange(2 if method == "central" else LEVELS)


def _pow2_unit(scale: np.ndarray) -> np.ndarray:
    """2^{−e} with 2^{e−1} < scale ≤ 2^{e}, clipped to 2^{±60}; 1 where scale is 0."""
    scale = np.asarray(scale, dtype=np.float64)
    with np.errstate(divide="ignore"):
        e = np.where(scale > 0, np.ceil(np.log2(np.where(scale > 0, scale, 1.0))), 0.0)
    return 2.0 ** -np.clip(e, -60, 60)


def _neville(D: np.ndarray) -> np.ndarray:
    """Richardson table of central differences D (..., K) at h/2^m: [..., r] extrapolates the finest r+1 levels."""
    K = D.shape[-1]
    T = [D[..., m] for m in range(K)]  # column r = 0
    finest = [T[-1]]
    for r in range(1, K):
        T = [T[m] + (T[m] - T[m - 1]) / (4.0**r - 1) for m in range(1, len(T))]
        finest.append(T[-1])
    return np.stack(finest, axis=-1)


@functools.cache
def _amplification(K: int) -> np.ndarray:
    """Σ_m |w_m|·h_finest/h_m for each extrapolation order (w = weights of the D_m): how rounding grows."""
    h_ratio = 2.0 ** -(K - 1 - np.arange(K))  # h_finest / h_m
    W = _neville(np.eye(K))  # (K levels, K orders): weight of D_m in the order-r extrapolant
    amp = (np.abs(W) * h_ratio[:, None]).sum(axis=0)
    amp.setflags(write=False)  # cached: shared by every call
    return amp


@dataclass(frozen=True)
class _Estimate:
    value: np.ndarray
    err: np.ndarray
    kink: np.ndarray


@dataclass(frozen=True)
class _Evaluation:
    """Costs at θ ± h for n entries × K levels (last axis: +, −) in double and (optionally) single precision."""

    c: np.ndarray
    crossed: np.ndarray
    c_lo: np.ndarray | None = None
    crossed_lo: np.ndarray | None = None


def _difference_noise(ev: _Evaluation, scale: float) -> float:
    """Rounding noise of one difference C(θ+h) − C(θ−h), pooled over all entries and levels of the pass.

    Model term 32·u·|C|; empirical term (precision scaling): the largest |Δ₃₂ − Δ₆₄|·u₆₄/u₃₂.
    """
    noise = 2 * _ROUND_MODEL_C * _U_HI * scale
    if ev.c_lo is not None:
        d_hi = ev.c[..., 0] - ev.c[..., 1]
        d_lo = ev.c_lo[..., 0] - ev.c_lo[..., 1]
        ok = ~(ev.crossed.any(-1) | ev.crossed_lo.any(-1)) & np.isfinite(d_lo)
        if ok.any():
            noise = max(noise, float(np.abs(d_lo - d_hi)[ok].max()) * (_U_HI / _U_LO))
    return noise


def _combine_differences(ev: _Evaluation, C0: float, h: np.ndarray, hz_min: float, extrapolate: bool
                         ) -> tuple[_Estimate, np.ndarray]:
    """Derivatives from costs at θ ± h[:, m] (h (n, K), largest first): estimate and which entries are resolved.

    ``hz_min`` is the finest step in pre-activation units.
    Levels whose steps cross a kink are dropped (the finest contiguous clean levels are used).  An
    entry is resolved when no level crossed; when even the finest crossed, the one-sided differences
    decide whether it is a kink.
    """
    c = ev.c
    n, K, _ = c.shape
    D = (c[..., 0] - c[..., 1]) / (2 * h)
    R = _neville(D) if extrapolate else np.repeat(D[..., -1:], K, axis=-1)
    clean = ~ev.crossed.any(axis=-1)  # (n, K): neither side of level m crosses a kink
    t = np.cumprod(clean[:, ::-1], axis=1).sum(axis=1)  # clean levels counted from the finest one up
    use = np.clip(t, 1, K) - 1  # extrapolation order actually used
    rows = np.arange(n)
    value = R[rows, use]
    h_min = h[:, -1]
    if extrapolate:  # truncation: difference of the last two extrapolants
        trunc = np.abs(value - R[rows, np.maximum(use - 1, 0)])
        amp = _amplification(K)[use]
    else:  # plain central difference: D(h) − D(2h) ≈ 3·a₂·h²
        trunc = np.abs(D[:, -1] - D[:, -2]) / 3
        amp = np.ones(n)
    # a single usable level has no truncation estimate: a heuristic bound (third derivative ≲ first)
    trunc = np.where(t <= 1, 10 * np.abs(value) * hz_min**2, trunc)
    scale = max(float(np.abs(c).max()), abs(C0))
    noise = _difference_noise(ev, scale)
    rounding = noise / (2 * h_min) * amp
    err = trunc + SAFETY * rounding
    # one-sided differences at the finest step: F − B = (C₊ − 2C₀ + C₋)/h
    jump = np.abs(c[:, -1, 0] - 2 * C0 + c[:, -1, 1]) / h_min
    at_kink = t == 0
    kink = at_kink & (jump > SAFETY * 3 * noise / h_min)
    err = np.where(at_kink, err + jump / 2, err)
    return _Estimate(value, err, kink), t == K


def _richardson(evaluate, unit: np.ndarray, C0: float, method: str, kinked: bool) -> _Estimate:
    """Finite differences for n entries in passes of shrinking steps (later passes only for kink crossers).

    ``evaluate(idx, h)`` returns the :class:`_Evaluation` of entries ``idx`` at steps h (len(idx), K).
    """
    n = unit.size
    value, err, kink = np.zeros(n), np.zeros(n), np.zeros(n, dtype=bool)
    todo = np.arange(n)
    passes = _passes(method, kinked)
    for q, h0 in enumerate(passes):
        levels = _levels(method, h0)
        h = levels[None, :] * unit[todo][:, None]
        est, resolved = _combine_differences(evaluate(todo, h), C0, h, float(levels[-1]), method != "central")
        take = resolved | (q == len(passes) - 1)
        idx = todo[take]
        value[idx], err[idx], kink[idx] = est.value[take], est.err[take], est.kink[take]
        todo = todo[~take]
        if todo.size == 0:
            break
    return _Estimate(value, err, kink)


def _combine_complex(c: np.ndarray, c_lo: np.ndarray | None, h: np.ndarray, *, pooled: bool) -> _Estimate:
    """Derivatives Im C / h from complex costs c (n,), with a precision-scaling rounding estimate.

    Per entry: max(|g₃₂ − g₆₄|·u₆₄/u₃₂, u·|g|, tiny/h) (tiny: the smallest normal float64, the absolute precision
    of an imaginary part that underflows).  ``pooled`` (the entries form one layer) adds a normwise
    floor max(largest per-entry estimate, 4u·max|g|): an entry that is small through cancellation
    carries the absolute rounding of the layer's larger terms, and one single-precision sample can be
    small by chance.
    """
    value = c.imag / h
    # below the smallest normal number an imaginary part keeps no relative precision (its intermediates underflow
    # to subnormals): an absolute error of that size, whatever the value
    err = np.maximum(_U_HI * np.abs(value), _TINY_HI / np.abs(h))
    if c_lo is not None:
        ps = np.abs(c_lo.imag / h - value) * (_U_HI / _U_LO)
        err = np.maximum(err, np.where(np.isfinite(ps), ps, np.abs(value)))
    if pooled and value.size:
        err = err + max(float(err.max()), 4 * _U_HI * float(np.abs(value).max()))
    return _Estimate(value, SAFETY * err, np.zeros(value.shape, dtype=bool))


# --------------------------------------------------------------------------- per-entry derivatives


def _layer_entries(case: Case, method: str, k: int, traces: dict, estimate_rounding: bool) -> _Estimate:
    """All n_out × (n_in + 1) derivatives of layer k (W columns, then the bias as the last column)."""
    arch = case.arch
    kinked = any(a in KINKED for a in arch.activations)
    base = traces[_HI]
    A = np.vstack([base.a[k], np.ones((1, base.a[k].shape[1]))])  # inputs of layer k, bias row of ones
    n_out, n_cols = arch.widths[k + 1], A.shape[0]
    unit = _pow2_unit(np.abs(A).max(axis=1))[np.tile(np.arange(n_cols), n_out)]  # per entry
    units = np.repeat(np.arange(n_out), n_cols)
    cols = np.tile(np.arange(n_cols), n_out)
    dtypes = [_HI, _LO] if estimate_rounding else [_HI]
    if method == "complex-step":
        h = CS_STEP * unit
        out = {dt: _complex_step_costs(case, k, traces[dt], dt, units, cols, h) for dt in dtypes}
        return _combine_complex(out[_HI], out.get(_LO), h, pooled=True)

    def evaluate(idx: np.ndarray, h: np.ndarray) -> _Evaluation:
        m, K = h.shape
        steps = (h[:, :, None] * np.array([1.0, -1.0])).reshape(-1)  # entry, level, sign
        res = {}
        for dt in dtypes:
            c, x = fe.entry_costs(arch, *_params(case, dt), traces[dt], case.y, k, np.repeat(units[idx], 2 * K),
                                  np.repeat(cols[idx], 2 * K), steps.astype(dt))
            res[dt] = (c.astype(np.float64).reshape(m, K, 2), x.reshape(m, K, 2))
        lo = res.get(_LO, (None, None))
        return _Evaluation(*res[_HI], *lo)

    return _richardson(evaluate, unit, base.cost, method, kinked)


def _complex_step_costs(case: Case, k: int, tr: fe.Trace, dt, units: np.ndarray, cols: np.ndarray,
                        h: np.ndarray) -> np.ndarray:
    """C(θ + i·h_p·e_p) for every entry p = (units[p], cols[p]) of layer k, evaluated in real dtype ``dt``."""
    steps = 1j * h.astype(dt)  # complex64 for float32, complex128 for float64, clongdouble for longdouble
    return fe.entry_costs(case.arch, *_params(case, dt), tr, case.y, k, units, cols, steps)[0]


def reference_gradients(case: Case, dtype=np.longdouble) -> Gradients:
    """A high-precision reference: the complex step evaluated in extended precision (slow; for tests).

    With relu/leaky_relu it returns the derivative of the branch selected by Re z > 0 (at an exact
    kink: the left derivative, manualbp's convention); away from kinks it is the gradient.
    """
    dt = np.dtype(dtype).type
    tr = fe.trace(case.arch, *_params(case, dt), case.x, case.y, dt)
    dW, db = [], []
    for k, W in enumerate(case.weights):
        n_out, n_in = W.shape
        A = np.vstack([tr.a[k], np.ones((1, tr.a[k].shape[1]), dt)])
        unit = _pow2_unit(np.abs(A).astype(np.float64).max(axis=1))
        units, cols = np.repeat(np.arange(n_out), n_in + 1), np.tile(np.arange(n_in + 1), n_out)
        h = (CS_STEP * unit[cols]).astype(dt)
        g = (_complex_step_costs(case, k, tr, dt, units, cols, h).imag / h).reshape(n_out, n_in + 1)
        dW.append(g[:, :n_in])
        db.append(g[:, n_in])
    return Gradients(tuple(dW), tuple(db), f"complex-step in {np.dtype(dt).name}")


def _params(case: Case, dt) -> tuple[list[np.ndarray], list[np.ndarray]]:
    return [W.astype(dt) for W in case.weights], [b.astype(dt) for b in case.biases]


def _traces(case: Case, estimate_rounding: bool) -> dict:
    dts = [_HI, _LO] if estimate_rounding else [_HI]
    return {dt: fe.trace(case.arch, *_params(case, dt), case.x, case.y, dt) for dt in dts}


def fd_gradients(case: Case, method: str = "auto", *, estimate_rounding: bool = True) -> FDGradients:
    """∂C/∂W^(L), ∂C/∂b^(L) by finite differences with per-entry error estimates and kink flags.

    ``estimate_rounding`` adds the single-precision pass of the precision-scaling error estimate
    (about 1.5× the work); without it only the model rounding term is used.
    """
    if not isinstance(case, Case):
        raise TypeError(f"expected a manualbp.Case, got {type(case).__name__}")
    requested, method = method, choose_method(case, method)
    if requested == "auto" and method == "richardson" and _clear_inputs(case, estimate_rounding) is not None:
        method = "complex-step"  # relu/leaky_relu clear of their kinks: the complex step is exact here too
    traces = _traces(case, estimate_rounding)
    out_dtype = np.dtype(case.dtype)
    extra = np.finfo(out_dtype).eps / 2 if out_dtype != _HI else 0.0  # rounding of the returned values
    dW, db, eW, eb, kW, kb = [], [], [], [], [], []
    for k in range(len(case.weights)):
        # W^(k+1), b^(k+1) move z^(k+2) and what follows: with no kinked activation from there on, the complex step
        # is exact for this layer's entries whatever the kinks upstream (Richardson's estimate there is not)
        downstream_smooth = all(a in SMOOTH for a in case.arch.activations[k:])
        layer_method = "complex-step" if requested == "auto" and downstream_smooth else method
        est = _layer_entries(case, layer_method, k, traces, estimate_rounding)
        if requested == "auto" and layer_method == "richardson":
            rows = _clear_rows(case, traces, k)  # rows whose perturbation reaches no kinked unit near 0
            if rows.any():
                exact = _layer_entries(case, "complex-step", k, traces, estimate_rounding)
                take = np.repeat(rows, case.weights[k].shape[1] + 1)
                est = _Estimate(*(np.where(take, x, y) for x, y in ((exact.value, est.value), (exact.err, est.err),
                                                                     (exact.kink, est.kink))))
        n_out, n_in = case.weights[k].shape
        g = est.value.reshape(n_out, n_in + 1)
        e = est.err + extra * np.abs(est.value)
        e = np.where(np.isfinite(e) & np.isfinite(est.value), e, np.inf).reshape(n_out, n_in + 1)
        kk = est.kink.reshape(n_out, n_in + 1)
        dW.append(g[:, :n_in].astype(out_dtype))
        db.append(g[:, n_in].astype(out_dtype))
        eW.append(e[:, :n_in].astype(out_dtype))
        eb.append(e[:, n_in].astype(out_dtype))
        kW.append(kk[:, :n_in].copy())
        kb.append(kk[:, n_in].copy())
    return FDGradients(tuple(dW), tuple(db), "fd", tuple(eW), tuple(eb), tuple(kW), tuple(kb), method)


# --------------------------------------------------------------------------- directional derivatives


@dataclass(frozen=True)
class Directional:
    """Derivatives of C along several directions: values, absolute error estimates, kink flags."""

    value: np.ndarray
    err: np.ndarray
    kink: np.ndarray
    method: str


def check_gradient_shapes(case: Case, g: Gradients, what: str = "candidate", *, finite: bool = False) -> None:
    """TypeError/ValueError naming the layer when ``g`` does not match the case's parameters.

    With ``finite=True`` a NaN or infinite entry is an error too (used for directions).
    """
    if not isinstance(g, Gradients):
        raise TypeError(f"the {what} must be a manualbp.Gradients, got {type(g).__name__}")
    if len(g.dW) != len(case.weights) or len(g.db) != len(case.biases):
        raise ValueError(f"the {what} has {len(g.dW)} dW and {len(g.db)} db arrays; the case has"
                         f" {len(case.weights)} layers of parameters")
    for L, (dW, db, W, b) in enumerate(zip(g.dW, g.db, case.weights, case.biases), start=1):
        if np.shape(dW) != W.shape:
            raise ValueError(f"the {what}'s dC/dW^({L}) has shape {np.shape(dW)}; W^({L}) has shape {W.shape}")
        if np.shape(db) != b.shape:
            raise ValueError(f"the {what}'s dC/db^({L}) has shape {np.shape(db)}; b^({L}) has shape {b.shape}")
        if finite and not (np.all(np.isfinite(dW)) and np.all(np.isfinite(db))):
            raise ValueError(f"the {what}'s W^({L}) or b^({L}) entry has a non-finite value")


def _flat_params(case: Case) -> np.ndarray:
    """θ as one float64 vector, ordered like ``Gradients.flat`` (W^(1), b^(1), W^(2), …)."""
    return np.concatenate([a.reshape(-1) for W, b in zip(case.weights, case.biases) for a in (W, b)], dtype=_HI)


def _direction_unit(case: Case, d: Gradients, base: fe.Trace) -> float:
    """2^{−e} where 2^{e} ≈ the largest first-order pre-activation change max_k |V_k a_k + c_k|."""
    s = max(float(np.abs(np.asarray(V, _HI) @ base.a[k] + np.asarray(c, _HI)[:, None]).max())
            for k, (V, c) in enumerate(zip(d.dW, d.db)))
    return float(_pow2_unit(np.array(s)))


def _direction_units(case: Case, V: np.ndarray, a: tuple[np.ndarray, ...]) -> np.ndarray:
    """Per row of V, :func:`_direction_unit`: 2^{−e} where 2^{e} ≈ max_k |V_k a_k + c_k| (layer inputs a_k)."""
    Vs, cs = fe.layer_views(case.arch, V)
    dz = [(Vk @ ak + ck[:, :, None]).reshape(len(V), ck.shape[1] * ak.shape[1]) for Vk, ck, ak in zip(Vs, cs, a)]
    return _pow2_unit(np.abs(np.concatenate(dz, axis=1)).max(axis=1))


def _input_norm_bound(case: Case) -> float:
    """An upper bound of ‖a_k[:, b]‖₂ over every weight layer's input a_k and sample b, without a forward pass.

    ‖a_1‖ is x's; after a bounded activation ‖a‖ ≤ √n (sigmoid, tanh) or ≤ 1 (softmax); after an
    unbounded one |σ(z)| ≤ |z| (+ ln 2 for softplus), so ‖a_{k+1}‖ ≤ ‖W_k‖_F ‖a_k‖ + ‖b_k‖ (+ √n ln 2).
    May be +inf for huge parameters.
    """
    x = fe.as_columns(np.asarray(case.x, _HI))
    with np.errstate(over="ignore"):
        bound = A = float(np.sqrt((x * x).sum(axis=0)).max())
        for W, b, name in zip(case.weights[:-1], case.biases[:-1], case.arch.activations[:-1]):
            n = W.shape[0]
            if name in ("sigmoid", "tanh"):
                A = math.sqrt(n)
            elif name == "softmax":
                A = 1.0
            else:
                A = (float(np.linalg.norm(W)) * A + float(np.linalg.norm(b))
                     + (math.sqrt(n) * math.log(2.0) if name == "softplus" else 0.0))
            bound = max(bound, A)
    return bound


def directional_derivatives(case: Case, directions: list[Gradients], *, method: str = "auto",
                            estimate_rounding: bool = True) -> Directional:
    """d/dt C(θ + t·v) at t = 0 for each direction v, all directions in a constant number of stacked passes.

    Complex step: one complex pass for all directions; Richardson: one real pass of 2·LEVELS rows per
    direction (and one more per extra pass when a kink was crossed); each doubled in single precision
    for the error estimate.  ``auto`` takes the complex step also through relu/leaky_relu when no kinked
    pre-activation is near 0 (see :data:`KINK_MARGIN`); ``Directional.method`` says which was used.
    """
    choose_method(case, method)  # validates
    directions = list(directions)
    for d in directions:
        check_gradient_shapes(case, d, "direction", finite=True)
    n = sum(W.size + b.size for W, b in zip(case.weights, case.biases))
    V = np.array([d.flat() for d in directions], dtype=_HI).reshape(len(directions), n)
    return _directional(case, V, method, estimate_rounding)


def directional_derivatives_flat(case: Case, V: np.ndarray, *, method: str = "auto",
                                 estimate_rounding: bool = True, rounding: np.ndarray | None = None) -> Directional:
    """:func:`directional_derivatives` along the rows of V (d, N), flat directions ordered like ``Gradients.flat``.

    ``rounding`` (d,): a bound of the float64 evaluation's rounding error along each direction, from a
    rounding-error model (:mod:`oracles.projection` projects :func:`oracles.compare.error_bound` on v).
    Given, the complex step takes it as its error estimate (at least the SAFETY·u·|value| floor) instead
    of evaluating a single-precision twin pass; Richardson keeps its own estimates.
    """
    choose_method(case, method)  # validates
    V = np.asarray(V, dtype=_HI)
    n = case.arch.n_params
    if V.ndim != 2 or V.shape[1] != n:
        raise ValueError(f"flat directions must have shape (d, {n}), got {V.shape}")
    if not np.isfinite(V).all():
        raise ValueError("a flat direction has a non-finite entry")
    return _directional(case, V, method, estimate_rounding, check_rounding(rounding, len(V)))


def directional_from_valid(case: Case, V: np.ndarray, rounding: np.ndarray | None) -> Directional:
    """:func:`directional_derivatives_flat` (method ``auto``) for arguments valid by construction: V float64 (d, N)
    and finite, ``rounding`` None or d bounds ≥ 0 (+inf allowed), as :mod:`oracles.projection` builds them."""
    return _directional(case, V, "auto", True, rounding)


def check_rounding(rounding: np.ndarray | None, d: int) -> np.ndarray | None:
    """``rounding`` as a float64 array of d non-negative bounds, +inf allowed (None stays None); else ValueError."""
    if rounding is None:
        return None
    r = np.asarray(rounding, dtype=_HI)
    if r.shape != (d,) or not (r >= 0).all():  # NaN fails r >= 0
        raise ValueError(f"rounding must hold {d} non-negative bounds (one per direction), got {rounding!r}")
    return r


def with_rounding(est: _Estimate, rounding: np.ndarray | None) -> _Estimate:
    """A complex-step estimate whose error is at least the model bound ``rounding`` (None: as it is)."""
    if rounding is None:
        return est
    return _Estimate(est.value, np.maximum(est.err, rounding), est.kink)


def kink_threshold(W: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """KINK_MARGIN·(|W||a| + |b|): how far from 0 the pre-activation z = W a + b must be to be clear of a kink.

    Works on stacks too: W (..., n, m), a (..., m, B), b (..., n) give (..., n, B).
    """
    return KINK_MARGIN * (np.matmul(np.abs(W), np.abs(a)) + np.abs(b)[..., None])


def _clear_rows(case: Case, traces: dict, k: int) -> np.ndarray:
    """Per row j of W^(k+1), b^(k+1): whether perturbing that row moves no relu/leaky_relu pre-activation within
    :func:`kink_threshold` of 0 in any trace (its own unit j of z[k], and every unit of the kinked layers after
    it): the complex step is exact for those entries."""
    acts = case.arch.activations
    base = traces[_HI]

    def clear(l: int) -> np.ndarray:  # per unit of layer l, in every sample and every precision
        t = kink_threshold(np.asarray(case.weights[l], np.float64), base.a[l].real,
                           np.asarray(case.biases[l], np.float64))
        return np.logical_and.reduce([(np.abs(tr.z[l].real) > t).all(axis=1) for tr in traces.values()])

    rows = clear(k) if acts[k] in KINKED else np.ones(case.weights[k].shape[0], bool)
    if any(acts[l] in KINKED and not clear(l).all() for l in range(k + 1, len(acts))):
        return np.zeros_like(rows)
    return rows


def _clear_pass(case: Case, dt, thresholds: dict[int, np.ndarray], stop: int) -> tuple[np.ndarray, ...] | None:
    """Forward pass in ``dt`` through layers 0 … stop−1: the layer inputs a[0 … min(stop, D−1)], or None as
    soon as a relu/leaky_relu pre-activation has |z| ≤ thresholds[k] (a missing threshold is computed
    here, from this pass, and stored)."""
    acts = case.arch.activations
    a = [fe.as_columns(case.x).astype(dt)]
    for k in range(stop):
        W, b = np.asarray(case.weights[k], dt), np.asarray(case.biases[k], dt)
        z = W @ a[k] + b[:, None]
        if acts[k] in KINKED:
            if k not in thresholds:
                thresholds[k] = kink_threshold(W, a[k], b)
            if not (np.abs(z) > thresholds[k]).all():
                return None
        if k + 1 < len(acts):
            a.append(fe.activate(acts[k], z))
    return tuple(a)


def _clear_inputs(case: Case, single: bool) -> tuple[np.ndarray, ...] | None:
    """The float64 layer inputs a[k] when every relu/leaky_relu pre-activation has |z| > :func:`kink_threshold`
    in float64 and, with ``single``, in float32 (the precisions a complex pass is then evaluated in); else None."""
    thresholds: dict[int, np.ndarray] = {}
    a = _clear_pass(case, _HI, thresholds, len(case.arch.activations))
    # float32 only up to the last kinked layer, and only when float64 is clear
    if a is not None and (not single or _clear_pass(case, _LO, thresholds, max(thresholds) + 1)):
        return a
    return None


def _directional_method(case: Case, method: str, estimate_rounding: bool, inputs: bool = True
                        ) -> tuple[str, fe.Trace | None, tuple[np.ndarray, ...] | None]:
    """The concrete method of :func:`_directional`, the float64 unperturbed trace when Richardson needs it,
    and the float64 layer inputs a[k] (for the step scale; None for an analytic network without ``inputs``).

    ``auto`` on a relu/leaky_relu network: the complex step when every kinked pre-activation has
    |z| > :func:`kink_threshold` (from the float64 pass) in float64 and, with ``estimate_rounding``, in
    float32 (the precisions the complex pass is evaluated in), else Richardson.
    """
    concrete = choose_method(case, method)
    arch = case.arch
    if method == "auto" and concrete == "richardson":
        a = _clear_inputs(case, estimate_rounding)
        if a is not None:
            return "complex-step", None, a
    if concrete == "complex-step":
        return concrete, None, fe.layer_inputs(arch, case.weights, case.biases, case.x) if inputs else None
    base = fe.trace(arch, case.weights, case.biases, case.x, case.y, _HI)
    return concrete, base, base.a


def _directional(case: Case, V: np.ndarray, method: str, estimate_rounding: bool,
                 rounding: np.ndarray | None = None) -> Directional:
    """The derivatives along the rows of V (validated, float64); ``method`` as given (see
    :func:`_directional_method` for ``auto``); ``rounding``: see :func:`directional_derivatives_flat`."""
    arch = case.arch
    kinked = any(a in KINKED for a in arch.activations)
    # the Richardson steps need the unperturbed pass (C and the kink signs); the complex step only the
    # layer inputs, for the step scale (and, through relu/leaky_relu, the pre-activations for the choice).
    # With a model bound of the rounding, the complex step needs no single-precision twin (nor its branch check),
    # and in float64 alone its step needs no forward pass: h·|Δz| ≤ 2⁻⁶⁰ from a bound of the first-order change
    # |V_k a_k + c_k| ≤ ‖v‖(‖a_k‖ + 1) keeps the truncation (h·Δz)² negligible whatever the bound's slack.
    cheap_step = rounding is not None
    method, base, a = _directional_method(case, method, estimate_rounding and rounding is None, inputs=not cheap_step)
    scale = math.inf
    if cheap_step and method == "complex-step":  # ‖a_k‖ from the layer inputs when known, else bounded
        with np.errstate(over="ignore"):
            scale = 1.0 + (_input_norm_bound(case) if a is None
                           else max(float(np.sqrt((ak * ak).sum(axis=0)).max()) for ak in a))
    if not math.isfinite(scale):  # Richardson, no bound, or huge values: the first-order change itself
        a = a if a is not None else fe.layer_inputs(arch, case.weights, case.biases, case.x)
        unit = _direction_units(case, V, a)
    else:
        unit = _pow2_unit(np.sqrt((V * V).sum(axis=1)) * scale)
    twin = estimate_rounding and (rounding is None or method != "complex-step")
    dtypes = [_HI, _LO] if twin else [_HI]
    theta = _flat_params(case)
    data = {dt: (theta.astype(dt, copy=False), V.astype(dt, copy=False), np.asarray(case.x, dt),
                 np.asarray(case.y, dt)) for dt in dtypes}

    def costs(dt, which: np.ndarray | None, steps: np.ndarray, crossings: bool = False):
        """C at θ + steps[p]·V[which[p]] in dtype dt; kink crossings relative to the unperturbed pass in dt."""
        th, Vd, x, y = data[dt]
        tr = base if crossings and dt == _HI else None  # single precision: an unperturbed row in the pass
        return fe.direction_costs(arch, th, Vd, which, steps, x, y, base=tr, crossings=crossings)

    if method == "complex-step":  # analytic, or clear of kinks: no crossings to detect, no base pattern needed
        h = CS_STEP * unit
        out = {dt: costs(dt, None, (1j * h).astype(np.result_type(dt, np.complex64)))[0] for dt in dtypes}
        est = with_rounding(_combine_complex(out[_HI], out.get(_LO), h, pooled=False), rounding)
    else:
        def evaluate(idx: np.ndarray, h: np.ndarray) -> _Evaluation:
            m, K = h.shape
            steps = (h[:, :, None] * np.array([1.0, -1.0])).reshape(-1)  # direction, level, sign
            which = np.repeat(idx, 2 * K)
            res = {}
            for dt in dtypes:
                c, x = costs(dt, which, steps.astype(dt), crossings=kinked)
                res[dt] = (c.astype(np.float64).reshape(m, K, 2), x.reshape(m, K, 2))
            return _Evaluation(*res[_HI], *res.get(_LO, (None, None)))

        est = _richardson(evaluate, unit, base.cost, method, kinked)
    return Directional(est.value.astype(float, copy=False), est.err.astype(float, copy=False), est.kink, method)


def directional_derivative(case: Case, direction: Gradients, *, method: str = "auto") -> tuple[float, float]:
    """(value, absolute error estimate) of d/dh C(θ + h·direction) at h = 0.

    A constant number of forward passes whatever the parameter count: one complex pass (plus its
    single-precision twin for the error estimate) when the network is analytic or (method ``auto``)
    clear of relu/leaky kinks, else 2·LEVELS real passes (and twins) for Richardson; at a kink the error
    estimate includes half the jump.
    """
    r = directional_derivatives(case, [direction], method=method)
    return float(r.value[0]), float(r.err[0])


# --------------------------------------------------------------------------- the oracle


class FiniteDifferenceOracle:
    """Finite differences as an oracle: gradients(case) -> FDGradients (see the module docstring)."""

    name = "fd"
    kind = "fd"

    def __init__(self, method: str = "auto") -> None:
        if method not in METHODS:
            raise ValueError(f"unknown finite-difference method {method!r}; valid: {', '.join(METHODS)}")
        self.method = method

    def gradients(self, case: Case) -> FDGradients:
        """∂C/∂W^(L), ∂C/∂b^(L) with per-entry error estimates (err_W, err_b) and kink flags."""
        return fd_gradients(case, self.method)

    def cost(self, case: Case) -> float:
        """C at the case's parameters (float64 evaluation)."""
        return fe.cost(case)

    def __repr__(self) -> str:
        return f"FiniteDifferenceOracle(method={self.method!r})"
