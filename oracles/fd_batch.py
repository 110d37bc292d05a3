"""Directional finite differences of many small cases at once, through padded numpy forward passes.

A sweep checks hundreds of small random architectures per chunk; evaluating each one's directional
derivatives on its own costs a few dozen small numpy calls per case.  Here the cases are padded into
one shape (:func:`oracles._netspec.pack`: zero weights and masks for the missing units and batch
columns, identity layers in front of shallower networks) and every perturbed parameter set of every
case becomes one row of the same batched forward pass:

    C(θ + i·h·v)           one complex row per direction (complex step: analytic networks, and
                           relu/leaky_relu networks clear of kinks),
    C(θ ± h_m·v)           2K real rows per direction and pass (relu/leaky_relu near a kink: Richardson),

each in float64 and float32 (the precision-scaling rounding estimate; with a model bound of the
rounding per direction, as :func:`oracles.fd.directional_derivatives_flat` takes, the complex step
runs in float64 only).  The rows are combined per
case by exactly the functions :func:`oracles.fd.directional_derivatives` uses, so the estimates are
the same up to the rounding of padded sums, and the method is chosen as there: a relu/leaky_relu case
takes the complex step when its padded unperturbed passes (float64 and float32) put every kinked
pre-activation clear of 0 (:func:`oracles.fd.kink_threshold`).  Richardson's later passes (smaller
steps, used only where the larger ones crossed a relu/leaky_relu kink) are evaluated for every
direction up front: rows are cheap in one batched pass, a second round trip per case is not.

Masked forms (they give the unpadded network's values): padded units carry exactly 0 forward; softmax,
the cost and its n_N see the real units only; the batch mean runs over the real columns.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from manualbp import Case
from manualbp.activations import KINKED

from . import _netspec as spec
from . import forward_eval as fe
from .fd import (
    _HI,
    _LO,
    CS_STEP,
    Directional,
    _combine_complex,
    _Estimate,
    _Evaluation,
    _levels,
    _passes,
    _pow2_unit,
    _richardson,
    check_rounding,
    choose_method,
    directional_derivatives_flat,
    kink_threshold,
    with_rounding,
)

MAX_WIDTH = 16
"""Cases wider than this (or with a longer batch) are not padded: they take the per-case path."""

MAX_BATCH = 8

_NAMES = spec.ELEMENTWISE + spec.OUTPUT_ONLY
_SQUARED, _BCE = spec.COST_CODES["squared"], spec.COST_CODES["bce"]
_KINKED_CODES = [spec.act_code(name) for name in KINKED]


def _masked_max(z: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """max of Re z over the real units (axis −2), keepdims; 0 where a column has no real unit."""
    m = np.where(mask, z.real, -np.inf).max(axis=-2, keepdims=True)
    return np.where(np.isfinite(m), m, 0.0)


class _Net:
    """Padded cases (float64 and float32 copies) and the rows' view of them."""

    def __init__(self, cases: Sequence[Case], key: tuple) -> None:
        p = spec.pack(cases, ("float64", *key[1:]))
        self.p = p
        self.n_layers = p.W.shape[1]
        self.real_layer = np.arange(self.n_layers)[None, :] >= np.array(p.offsets)[:, None]  # (K, layers)
        self.params = {_HI: (p.W, p.b, p.x, p.y), _LO: tuple(a.astype(_LO) for a in (p.W, p.b, p.x, p.y))}

    def forward(self, dt, rows: np.ndarray, W: np.ndarray | None = None, b: np.ndarray | None = None,
                base: list[np.ndarray] | None = None, wdt=None) -> tuple[np.ndarray, np.ndarray, list, list]:
        """Costs (M,), kink crossings (M,) and per-layer z, a of the rows' cases (optionally perturbed W, b).

        ``rows[m]`` is the case of row m; ``W``/``b`` default to the cases' own parameters.  A crossing is a
        relu/leaky_relu unit (real unit, real column) whose sign of Re z differs from ``base`` (the signs
        Re z > 0 of the unperturbed pass, per layer).
        """
        p = self.p
        W0, b0, x, y = self.params[dt]
        W = W0[rows] if W is None else W
        b = b0[rows] if b is None else b
        wdt = np.dtype(wdt or W.dtype)
        units, cols, acts = p.units[rows], p.cols[rows][:, None, :], p.acts[rows]
        a = x[rows].astype(wdt)
        crossed = np.zeros(len(rows), bool)
        zs, as_ = [], [a]
        z = a
        for l in range(self.n_layers):
            z = np.matmul(W[:, l], a) + b[:, l, :, None]  # z^(L+1) = W^(L) a^(L) + b^(L)
            mask = units[:, l + 1, :, None]
            codes = acts[:, l]
            new = np.zeros_like(z)
            for code in np.unique(codes):
                sel = codes == code
                name = _NAMES[code]
                if name == "softmax":
                    zs_, ms = z[sel], mask[sel]
                    e = np.where(ms, np.exp(zs_ - _masked_max(zs_, ms)), 0)
                    new[sel] = e / e.sum(axis=-2, keepdims=True)
                else:
                    new[sel] = fe.activate(name, z[sel])
                if base is not None and name in KINKED:
                    flip = ((z[sel].real > 0) != base[l][sel]) & mask[sel] & cols[sel]
                    crossed[sel] |= flip.any(axis=(-2, -1))
            a = np.where(mask, new, 0)  # padded units carry exactly 0 forward
            zs.append(z)
            as_.append(a)
        return self._cost(rows, a, z, y[rows], mask, cols[:, 0]), crossed, zs, as_

    def _cost(self, rows, a, z, y, mask, cols) -> np.ndarray:
        """Per-row C: the per-sample cost over the real units, averaged over the real columns."""
        p = self.p
        code = p.cost[rows]
        rdt = a.real.dtype
        per = np.zeros((len(rows), a.shape[-1]), dtype=a.dtype)
        sq = code == _SQUARED
        if sq.any():
            d = np.where(mask[sq], a[sq] - y[sq], 0)
            factor, divisor = p.factor[rows][sq, None].astype(rdt), p.divisor[rows][sq, None].astype(rdt)
            per[sq] = factor * (d * d).sum(axis=-2) / divisor
        bce = code == _BCE
        if bce.any():
            zb, yb = z[bce], y[bce]
            per[bce] = np.where(mask[bce], yb * fe.softplus(-zb) + (1 - yb) * fe.softplus(zb), 0).sum(axis=-2)
        ce = ~(sq | bce)
        if ce.any():
            zc, mc = z[ce], mask[ce]
            m = _masked_max(zc, mc)
            lse = m + np.log(np.where(mc, np.exp(zc - m), 0).sum(axis=-2, keepdims=True))
            per[ce] = np.where(mc, y[ce] * (lse - zc), 0).sum(axis=-2)
        return np.where(cols, per, 0).sum(axis=-1) / p.batch[rows].astype(rdt)

    def pack_directions(self, cases: Sequence[Case], directions: Sequence[np.ndarray]
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rows, V, c): every direction (a row of a case's (d, N) flat matrix) padded like its case."""
        p = self.p
        rows = np.repeat(np.arange(len(cases)), [len(D) for D in directions])
        V = np.zeros((len(rows), *p.W.shape[1:]))
        c = np.zeros((len(rows), *p.b.shape[1:]))
        r = 0
        for k, (case, D) in enumerate(zip(cases, directions)):
            o, n = p.offsets[k], len(D)
            for j, (dW, db) in enumerate(zip(*fe.layer_views(case.arch, D))):
                V[r:r + n, o + j, :dW.shape[1], :dW.shape[2]] = dW
                c[r:r + n, o + j, :db.shape[1]] = db
            r += n
        return rows, V, c


def _units(net: _Net, rows: np.ndarray, V: np.ndarray, c: np.ndarray, a: list[np.ndarray]) -> np.ndarray:
    """Per direction 2^{−e}, 2^{e} ≈ the largest first-order pre-activation change max_l |V_l a_l + c_l|."""
    cols = net.p.cols[rows][:, None, :]
    s = np.zeros(len(rows))
    for l in range(net.n_layers):
        dz = np.abs(np.matmul(V[:, l], a[l][rows]) + c[:, l, :, None])
        s = np.maximum(s, np.where(cols, dz, 0).max(axis=(-2, -1)))
    return _pow2_unit(s)


def _clear_of_kinks(net: _Net, base: dict) -> np.ndarray:
    """Per case: every real relu/leaky_relu pre-activation of the unperturbed passes (``base[dt]`` of
    :meth:`_Net.forward`, float64 and, if evaluated, float32) exceeds :func:`oracles.fd.kink_threshold`
    in magnitude."""
    p = net.p
    clear = np.ones(len(p.acts), bool)
    a64 = base[_HI][3]
    for l in range(net.n_layers):
        sel = np.flatnonzero(np.isin(p.acts[:, l], _KINKED_CODES) & clear)
        if sel.size == 0:
            continue
        threshold = kink_threshold(p.W[sel, l], a64[l][sel], p.b[sel, l])
        real = p.units[sel, l + 1][:, :, None] & p.cols[sel][:, None, :]
        for dt in base:
            z = base[dt][2][l][sel]
            clear[sel] &= ((np.abs(z) > threshold) | ~real).all(axis=(-2, -1))
    return clear


def directional_derivatives_many(cases: Sequence[Case], directions: Sequence[np.ndarray],
                                 rounding: Sequence[np.ndarray] | None = None) -> list[Directional]:
    """:func:`oracles.fd.directional_derivatives_flat` of each case along the rows of its (d, N) flat direction
    matrix (order of ``Gradients.flat``), small cases batched; ``rounding``: per case, its ``rounding``
    argument (model bounds of the float64 rounding per direction), or None."""
    if len(cases) != len(directions):
        raise ValueError(f"{len(cases)} cases but {len(directions)} lists of directions")
    if rounding is not None and len(rounding) != len(cases):
        raise ValueError(f"{len(cases)} cases but {len(rounding)} rounding bounds")
    directions = [np.asarray(D, dtype=_HI) for D in directions]
    for i, (case, D) in enumerate(zip(cases, directions)):
        n = case.arch.n_params
        if D.ndim != 2 or D.shape[1] != n:
            raise ValueError(f"case {i}: flat directions must have shape (d, {n}), got {D.shape}")
        if not np.all(np.isfinite(D)):
            raise ValueError(f"case {i}: a flat direction has a non-finite entry")
    bounds = [None] * len(cases)
    if rounding is not None:
        bounds = [check_rounding(r, len(D)) for r, D in zip(rounding, directions)]
    out: list[Directional | None] = [None] * len(cases)

    def key(case: Case):
        return spec.bucket_key(case, max_width=MAX_WIDTH, max_batch=MAX_BATCH, min_width=8, min_layers=4,
                               min_batch=4)

    for k, idx in spec.group_indices(cases, key).items():
        if k is None:
            for i in idx:
                out[i] = directional_derivatives_flat(cases[i], directions[i], rounding=bounds[i])
            continue
        with_bounds = None if rounding is None else [bounds[i] for i in idx]
        for i, r in zip(idx, _bucket([cases[i] for i in idx], [directions[i] for i in idx], k, with_bounds)):
            out[i] = r
    return out  # type: ignore[return-value]


def _bucket(cases: list[Case], directions: list[np.ndarray], key: tuple,
            rounding: list[np.ndarray] | None = None) -> list[Directional]:
    net = _Net(cases, key)
    rows, V, c = net.pack_directions(cases, directions)
    all_rows = np.arange(len(cases))
    # the complex step's precisions: float64, and float32 for the precision-scaling estimate unless bounds are given
    cs_dtypes = (_HI,) if rounding is not None else (_HI, _LO)
    base = {dt: net.forward(dt, all_rows) for dt in cs_dtypes}
    unit = _units(net, rows, V, c, base[_HI][3])
    clear = _clear_of_kinks(net, base)
    methods = ["complex-step" if clear[k] else choose_method(case) for k, case in enumerate(cases)]
    by_cs = np.array([m == "complex-step" for m in methods])[rows]  # per direction
    out: list[Directional | None] = [None] * len(cases)

    # complex step: one complex row per direction, in float64 (and float32)
    cs = np.flatnonzero(by_cs)
    if cs.size:
        h = CS_STEP * unit[cs]
        costs = {}
        for dt in cs_dtypes:
            cdt = np.result_type(dt, np.complex64)
            s = (1j * h.astype(dt)).astype(cdt)
            W0, b0 = net.params[dt][:2]
            r = rows[cs]
            Wp = W0[r] + s[:, None, None, None] * V[cs].astype(dt)
            bp = b0[r] + s[:, None, None] * c[cs].astype(dt)
            costs[dt] = net.forward(dt, r, Wp, bp, wdt=cdt)[0]
        est = _combine_complex(costs[_HI], costs.get(_LO), h, pooled=False)
        for k in np.unique(rows[cs]):
            sel = rows[cs] == k
            e = with_rounding(_Estimate(est.value[sel], est.err[sel], est.kink[sel]),
                              None if rounding is None else rounding[k])
            out[k] = Directional(e.value.astype(float), e.err.astype(float), e.kink, "complex-step")

    # Richardson: the first pass for every direction, the later passes (smaller steps) in one more round
    # for the directions whose steps crossed a kink; then each case's passes combined by oracles.fd._richardson
    rd = np.flatnonzero(~by_cs)
    if rd.size:
        if _LO not in base:
            base[_LO] = net.forward(_LO, all_rows)
        passes = _passes("richardson", True)
        levels = np.stack([_levels("richardson", h0) for h0 in passes])  # (passes, K)
        Q, K = levels.shape
        res = {dt: (np.full((rd.size, Q, K, 2), np.nan), np.zeros((rd.size, Q, K, 2), bool)) for dt in (_HI, _LO)}

        def run(which: np.ndarray, qs: slice) -> None:
            """Fill res for directions rd[which] and passes qs."""
            lv = levels[qs]
            n_rows = lv.size * 2
            steps = (unit[rd[which]][:, None, None, None] * lv[None, :, :, None] * np.array([1.0, -1.0])).reshape(-1)
            src = np.repeat(rd[which], n_rows)
            r = rows[src]
            for dt in (_HI, _LO):
                W0, b0 = net.params[dt][:2]
                s = steps.astype(dt)
                Wp = W0[r] + s[:, None, None, None] * V[src].astype(dt)
                bp = b0[r] + s[:, None, None] * c[src].astype(dt)
                pattern = [z.real[r] > 0 for z in base[dt][2]]
                cost, crossed, _, _ = net.forward(dt, r, Wp, bp, base=pattern)
                res[dt][0][which, qs] = cost.astype(np.float64).reshape(which.size, -1, K, 2)
                res[dt][1][which, qs] = crossed.reshape(which.size, -1, K, 2)

        run(np.arange(rd.size), slice(0, 1))
        crossed_first = (res[_HI][1][:, 0] | res[_LO][1][:, 0]).any(axis=(1, 2))
        if crossed_first.any():
            run(np.flatnonzero(crossed_first), slice(1, Q))
        for k in np.unique(rows[rd]):
            sel = rows[rd] == k
            hi, lo = [(c_[sel], x_[sel]) for c_, x_ in (res[_HI], res[_LO])]
            calls = iter(range(Q))

            def evaluate(idx: np.ndarray, h: np.ndarray, hi=hi, lo=lo, calls=calls) -> _Evaluation:
                q = next(calls)  # _richardson asks for its passes in order
                return _Evaluation(hi[0][idx, q], hi[1][idx, q], lo[0][idx, q], lo[1][idx, q])

            est = _richardson(evaluate, unit[rd][sel], float(base[_HI][0][k]), "richardson", True)
            out[k] = Directional(est.value.astype(float), est.err.astype(float), est.kink, "richardson")
    for k, d in enumerate(out):
        if d is None:  # a case without directions
            out[k] = Directional(np.zeros(0), np.zeros(0), np.zeros(0, bool), methods[k])
    return out  # type: ignore[return-value]
