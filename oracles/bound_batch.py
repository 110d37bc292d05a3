"""The rounding-error bound (:func:`oracles.compare.error_bound`) of many small cases at once.

A sweep chunk needs the bound of a few hundred small random cases; one by one, numpy's per-call overhead
dominates.  :func:`error_bound_many` runs the recurrences of :mod:`oracles.compare` (the same functions:
``_preactivation_bound`` … ``_backprop_errors``, with ``_sigma_terms`` and the activations of
:mod:`manualbp.activations`) on the cases stacked along a leading case axis:

* Step t maps layer t to layer t + 1 of every case that has a weight layer t; cases of different depths
  share the steps they have in common.  Depth is never padded (an identity layer would add its own
  rounding terms): a case simply leaves after its last layer.  The output layers of all cases, whatever
  their depth, are evaluated together once the forward steps are done.
* Within a step, units and samples are padded to the step's largest; sizes that enter the bound (n_L in
  γ(n_L + 1), B, n_out, the squared-error factor, the dtype's u and tiny) are per-case arrays of shape
  (cases, 1, 1).
* Each step orders its cases by activation (the output: by kind of cost, then activation), so that every
  activation's terms are evaluated on a contiguous run of cases.
* Padding costs: one case of width 16 among cases of width 8 doubles every array of a step.  So the cases
  are batched by size (the sweep's: widths ≤ 8 and at most 4 samples; then widths and samples ≤ 16); a
  larger or unusual case, or a size with too few cases to pay for a batch, goes through
  :func:`error_bound` one by one (see :func:`batchable`).

Exactness.  The pre-activations z = W a + b are computed case by case with error_bound's own call
(:func:`oracles.compare._product`) on arrays of the same shapes: a padded product adds in another order,
and where W a nearly cancels, |a| (hence S_W, and E_W through |a| + E_a) would inherit that rounding,
relatively much larger than u; a relu's σ' could even flip.  So z, and a and σ' of the elementwise
activations, are error_bound's, and so are the kinks (barring |z| within an ulp of KINK_FACTOR·E_z).  The
other sums are padded or stacked (softmax's too): magnitudes agree to a few ulps; the signed ones (δ =
Wᵀ ∂C/∂z, and the unit sums of a softmax output's ∂C/∂z) enter the bound only through |∂C/∂z|·E_a, next
to E_dz·(|a| + E_a), and agree to a few ulps unless ∂C/∂z itself cancels to its rounding (seen: 3e-14
relative, on a constructed exact case).

Padding.  Padded weights are 0; padded units and samples of a = σ(z), of ∂C/∂z, of its |terms| and of E_dz
are set to exactly 0.  Every sum over a padded index (|W| |a| and |W| E_a over units, Wᵀ δ over units,
E_dz aᵀ over samples, the unit sums of softmax and of the costs) thus pairs each padded entry with an
exact zero; the other padded entries (z, E_z, E_a, σ', …) hold finite values that no real entry reads.
A case whose batched bound is not finite (an overflow somewhere) is recomputed by :func:`error_bound`.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Sequence
from itertools import groupby
from typing import Any

import numpy as np

from manualbp import Case
from manualbp.activations import KINKED, get_activation

from .compare import (
    _ROUNDOFF,
    ErrorBound,
    _activation_errors,
    _backprop_errors,
    _near_kink,
    _output_errors,
    _preactivation_bound,
    _product,
    _squared_factor,
    _weight_errors,
    error_bound,
)

__all__ = ["MAX_BATCH", "MAX_CASES", "MAX_WIDTH", "MIN_CASES", "SIZES", "batchable", "error_bound_many"]

SIZES = ((8, 4), (16, 16))
"""(widest layer, samples) of the batches' sizes: a case goes with the first size it fits."""

MAX_WIDTH, MAX_BATCH = SIZES[-1]
"""A case with a wider layer or more samples goes through :func:`error_bound` one by one."""

MIN_CASES = 12
"""A size with fewer cases goes through :func:`error_bound` one by one (a batch costs about that many)."""

MAX_CASES = 256
"""Larger batches are split (more cases per batch leave the CPU caches and run slower per case)."""

_ELEMENTWISE = frozenset({"sigmoid", "tanh", "softplus", "relu", "leaky_relu", "identity"})
"""The activations :func:`oracles.compare._sigma_terms` has a rule for."""

_OUTPUTS = _ELEMENTWISE | {"softmax"}

_SQUARED = frozenset({"half_mse", "half_sse", "mse"})

_COSTS = _SQUARED | {"bce", "softmax_ce"}
"""The costs :func:`oracles.compare._output_errors` has a rule for."""


def _size(case: object) -> int | None:
    """The index in SIZES of the batches ``case`` goes with; None: large or unusual (error_bound alone)."""
    if not isinstance(case, Case):
        return None
    arch = case.arch
    acts = arch.activations
    if not (arch.dtype in _ROUNDOFF and arch.cost in _COSTS and acts[-1] in _OUTPUTS
            and _ELEMENTWISE.issuperset(acts[:-1])):
        return None
    width, samples = max(arch.widths), case.x.shape[1] if case.x.ndim == 2 else 1
    for k, (w, b) in enumerate(SIZES):
        if width <= w and 1 <= samples <= b:
            return k
    return None


def batchable(case: object) -> bool:
    """Whether :func:`error_bound_many` may compute ``case`` with others (else it calls :func:`error_bound`)."""
    return _size(case) is not None


def error_bound_many(cases: Sequence[Case]) -> list[ErrorBound]:
    """``[error_bound(c) for c in cases]``, computed for the small cases together.

    Each bound matches :func:`error_bound`'s: every array to a few ulps (same shapes, float64), the same
    ``kinks`` and ``unit_roundoff``.  A batched bound's arrays are views into the batch's padded arrays
    (a few hundred kB per batch, alive while any of its bounds is).
    """
    out: list[ErrorBound | None] = [None] * len(cases)
    sizes: dict[int | None, list[int]] = defaultdict(list)
    for k, case in enumerate(cases):
        sizes[_size(case)].append(k)
    for size, members in sizes.items():
        if size is None or len(members) < MIN_CASES:
            for k in members:
                out[k] = error_bound(cases[k])
            continue
        parts = -(-len(members) // MAX_CASES)
        step = -(-len(members) // parts)  # equal parts, none tiny
        for start in range(0, len(members), step):
            part = members[start:start + step]
            for k, eb in zip(part, _Batch([cases[k] for k in part]).bounds()):
                out[k] = eb if eb is not None else error_bound(cases[k])  # not finite: error_bound's own result
    return out  # type: ignore[return-value]


def _pack(arrays: list[np.ndarray], live: np.ndarray) -> np.ndarray:
    """The cases' arrays in one zero-padded float64 array of ``live``'s shape, each in its ``live`` corner.

    ``live[i]`` is True on a leading block of the shape of ``arrays[i]`` (its C-order entries, in order).
    """
    out = np.zeros(live.shape)
    out[live] = np.concatenate(arrays, axis=None)
    return out


def _joined(parts: list[Any]) -> Any:
    """The runs' arrays (or Nones) as one array over their cases, in run order."""
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _runs(keys: list) -> list[tuple[Any, int, int]]:
    """(key, start, stop) of each run of equal consecutive keys (start:stop indexes ``keys``)."""
    out, start = [], 0
    for key, members in groupby(keys):
        stop = start + sum(1 for _ in members)
        out.append((key, start, stop))
        start = stop
    return out


def _fill(shape: tuple[int, ...], blocks: list[tuple[int, int, np.ndarray]]) -> np.ndarray:
    """An array of ``shape``: each (start, stop, block) in rows start:stop (leading units and samples), else 0."""
    if len(blocks) == 1 and blocks[0][2].shape[0] == shape[0] and blocks[0][2].shape[2] == shape[2]:
        block = blocks[0][2]
        if block.shape[1] >= shape[1]:  # no copy (units beyond `shape` are padding of every case)
            return block[:, :shape[1]]
    out = np.zeros(shape)
    for start, stop, block in blocks:
        n, b = min(block.shape[1], shape[1]), block.shape[2]  # units beyond `shape`: padding of every case
        out[start:stop, :n, :b] = block[:, :n]
    return out


@functools.cache
def _mask_table(n: int, B: int) -> tuple[np.ndarray, np.ndarray]:
    """(units[w], live[w, b]): the leading w of n units, and the leading (w, b) of (n, B) entries.

    Gathering masks from these tables is several times faster than broadcasting comparisons per batch.
    """
    units = np.arange(n) < np.arange(n + 1)[:, None]
    live = units[:, None, :, None] & (np.arange(B) < np.arange(B + 1)[:, None])[None, :, None, :]
    return units, live


_NAMES = (*sorted(_ELEMENTWISE), "softmax")
"""Activation names by code; ``_DONE`` (after them) marks a case whose output layer a step reaches."""
_CODE = {name: i for i, name in enumerate(_NAMES)}
_DONE = len(_NAMES)
_KINDS = ("squared", "bce", "softmax_ce")
"""Kinds of cost by code (the output's cases are ordered by kind, then by activation)."""


class _Step:
    """The cases of one step (or of the output layer), in the step's order, with their sizes and masks.

    ``order[i]`` is the case at position i: the ``members`` sorted by ``codes`` (over all cases), so that
    the cases of one code form a run; ``runs`` lists (code, start, stop).  ``n_in``/``n_out`` (over all
    cases): the widths of the layers the step maps from and to.
    """

    def __init__(self, members: np.ndarray, codes: np.ndarray, n_in: np.ndarray, n_out: np.ndarray,
                 batch: np.ndarray, rounding: np.ndarray) -> None:
        codes = codes[members]
        sort = np.argsort(codes, kind="stable")
        self.index = members[sort]
        self.order = self.index.tolist()
        C = len(self.order)
        codes = codes[sort]
        cuts = [0, *(np.flatnonzero(codes[1:] != codes[:-1]) + 1).tolist(), C]
        self.runs = [(int(codes[a]), a, b) for a, b in zip(cuts[:-1], cuts[1:])]
        self.position = np.full(len(n_in), -1)  # case → its position in this step (-1: not in it)
        self.position[self.index] = np.arange(C)
        w_in, w_out, B = n_in[self.index], n_out[self.index], batch[self.index]
        units, live = _mask_table(int(w_in.max()), int(B.max()))
        self.units_in, self.live_in = units[w_in], live[w_in, B]  # the real entries of the (units, samples) below
        units, live = _mask_table(int(w_out.max()), int(B.max()))
        self.units_out, self.live_out = units[w_out], live[w_out, B]  # and above
        self.live_W = _mask_table(int(w_out.max()), int(w_in.max()))[1][w_out, w_in]  # of W (units out, units in)
        self.n_in, self.n_out, self.B = (v.reshape(C, 1, 1) for v in (w_in, w_out, B))
        self.u, self.tiny = rounding[self.index].T.reshape(2, C, 1, 1)
        self.sizes_out = (w_out * B).tolist()
        self.widths_in, self.widths_out = w_in.tolist(), w_out.tolist()
        self.batch = B.tolist()


class _Batch:
    """Cases computed together: the forward steps, the output layers, the backward steps."""

    def __init__(self, cases: list[Case]) -> None:
        self.cases = cases
        C = len(cases)
        self.layers = [len(c.weights) for c in cases]
        T = max(self.layers)
        widths, acts, batch, rounding, kinds, factor = [], [], [], [], [], []
        for c in cases:
            a = c.arch
            widths.append(a.widths + (0,) * (T + 1 - len(a.widths)))
            acts.append([_CODE[name] for name in a.activations] + [_DONE] * (T - len(a.activations)))
            B = c.x.shape[1] if c.batched else 1
            batch.append(B)
            rounding.append(_ROUNDOFF[a.dtype])
            squared = a.cost in _SQUARED
            kinds.append(_KINDS.index("squared" if squared else a.cost))
            factor.append(_squared_factor(a.cost, a.widths[-1], B) if squared else 0.0)
        widths, acts, batch, rounding = np.array(widths), np.array(acts), np.array(batch), np.array(rounding)
        layers = np.array(self.layers)
        self.u = rounding[:, 0].tolist()
        # step t: the cases with a weight layer t, by the activation of layer t + 1; those whose output layer
        # that is (_DONE) after the others
        self.steps = {t: _Step(np.flatnonzero(layers >= t), np.where(layers > t, acts[:, t - 1], _DONE),
                               widths[:, t - 1], widths[:, t], batch, rounding) for t in range(1, T + 1)}
        # the output layers: by kind of cost, then by activation (softmax last: a kind's softmax cases form a run)
        n_out = widths[np.arange(C), layers]
        self.out = _Step(np.arange(C), np.array(kinds) * len(_NAMES) + acts[np.arange(C), layers - 1], n_out,
                         n_out, batch, rounding)
        self.factor = np.array(factor)[self.out.index].reshape(-1, 1, 1)
        # error_bound's own float64 arrays (a float64 case's are already)
        self.Ws = [c.weights if c.arch.dtype == "float64" else [np.asarray(W, np.float64) for W in c.weights]
                   for c in cases]

    def _carry(self, arrays: tuple, t: int) -> tuple:
        """Layer t + 1's arrays of step t's continuing cases (rows 0:h), in step t + 1's order and shape."""
        src, dst = self.steps[t], self.steps[t + 1]
        n, b = dst.live_in.shape[1:]
        if src.order == dst.order:
            return tuple(None if a is None else a[:, :n, :b] for a in arrays)
        take = src.position[dst.index]
        return tuple(None if a is None else a[take, :n, :b] for a in arrays)

    def _z(self, t: int, a_cases: list[np.ndarray], b: np.ndarray) -> np.ndarray:
        """z = W^(t) a^(t) + b^(t) of step t's cases, each by error_bound's expression, padded."""
        step = self.steps[t]
        Wa = _pack([_product(self.Ws[c][t - 1], a_cases[c]) for c in step.order], step.live_out)
        return Wa + b[:, :, None]

    def _per_case(self, padded: np.ndarray, step: _Step, a_cases: list[np.ndarray]) -> None:
        """Each of the step's first cases' (units, samples) array of ``padded`` into ``a_cases`` (case index)."""
        h = len(padded)
        flat = padded[step.live_out[:h]]
        start = 0
        for c, size, B in zip(step.order[:h], step.sizes_out, step.batch):
            a_cases[c] = flat[start:start + size].reshape(size // B, B)
            start += size

    def bounds(self) -> list[ErrorBound | None]:
        """The bound of every case (case order); None where it is not finite."""
        cases, steps = self.cases, self.steps
        T = len(steps)
        kinks: dict[int, list[tuple[int, int]]] = defaultdict(list)
        a_cases = [x if x.ndim == 2 else x[:, None] for x in (np.asarray(c.x, np.float64) for c in cases)]
        W, abs_W = {}, {}
        below: dict[int, tuple] = {}  # layer t's |a|, E_a, σ', |σ'|, E_σ' in step t's order
        last: list[tuple[int, np.ndarray, np.ndarray]] = []  # (t, z, E_z) of the cases whose output is layer t + 1
        hidden: tuple = ()  # layer t + 1's |a|, E_a, σ', |σ'|, E_σ' of step t's continuing cases
        dz: tuple = ()  # ∂C/∂z, its |terms| and E_dz of layer t + 1 in step t + 1's order
        with np.errstate(all="ignore"):  # a case that overflows is recomputed by error_bound, with its warnings
            for t in range(1, T + 1):
                step = steps[t]
                if t == 1:
                    x = _pack([cases[c].x for c in step.order], step.live_in)
                    below[t] = (np.abs(x), np.zeros(x.shape), None, None, None)
                else:
                    below[t] = self._carry(hidden, t - 1)
                abs_a, Ea = below[t][:2]
                W[t] = _pack([self.Ws[c][t - 1] for c in step.order], step.live_W)
                abs_W[t] = np.abs(W[t])
                b = _pack([cases[c].biases[t - 1] for c in step.order], step.units_out)
                z = self._z(t, a_cases, b)
                Ez = _preactivation_bound(abs_W[t], b, abs_a, Ea, step.n_in, step.u, step.tiny)
                parts = [self._sigma(step, _NAMES[code], lo, hi, z, Ez, kinks, t + 1)
                         for code, lo, hi in step.runs if code != _DONE]
                if parts:
                    an, abs_an, s1, abs_s1, Ea, Es1 = (_joined([p[k] for p in parts]) for k in range(6))
                    hidden = (abs_an, Ea, s1, abs_s1, Es1)
                    self._per_case(an, step, a_cases)
                if step.runs[-1][0] == _DONE:
                    h = step.runs[-1][1]
                    last.append((t, z[h:], Ez[h:]))

            dz_out = self._output(last, kinks)

            EW, Eb, SW, Sb = {}, {}, {}, {}
            for t in range(T, 0, -1):
                step = steps[t]
                blocks = []
                if t < T:  # the continuing cases: ∂C/∂z of layer t + 1 from step t + 1
                    take = steps[t + 1].position[step.index[:len(steps[t + 1].order)]]
                    blocks.append([(0, len(take), d[take]) for d in dz])
                if step.runs[-1][0] == _DONE:  # the cases whose output layer is t + 1
                    h = step.runs[-1][1]
                    rows = self.out.position[step.index[h:]]
                    blocks.append([(h, len(step.order), d[rows, :, :step.live_out.shape[2]]) for d in dz_out])
                dz = tuple(_fill(step.live_out.shape, [blk[k] for blk in blocks]) for k in range(3))
                abs_a, Ea, s1, abs_s1, Es1 = below[t]
                EW[t], Eb[t], SW[t], Sb[t] = _weight_errors(*dz, abs_a, Ea, step.B, step.u, step.tiny)
                if t > 1:
                    dz = _backprop_errors(W[t], abs_W[t], *dz, step.n_out, s1, abs_s1, Es1, step.u, step.tiny)
                    dz = (dz[0], dz[1], dz[2] * step.live_in)  # E_δ of a padded unit or sample is n·tiny, not 0

            finite = np.ones(len(cases), bool)
            for t, step in steps.items():
                for E in (EW[t], SW[t], Eb[t], Sb[t]):
                    if not np.isfinite(E).all():
                        finite[step.index] &= np.isfinite(E.reshape(len(E), -1)).all(axis=1)

        # every case's arrays, one step at a time: (E_W, E_b, S_W, S_b) of its layers, in order
        per_case: list[list[tuple]] = [[] for _ in cases]
        for t, step in steps.items():
            E, e, S, s = EW[t], Eb[t], SW[t], Sb[t]
            for i, (c, n, m) in enumerate(zip(step.order, step.widths_out, step.widths_in)):
                per_case[c].append((E[i, :n, :m], e[i, :n], S[i, :n, :m], s[i, :n]))
        out: list[ErrorBound | None] = []
        for c, arrays in enumerate(per_case):
            if finite[c]:
                EWc, Ebc, SWc, Sbc = zip(*arrays)
                out.append(ErrorBound(EWc, Ebc, SWc, Sbc, tuple(sorted(set(kinks[c]))) if c in kinks else (),
                                      self.u[c]))
            else:
                out.append(None)
        return out

    def _sigma(self, step: _Step, name: str, lo: int, hi: int, z: np.ndarray, Ez: np.ndarray,
               kinks: dict[int, list[tuple[int, int]]], layer: int | None) -> tuple:
        """(a, |a|, σ', |σ'|, E_a, E_σ') of the run lo:hi of ``step``'s cases, whose activation is ``name``.

        ``layer``: the layer's number, for the kinks (None: each case's output layer).
        """
        zs, Ezs, live = z[lo:hi], Ez[lo:hi], step.live_out[lo:hi]
        f = get_activation(name).f
        if name == "softmax":  # f normalises over axis 0: units first (contiguous: faster), padded out (e^-inf = 0)
            units_first = np.ascontiguousarray(np.moveaxis(np.where(step.units_out[lo:hi, :, None], zs, -np.inf), 1, 0))
            an = np.ascontiguousarray(np.moveaxis(f(units_first), 0, 1))
        else:
            an = f(zs)
        an = an * live
        abs_an = np.abs(an)
        s1, abs_s1, Ea, Es1 = _activation_errors(name, zs, an, abs_an, Ezs, step.n_out[lo:hi], step.u[lo:hi],
                                                 step.tiny[lo:hi])
        if name in KINKED:
            near = (_near_kink(zs, Ezs) & live).any(axis=2)
            for i, unit in zip(*np.nonzero(near)):
                c = step.order[lo + int(i)]
                kinks[c].append((layer if layer is not None else self.layers[c] + 1, int(unit)))
        return an, abs_an, s1, abs_s1, Ea, Es1

    def _output(self, last: list[tuple[int, np.ndarray, np.ndarray]],
                kinks: dict[int, list[tuple[int, int]]]) -> tuple:
        """(∂C/∂z^(N), its |terms|, E_dz) of every case (output order), zero on padded units and samples."""
        out = self.out
        z, Ez = np.zeros(out.live_out.shape), np.zeros(out.live_out.shape)
        for t, zt, Ezt in last:
            rows = out.position[self.steps[t].index[-len(zt):]]
            n, b = min(zt.shape[1], z.shape[1]), zt.shape[2]  # units beyond z's are padding of every output
            z[rows, :n, :b], Ez[rows, :n, :b] = zt[:, :n], Ezt[:, :n]
        y = _pack([self.cases[c].y for c in out.order], out.live_out)
        parts = []
        # one cost formula per kind of cost and softmax or not: the activations' runs in it, together
        groups = _runs([(code // len(_NAMES), code % len(_NAMES) == _CODE["softmax"]) for code, lo, hi in out.runs])
        for (kind, softmax), first, stop in groups:
            runs = out.runs[first:stop]
            terms = [self._sigma(out, _NAMES[code % len(_NAMES)], start, stop, z, Ez, kinks, None)
                     for code, start, stop in runs]
            an, abs_an, s1, abs_s1, Ea, Es1 = (_joined([p[k] for p in terms]) for k in range(6))
            lo, hi = runs[0][1], runs[-1][2]
            parts.append(_output_errors(_KINDS[kind], "softmax" if softmax else "elementwise", an, abs_an, Ea,
                                        y[lo:hi], out.B[lo:hi], out.n_out[lo:hi], out.u[lo:hi], out.tiny[lo:hi],
                                        s1, abs_s1, Es1, self.factor[lo:hi]))
        return tuple(_joined([p[k] for p in parts]) * out.live_out for k in range(3))
